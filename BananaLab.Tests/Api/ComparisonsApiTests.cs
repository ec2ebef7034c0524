using System.Net;
using System.Net.Http.Json;
using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Api.Comparisons;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Tests.Api;

/// <summary>
/// <c>POST /api/v1/comparisons</c> and <c>GET /api/v1/comparisons/{id}</c> over real HTTP and SQLite, with three models on two
/// providers: the scripted ones ("test-model" 5 credits, "text-only-model" 1) fail on "[fail]", the remote-like one
/// ("remote-model" 3, no seed, one image a call) ignores it. So one prompt makes some models fail and another succeed.
/// </summary>
public sealed class ComparisonsApiTests(RemoteProviderFactory app) : IClassFixture<RemoteProviderFactory>
{
    private const string Scripted = BananaLabFactory.TestModel;
    private const string Remote = RemoteProviderFactory.RemoteModel;
    private const string TextOnly = BananaLabFactory.TextOnlyModel;

    [Fact]
    public async Task Each_model_is_charged_and_settled_on_its_own_and_a_failing_one_releases_only_its_credits()
    {
        var (user, key) = await app.CreateUserAsync(credits: 30);
        using var client = app.CreateClient(key);

        // The scripted models wait at the gate, so every reservation is still held when the balance is read.
        var gate = $"compare{Guid.NewGuid():N}";
        var response = await client.PostAsJsonAsync("/api/v1/comparisons",
            new { prompt = $"a lighthouse [gate:{gate}] [fail]", models = new[] { Scripted, Remote, TextOnly }, size = "1K", aspectRatio = "1:1" });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = (await response.Content.ReadFromJsonAsync<ComparisonResponse>(ApiClientExtensions.Json))!;
        Assert.Equal($"/api/v1/comparisons/{created.Id}", response.Headers.Location?.OriginalString);
        Assert.Equal(5 + 3 + 1, created.TotalCredits);
        Assert.Equal([Scripted, Remote, TextOnly], created.Models);
        Assert.Equal([5, 3, 1], created.Tasks.Select(t => t.CreditsReserved));
        Assert.All(created.Tasks, t => Assert.Equal(created.Id, t.ComparisonId));
        Assert.Equal(30 - 9, await BalanceAsync(user.Id));
        ScriptedGenerator.OpenGate(gate);

        var ended = new List<Web.Api.Tasks.TaskResponse>();
        foreach (var task in created.Tasks) ended.Add(await client.WaitForTerminalAsync(task.Id));
        Assert.Equal(["failed", "succeeded", "failed"], ended.Select(t => t.Status));
        Assert.Equal([0, 3, 0], ended.Select(t => t.CreditsCharged));
        Assert.All(ended, t => Assert.Equal(created.Id, t.ComparisonId));

        // One reservation and exactly one settlement per task: a capture for the one that succeeded, a release for each failure.
        var ledger = await LedgerAsync(user.Id);
        Assert.Equal([(CreditEntryKind.Reserve, 5), (CreditEntryKind.Release, 5)], ledger[ended[0].Id]);
        Assert.Equal([(CreditEntryKind.Reserve, 3), (CreditEntryKind.Capture, 3)], ledger[ended[1].Id]);
        Assert.Equal([(CreditEntryKind.Reserve, 1), (CreditEntryKind.Release, 1)], ledger[ended[2].Id]);
        Assert.Equal(30 - 3, await BalanceAsync(user.Id));

        var read = (await client.GetFromJsonAsync<ComparisonResponse>($"/api/v1/comparisons/{created.Id}", ApiClientExtensions.Json))!;
        Assert.Equal(("finished", 9, 3), (read.Status, read.TotalCredits, read.CreditsCharged));
        Assert.Equal(ended.Select(t => (t.Id, t.Status)), read.Tasks.Select(t => (t.Id, t.Status)));
        Assert.Single(read.Tasks[1].Images);
        Assert.Equal("generation_failed", read.Tasks[0].Error?.Code);
    }

    [Theory]
    [InlineData("{\"prompt\":\"a fern\",\"models\":[\"test-model\",\"remote-model\"],\"seed\":7}", "invalid_seed", "The model 'remote-model' takes no seed.")]
    [InlineData("{\"prompt\":\"a fern\",\"models\":[\"test-model\",\"remote-model\"],\"negativePrompt\":\"fog\"}", "negative_prompt_not_accepted", "The model 'remote-model' does not take a negative prompt.")]
    [InlineData("{\"prompt\":\"a fern\",\"models\":[\"test-model\",\"remote-model\"],\"count\":2}", "count_out_of_range", "Model 'remote-model': The image count must be between 1 and 1 for this model.")]
    [InlineData("{\"prompt\":\"a fern\",\"models\":[\"test-model\",\"remote-model\"],\"size\":\"2K\",\"aspectRatio\":\"4:3\"}", "invalid_aspect_ratio", "The model 'remote-model'")]
    [InlineData("{\"prompt\":\"a fern\",\"models\":[\"test-model\",\"text-only-model\"],\"size\":\"2K\"}", "size_not_offered", "The model 'text-only-model' does not offer 2K")]
    [InlineData("{\"prompt\":\"a fern\",\"models\":[\"test-model\"]}", "invalid_request", "Compare 2 to 4 models: 'models' lists 1.")]
    [InlineData("{\"prompt\":\"a fern\",\"models\":[\"test-model\",\"remote-model\",\"text-only-model\",\"a\",\"b\"]}", "invalid_request", "Compare 2 to 4 models: 'models' lists 5.")]
    [InlineData("{\"prompt\":\"a fern\"}", "invalid_request", "Compare 2 to 4 models: 'models' lists 0.")]
    [InlineData("{\"prompt\":\"a fern\",\"models\":[\"test-model\",\"TEST-MODEL\"]}", "invalid_request", "'models' lists 'test-model' more than once.")]
    [InlineData("{\"prompt\":\"a fern\",\"models\":[\"test-model\",\" \"]}", "invalid_request", "Every entry of 'models' must name a model.")]
    [InlineData("{\"prompt\":\"a fern\",\"models\":[\"test-model\",\"nope\"]}", "model_not_found", "There is no model named 'nope'.")]
    [InlineData("{\"prompt\":\"a fern\",\"model\":\"test-model\",\"models\":[\"test-model\",\"remote-model\"]}", "invalid_request", "A comparison names its models in 'models' (2 to 4), not 'model'.")]
    [InlineData("{\"prompt\":\"  \",\"models\":[\"test-model\",\"remote-model\"]}", "prompt_required", "Enter a prompt describing the image.")]
    public async Task A_comparison_any_model_cannot_make_is_refused_whole_naming_the_model_and_charges_nothing(string body, string code, string detail)
    {
        var (user, key) = await app.CreateUserAsync(credits: 30);
        using var client = app.CreateClient(key);

        var response = await client.PostAsync("/api/v1/comparisons", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.ReadJsonAsync();
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.StartsWith(detail, problem.GetProperty("detail").GetString());
        Assert.Equal(30, await BalanceAsync(user.Id));
        Assert.Empty(await LedgerAsync(user.Id));
    }

    [Fact]
    public async Task A_prompt_moderation_blocks_refuses_the_whole_comparison_with_the_neutral_message()
    {
        var (user, key) = await app.CreateUserAsync(credits: 30);
        using var client = app.CreateClient(key);

        var response = await client.PostAsJsonAsync("/api/v1/comparisons", new { prompt = "pure gore", models = new[] { Scripted, Remote } });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = await response.ReadJsonAsync();
        Assert.Equal("moderation_blocked", problem.GetProperty("code").GetString());
        Assert.Equal(Core.Moderation.ModerationDecision.NeutralMessage, problem.GetProperty("detail").GetString());
        Assert.Equal(30, await BalanceAsync(user.Id));
        Assert.Empty(await LedgerAsync(user.Id));
    }

    [Fact]
    public async Task Credits_for_only_some_of_the_models_create_nothing()
    {
        var (user, key) = await app.CreateUserAsync(credits: 7);
        using var client = app.CreateClient(key);

        var response = await client.PostAsJsonAsync("/api/v1/comparisons", new { prompt = "a fern", models = new[] { Scripted, Remote } });

        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
        var problem = await response.ReadJsonAsync();
        Assert.Equal("insufficient_credits", problem.GetProperty("code").GetString());
        Assert.Equal("This needs 8 credits, balance is 7.", problem.GetProperty("detail").GetString());
        Assert.Equal(7, await BalanceAsync(user.Id));
        Assert.Empty(await LedgerAsync(user.Id));
    }

    [Fact]
    public async Task A_retry_with_the_same_idempotency_key_replays_the_comparison_and_charges_once()
    {
        var (user, key) = await app.CreateUserAsync(credits: 30);
        using var client = app.CreateClient(key);
        HttpRequestMessage Request()
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/comparisons")
            {
                Content = JsonContent.Create(new { prompt = "a kite", models = new[] { Remote, TextOnly } }),
            };
            request.Headers.Add("Idempotency-Key", "compare-once");
            return request;
        }

        var first = await client.SendAsync(Request());
        var second = await client.SendAsync(Request());

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());
        var (a, b) = ((await first.ReadJsonAsync()).GetProperty("id").GetGuid(), (await second.ReadJsonAsync()).GetProperty("id").GetGuid());
        Assert.Equal(a, b);
        var ledger = await LedgerAsync(user.Id);
        Assert.Equal(2, ledger.Count);
        Assert.All(ledger.Values, lines => Assert.Equal((CreditEntryKind.Reserve, lines[0].Item2), Assert.Single(lines, l => l.Item1 == CreditEntryKind.Reserve)));
    }

    [Fact]
    public async Task Only_the_owner_reads_a_comparison()
    {
        var (_, ownerKey) = await app.CreateUserAsync(credits: 30);
        var (_, otherKey) = await app.CreateUserAsync(credits: 30);
        using var owner = app.CreateClient(ownerKey);
        var created = await (await owner.PostAsJsonAsync("/api/v1/comparisons", new { prompt = "a kite", models = new[] { Remote, TextOnly } })).ReadJsonAsync();
        var id = created.GetProperty("id").GetGuid();

        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync($"/api/v1/comparisons/{id}")).StatusCode);
        foreach (var (client, path) in new[] { (app.CreateClient(otherKey), $"/api/v1/comparisons/{id}"), (owner, $"/api/v1/comparisons/{Guid.NewGuid()}"),
                     (app.CreateClient(BananaLabFactory.AdminApiKey), $"/api/v1/comparisons/{id}") })
        {
            var response = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("not_found", (await response.ReadJsonAsync()).GetProperty("code").GetString());
        }
        // A task of one keeps its comparison id in the task API too.
        var taskId = created.GetProperty("tasks")[0].GetProperty("id").GetGuid();
        Assert.Equal(id, (await owner.GetTaskAsync(taskId)).ComparisonId);
    }

    private async Task<int> BalanceAsync(Guid userId)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        return (await db.Users.SingleAsync(u => u.Id == userId)).CreditBalance;
    }

    /// <summary>The user's task ledger lines, by task, in order.</summary>
    private async Task<Dictionary<Guid, List<(CreditEntryKind, int)>>> LedgerAsync(Guid userId)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        var entries = await db.CreditEntries.Where(e => e.UserId == userId && e.TaskId != null).OrderBy(e => e.Id).ToListAsync();
        return entries.GroupBy(e => e.TaskId!.Value).ToDictionary(g => g.Key, g => g.Select(e => (e.Kind, e.Credits)).ToList());
    }
}
