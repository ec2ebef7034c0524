using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using BananaLab.Core.Catalog;
using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using BananaLab.Core.Moderation;
using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using BananaLab.Worker.Providers.Gemini;
using Microsoft.EntityFrameworkCore;
using SkiaSharp;

namespace BananaLab.Tests.Providers.Gemini;

/// <summary>
/// The <c>gemini</c> provider end to end: a BananaLab host whose catalog points at <see cref="FakeGeminiApi"/> on loopback.
/// Each failure kind has a catalog entry of its own, so a model switched off or a circuit opened by one test leaves the
/// others alone.
/// </summary>
public sealed class GeminiProviderTests(GeminiProviderTests.GeminiFactory factory) : IClassFixture<GeminiProviderTests.GeminiFactory>
{
    public sealed class GeminiFactory : RemoteProviderHostFactory
    {
        public const string Model = "gemini-ok";
        public const string Keyless = "gemini-keyless";
        public static readonly string[] FailureModels = ["429", "500", "refuse-prompt", "refuse-image", "empty", "broken", "401", "bad-key", "hang"];

        public FakeGeminiApi Api { get; } = new();

        protected override IDictionary<string, string?> Models
        {
            get
            {
                var settings = new Dictionary<string, string?>();
                foreach (var id in FailureModels.Select(f => $"gemini-{f}").Append(Model).Append(Keyless))
                    AddEntry(settings, id, GeminiImageGenerator.ProviderName, Api.Server.BaseUrl, id == Keyless ? null : FakeGeminiApi.Key,
                        "gemini-2.5-flash-image", timeoutSeconds: id == "gemini-hang" ? 2 : 30);
                return settings;
            }
        }

        protected override IAsyncDisposable Service => Api;
    }

    [Fact]
    public async Task A_task_sends_the_documented_request_and_stores_the_final_image_not_the_draft()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 40);
        using var client = factory.CreateClient(key);
        var prompt = $"a banana in a tuxedo {Guid.NewGuid():N}";

        var done = await client.WaitForTerminalAsync((await client.SubmitAsync(new
        {
            model = GeminiFactory.Model, prompt, size = "1K", aspectRatio = "1:1", outputFormat = "png",
        })).Id);

        Assert.Equal("succeeded", done.Status);
        var call = Assert.Single(factory.Api.Server.CallsFor(prompt));
        Assert.Equal("/v1beta/models/gemini-2.5-flash-image:generateContent", call.Path);
        Assert.Equal("", call.Query); // the key travels in its header, never in the URL
        Assert.Equal(FakeGeminiApi.Key, call.Headers["x-goog-api-key"]);
        var config = call.Body.GetProperty("generationConfig");
        Assert.Equal(["IMAGE"], config.GetProperty("responseModalities").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal("1:1", config.GetProperty("imageConfig").GetProperty("aspectRatio").GetString());
        Assert.Equal(1, call.Body.GetProperty("contents")[0].GetProperty("parts").GetArrayLength());
        // The answer already has the task's exact size and format: stored byte for byte.
        Assert.Equal(FakeGeminiApi.Image, await client.GetByteArrayAsync($"/api/v1/tasks/{done.Id}/images/0"));
        var record = await factory.RecordOfAsync(done.Id);
        Assert.Equal([CreditEntryKind.Reserve, CreditEntryKind.Capture], record.Credits);
        Assert.Equal([(TaskAttemptOutcome.Succeeded, (string?)null)], record.Attempts);
    }

    [Fact]
    public async Task A_reference_image_travels_as_inline_data_and_the_aspect_ratio_in_the_image_configuration()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 40);
        using var client = factory.CreateClient(key);
        var prompt = $"the same, at dusk {Guid.NewGuid():N}";
        var reference = ScriptedGenerator.SolidPng(new SKColor(200, 180, 40), 32);

        var done = await client.WaitForTerminalAsync((await client.SubmitAsync(new
        {
            model = GeminiFactory.Model, prompt, size = "1K", aspectRatio = "16:9", referenceImage = Convert.ToBase64String(reference),
        })).Id);

        Assert.Equal("succeeded", done.Status);
        Assert.Equal((1024, 576), (done.Width, done.Height));
        var call = Assert.Single(factory.Api.Server.CallsFor(prompt));
        Assert.Equal("16:9", call.Body.GetProperty("generationConfig").GetProperty("imageConfig").GetProperty("aspectRatio").GetString());
        var parts = call.Body.GetProperty("contents")[0].GetProperty("parts");
        Assert.Equal(prompt, parts[0].GetProperty("text").GetString());
        var inline = parts[1].GetProperty("inline_data");
        Assert.Equal("image/png", inline.GetProperty("mime_type").GetString());
        Assert.Equal(reference, Convert.FromBase64String(inline.GetProperty("data").GetString()!));
    }

    [Fact]
    public async Task Several_images_make_one_call_each()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 40);
        using var client = factory.CreateClient(key);
        var prompt = $"three bananas {Guid.NewGuid():N}";

        var done = await client.WaitForTerminalAsync((await client.SubmitAsync(new { model = GeminiFactory.Model, prompt, count = 3 })).Id);

        Assert.Equal("succeeded", done.Status);
        Assert.Equal(3, done.Images.Count);
        Assert.Equal(3, factory.Api.Server.CallsFor(prompt).Count);
        Assert.Equal([CreditEntryKind.Reserve, CreditEntryKind.Capture], (await factory.RecordOfAsync(done.Id)).Credits);
    }

    /// <summary>Each failure the service can answer with: the task's end, how many calls it made, its attempts, its one settlement.</summary>
    [Theory]
    [InlineData("500", "provider_error", 3)]
    [InlineData("empty", "no_image", 3)]
    [InlineData("broken", "no_image", 3)]
    [InlineData("refuse-prompt", "blocked_by_provider", 1)]
    [InlineData("refuse-image", "blocked_by_provider", 1)]
    [InlineData("401", "provider_auth_failed", 1)]
    [InlineData("bad-key", "provider_auth_failed", 1)]
    public async Task A_failure_ends_the_task_with_its_code_after_the_attempts_it_deserves_and_releases_the_credits_once(
        string failure, string code, int calls)
    {
        var (_, key) = await factory.CreateUserAsync(credits: 40);
        using var client = factory.CreateClient(key);
        var prompt = $"a banana [{failure}] {Guid.NewGuid():N}";
        await factory.SwitchOnAsync($"gemini-{failure}");

        var done = await client.WaitForTerminalAsync((await client.SubmitAsync(new { model = $"gemini-{failure}", prompt })).Id);

        await factory.AssertFailedAndReleasedAsync(done, code, attempts: calls);
        Assert.Equal(calls, factory.Api.Server.CallsFor(prompt).Count);
        Assert.Equal(40, (await (await client.GetAsync("/api/v1/credits")).ReadJsonAsync()).GetProperty("balance").GetInt32());
        Assert.DoesNotContain(FakeGeminiApi.Key, done.Error?.Message);
        Assert.DoesNotContain("Test failure", done.Error?.Message); // never the provider's own text
    }

    [Fact]
    public async Task A_refusal_is_recorded_for_the_admins_with_the_providers_reason_and_the_user_sees_the_neutral_message()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 40);
        using var client = factory.CreateClient(key);

        var done = await client.WaitForTerminalAsync((await client.SubmitAsync(new
        {
            model = "gemini-refuse-image", prompt = $"something [refuse-image] {Guid.NewGuid():N}",
        })).Id);

        Assert.Equal(ModerationDecision.NeutralMessage, done.Error?.Message);
        await using var db = await factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        var decision = await db.Set<ModerationDecisionRecord>().SingleAsync(r => r.TaskId == done.Id && r.Subject == "provider");
        Assert.False(decision.Allowed);
        Assert.Contains("IMAGE_SAFETY", decision.Note);
    }

    [Fact]
    public async Task A_rate_limit_is_retried_after_the_time_the_service_asked_for()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 40);
        using var client = factory.CreateClient(key);
        var prompt = $"a banana [429] {Guid.NewGuid():N}";

        var done = await client.WaitForTerminalAsync((await client.SubmitAsync(new { model = "gemini-429", prompt })).Id);

        await factory.AssertSucceededAfterRetryAfterAsync(done, factory.Api.Server.CallsFor(prompt));
    }

    [Fact]
    public async Task A_service_that_never_answers_fails_the_task_at_its_timeout_and_the_call_is_dropped()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 40);
        using var client = factory.CreateClient(key);
        var prompt = $"a banana [hang] {Guid.NewGuid():N}";
        var clock = Stopwatch.StartNew();

        var done = await client.WaitForTerminalAsync((await client.SubmitAsync(new { model = "gemini-hang", prompt })).Id);

        Assert.Equal("failed", done.Status);
        Assert.Equal("provider_timeout", done.Error?.Code);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(12));
        Assert.Single(factory.Api.Server.CallsFor(prompt));
        var record = await factory.RecordOfAsync(done.Id);
        Assert.Equal([(TaskAttemptOutcome.Failed, "provider_timeout")], record.Attempts);
        Assert.Equal([CreditEntryKind.Reserve, CreditEntryKind.Release], record.Credits);
        await RemoteProviderHostFactory.WaitUntilAsync(() => factory.Api.Abandoned.Contains(prompt));
    }

    [Fact]
    public async Task A_model_without_a_key_is_listed_switched_off_naming_the_setting_and_refused()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 40);
        using var client = factory.CreateClient(key);

        var refused = await client.PostAsJsonAsync("/api/v1/tasks", new { model = GeminiFactory.Keyless, prompt = "a banana" });

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        var problem = await refused.ReadJsonAsync();
        Assert.Equal("model_unavailable", problem.GetProperty("code").GetString());
        Assert.Contains($"Models:{GeminiFactory.Keyless}:ApiKey is not set", problem.GetProperty("detail").GetString());
        var models = await (await client.GetAsync("/api/v1/models")).ReadJsonAsync();
        var listed = models.EnumerateArray().Single(m => m.GetProperty("id").GetString() == GeminiFactory.Keyless);
        Assert.False(listed.GetProperty("available").GetBoolean());
        Assert.Equal(40, (await (await client.GetAsync("/api/v1/credits")).ReadJsonAsync()).GetProperty("balance").GetInt32());
    }

    [Fact]
    public async Task The_key_never_appears_in_the_logs_whatever_the_service_answers()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 100);
        using var client = factory.CreateClient(key);
        var tasks = new List<Guid>();
        await factory.SwitchOnAsync("gemini-401");
        foreach (var model in new[] { GeminiFactory.Model, "gemini-401", "gemini-500", "gemini-refuse-prompt", "gemini-broken" })
            tasks.Add((await client.SubmitAsync(new { model, prompt = $"a banana [{model[7..]}] {Guid.NewGuid():N}" })).Id);
        foreach (var id in tasks) await client.WaitForTerminalAsync(id);

        // The capture saw the outbound calls at every level (HttpClient logs request headers at Trace).
        Assert.Contains(factory.Logs.Lines, line => line.StartsWith("Trace System.Net.Http.HttpClient.gemini", StringComparison.Ordinal));
        factory.AssertNotLogged(FakeGeminiApi.Key);
    }

    [Fact]
    public void An_entry_without_RemoteModel_stops_start_up_naming_the_key()
    {
        var options = new ModelCatalogOptions();
        options.Models["nano"] = new ModelDefinition { Provider = "gemini", ApiKey = "secret-value" };
        options.Models["other"] = new ModelDefinition { Provider = "onnx" };

        var result = new GeminiCatalogValidator().Validate(null, options);

        Assert.True(result.Failed);
        var failure = Assert.Single(result.Failures!);
        Assert.StartsWith("Models:nano:RemoteModel is required", failure);
        Assert.DoesNotContain("secret-value", failure);
    }
}
