using System.Net;
using System.Net.Http.Json;
using BananaLab.Core.Credits;
using BananaLab.Core.Moderation;
using BananaLab.Core.Storage;
using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Api.Tasks;
using Microsoft.Extensions.DependencyInjection;
using SkiaSharp;

namespace BananaLab.Tests.Providers.OpenAI;

/// <summary>
/// The <c>openai</c> provider against a loopback server that answers as OpenAI's Images API does: what it asks for each kind of
/// model, and every failure kind, each ending in the stated outcome with exactly one settlement of the task's credits.
/// </summary>
public sealed class OpenAiProviderTests(OpenAiProviderFactory factory) : IClassFixture<OpenAiProviderFactory>
{
    [Fact]
    public async Task A_compatible_server_is_asked_for_the_exact_size_in_base64_and_the_image_is_stored_as_it_came()
    {
        var (user, key) = await factory.CreateUserAsync(credits: 50);
        using var client = factory.CreateClient(key);
        var prompt = Unique("a lighthouse at dusk");

        var task = await RunAsync(client, new { model = OpenAiProviderFactory.Compatible, prompt, size = "1K", aspectRatio = "16:9", count = 2 });

        Assert.Equal("succeeded", task.Status);
        var call = Assert.Single(factory.Remote.CallsFor(prompt));
        Assert.Equal(("generations", "fake-image-model", "1024x576", 2), (call.Path, call.Model, call.Size, call.N));
        Assert.Equal(("b64_json", "png"), (call.ResponseFormat, call.OutputFormat));
        Assert.Equal($"Bearer {factory.Key}", call.Authorization);
        Assert.Equal(2, task.Images.Count);
        foreach (var index in new[] { 0, 1 })
            Assert.Equal(OpenAiLikeServer.Png(1024, 576), await StoredImageAsync(task.Id, index));
        await AssertSettledOnceAsync(user.Id, task.Id, CreditEntryKind.Capture, 50 - 6);
    }

    [Fact]
    public async Task A_gpt_image_model_is_asked_for_its_nearest_size_without_response_format_and_finished_to_the_tier_size()
    {
        var (user, key) = await factory.CreateUserAsync(credits: 50);
        using var client = factory.CreateClient(key);
        var prompt = Unique("a tall cactus");

        var task = await RunAsync(client, new { model = OpenAiProviderFactory.GptImage, prompt, size = "1K", aspectRatio = "9:16", outputFormat = "jpeg" });

        Assert.Equal("succeeded", task.Status);
        var call = Assert.Single(factory.Remote.CallsFor(prompt));
        Assert.Equal(("gpt-image-1", "1024x1536", (string?)null, "jpeg"), (call.Model, call.Size, call.ResponseFormat, call.OutputFormat));
        using var stored = SKBitmap.Decode(await StoredImageAsync(task.Id, 0));
        Assert.Equal((576, 1024), (stored.Width, stored.Height));
        await AssertSettledOnceAsync(user.Id, task.Id, CreditEntryKind.Capture, 47);
    }

    [Fact]
    public async Task A_reference_image_goes_through_the_edits_endpoint()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 50);
        using var client = factory.CreateClient(key);
        var prompt = Unique("the same banana in a spacesuit");
        var reference = Convert.ToBase64String(OpenAiLikeServer.Png(256, 256));

        var task = await RunAsync(client, new { model = OpenAiProviderFactory.Compatible, prompt, referenceImage = reference });

        Assert.Equal("succeeded", task.Status);
        var call = Assert.Single(factory.Remote.CallsFor(prompt));
        Assert.Equal(("edits", true, "1024x1024", "b64_json"), (call.Path, call.HasImage, call.Size, call.ResponseFormat));
    }

    public static TheoryData<string, string, string, int> Failures => new()
    {
        // prompt directive, model, the task's error code, how many calls the remote saw (Worker:MaxAttempts is 3)
        { "[401]", OpenAiProviderFactory.AuthRefused, "provider_auth_failed", 1 },
        { "[500]", OpenAiProviderFactory.Outage, "provider_error", 3 },
        { "[refuse]", OpenAiProviderFactory.Compatible, "blocked_by_provider", 1 },
        { "[empty]", OpenAiProviderFactory.Compatible, "no_image", 3 },
        { "[bad-base64]", OpenAiProviderFactory.Compatible, "no_image", 3 },
        { "[not-an-image]", OpenAiProviderFactory.Compatible, "no_image", 3 },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public async Task Each_failure_kind_ends_as_stated_and_gives_the_credits_back_once(string directive, string model, string code, int calls)
    {
        var (user, key) = await factory.CreateUserAsync(credits: 50);
        using var client = factory.CreateClient(key);
        var prompt = Unique($"{directive} a quiet pond");

        var task = await RunAsync(client, new { model, prompt });

        Assert.Equal("failed", task.Status);
        Assert.Equal(code, task.Error?.Code);
        Assert.DoesNotContain(factory.Key, task.Error!.Message);
        Assert.Equal(calls, factory.Remote.CallsFor(prompt).Count());
        await AssertSettledOnceAsync(user.Id, task.Id, CreditEntryKind.Release, 50);
    }

    [Fact]
    public async Task A_provider_that_cannot_be_reached_is_retried_then_fails_with_provider_error_and_gives_the_credits_back_once()
    {
        var (user, key) = await factory.CreateUserAsync(credits: 50);
        using var client = factory.CreateClient(key);

        var task = await RunAsync(client, new { model = OpenAiProviderFactory.Unreachable, prompt = "a distant island" });

        Assert.Equal(("failed", "provider_error", 3), (task.Status, task.Error?.Code, task.Attempts));
        await AssertSettledOnceAsync(user.Id, task.Id, CreditEntryKind.Release, 50);
    }

    [Fact]
    public async Task A_content_refusal_shows_our_neutral_message_and_records_the_providers_reason_for_admins()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 50);
        using var client = factory.CreateClient(key);

        var task = await RunAsync(client, new { model = OpenAiProviderFactory.Compatible, prompt = Unique("[refuse] a pond") });

        Assert.Equal(ModerationDecision.NeutralMessage, task.Error?.Message);
        var decisions = await factory.Services.GetRequiredService<ModerationLog>().ForTaskAsync(task.Id, CancellationToken.None);
        var record = Assert.Single(decisions, d => !d.Allowed); // beside our own moderation's approval of the prompt
        Assert.Equal("provider", record.Categories);
        Assert.Equal($"content_policy_violation: {OpenAiLikeServer.RefusalMessage}", record.Note);
    }

    [Fact]
    public async Task A_429_is_retried_no_sooner_than_its_Retry_After_and_then_charged_once()
    {
        var (user, key) = await factory.CreateUserAsync(credits: 50);
        using var client = factory.CreateClient(key);
        var prompt = Unique("[429-once] a busy harbour");

        var task = await RunAsync(client, new { model = OpenAiProviderFactory.Compatible, prompt });

        Assert.Equal("succeeded", task.Status);
        var calls = factory.Remote.CallsFor(prompt).ToList();
        Assert.Equal(2, calls.Count);
        Assert.True(calls[1].At - calls[0].At >= TimeSpan.FromSeconds(1), $"retried after {(calls[1].At - calls[0].At).TotalMilliseconds} ms");
        Assert.Equal(2, task.Attempts);
        await AssertSettledOnceAsync(user.Id, task.Id, CreditEntryKind.Capture, 47);
    }

    [Fact]
    public async Task A_seed_for_an_openai_model_is_a_400_naming_the_option_and_the_model_and_charges_nothing()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 50);
        using var client = factory.CreateClient(key);

        var response = await client.PostAsJsonAsync("/api/v1/tasks", new { model = OpenAiProviderFactory.Compatible, prompt = "a fern", seed = 7 });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await response.ReadJsonAsync();
        Assert.Equal("invalid_seed", error.GetProperty("code").GetString());
        Assert.Contains(OpenAiProviderFactory.Compatible, error.GetProperty("detail").GetString());
        Assert.Equal(50, (await (await client.GetAsync("/api/v1/credits")).ReadJsonAsync()).GetProperty("balance").GetInt32());
    }

    [Fact]
    public async Task Models_say_what_each_openai_family_takes()
    {
        using var client = factory.CreateClient(BananaLabFactory.AdminApiKey);
        var models = (await (await client.GetAsync("/api/v1/models")).ReadJsonAsync()).EnumerateArray()
            .ToDictionary(m => m.GetProperty("id").GetString()!);

        var compatible = models[OpenAiProviderFactory.Compatible];
        var capabilities = compatible.GetProperty("capabilities");
        Assert.Equal(5, capabilities.GetProperty("aspectRatios").GetArrayLength());
        foreach (var absent in new[] { "exactSizes", "seed", "steps", "guidance", "negativePrompt", "masks", "progress", "previews" })
            Assert.False(capabilities.GetProperty(absent).GetBoolean(), absent);
        Assert.Equal(1, capabilities.GetProperty("maxReferenceImages").GetInt32());
        Assert.Equal(4, compatible.GetProperty("maxImages").GetInt32());

        var dalle3 = models[OpenAiProviderFactory.DallE3];
        Assert.Equal(1, dalle3.GetProperty("maxImages").GetInt32()); // dall-e-3 makes one image a request
        Assert.Equal(0, dalle3.GetProperty("capabilities").GetProperty("maxReferenceImages").GetInt32()); // and has no edits
    }

    [Fact]
    public async Task A_model_without_a_key_is_refused_at_submission_naming_the_setting()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 50);
        using var client = factory.CreateClient(key);

        var response = await client.PostAsJsonAsync("/api/v1/tasks", new { model = OpenAiProviderFactory.NoKey, prompt = "a fern" });

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var error = await response.ReadJsonAsync();
        Assert.Equal("model_unavailable", error.GetProperty("code").GetString());
        Assert.Contains($"Models:{OpenAiProviderFactory.NoKey}:ApiKey is not set", error.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task The_key_never_reaches_the_logs_even_when_the_provider_echoes_it()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 50);
        using var client = factory.CreateClient(key);

        var ran = new[]
        {
            await RunAsync(client, new { model = OpenAiProviderFactory.Compatible, prompt = Unique("a logged success") }),
            await RunAsync(client, new { model = OpenAiProviderFactory.LogsAuthRefused, prompt = Unique("[401] a logged refusal") }),
            await RunAsync(client, new { model = OpenAiProviderFactory.Compatible, prompt = Unique("[refuse] a logged block") }),
        };

        Assert.Equal(["succeeded", "failed", "failed"], ran.Select(t => t.Status));
        Assert.Contains(factory.Remote.Calls, c => c.Prompt.Contains("[401] a logged refusal"));
        Assert.Contains(factory.Logs.Lines, l => l.Contains("provider_auth_failed")); // the logs were captured, and say what happened
        Assert.Empty(factory.Logs.Containing(factory.Key));
    }

    private static string Unique(string prompt) => $"{prompt} {Guid.NewGuid():N}";

    private static async Task<TaskResponse> RunAsync(HttpClient client, object body)
    {
        var submitted = await client.SubmitAsync(body);
        return await client.WaitForTerminalAsync(submitted.Id, timeoutSeconds: 60);
    }

    private async Task<byte[]> StoredImageAsync(Guid taskId, int index)
    {
        var task = (await factory.Services.GetRequiredService<TaskService>().GetAsync(taskId, null, CancellationToken.None))!.Task;
        var store = factory.Services.GetRequiredService<ImageStore>();
        return await File.ReadAllBytesAsync(store.FullPath(task.Images.Single(i => i.Index == index).FilePath));
    }

    /// <summary>The task reserved once and was settled once, the given way, leaving the given balance.</summary>
    private async Task AssertSettledOnceAsync(Guid userId, Guid taskId, CreditEntryKind settlement, int balance)
    {
        var ledger = factory.Services.GetRequiredService<CreditLedger>();
        var entries = (await ledger.GetEntriesAsync(userId, 0, 100)).Where(e => e.TaskId == taskId).Select(e => e.Kind).Order().ToList();
        Assert.Equal([CreditEntryKind.Reserve, settlement], entries);
        Assert.Equal(balance, await ledger.GetBalanceAsync(userId));
    }
}
