using System.Net;
using System.Net.Http.Json;
using BananaLab.Core.Data;
using BananaLab.Core.Moderation;
using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Tests.Moderation;

public sealed class ModerationServiceTests(NoWorkerFactory factory) : IClassFixture<NoWorkerFactory>
{
    private TaskService Tasks => factory.Services.GetRequiredService<TaskService>();

    [Fact]
    public async Task Every_screened_request_stores_a_decision_linked_to_its_task()
    {
        var (user, _) = await factory.CreateUserAsync();
        var allowed = await Tasks.SubmitAsync(user.Id, new() { ModelId = BananaLabFactory.TestModel, Prompt = "a calm lake" }, default);
        var blocked = await Tasks.SubmitAsync(user.Id, new() { ModelId = BananaLabFactory.TestModel, Prompt = "g.o.r.e everywhere" }, default);

        Assert.True(allowed.Succeeded);
        Assert.Equal(ModerationDecision.NeutralMessage, blocked.Error!.Message);
        Assert.DoesNotContain("gore", blocked.Error.Message);
        await using var db = await factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        var records = await db.Set<ModerationDecisionRecord>().Where(r => r.UserId == user.Id).OrderBy(r => r.Id).ToListAsync();
        Assert.Equal(2, records.Count);
        Assert.True(records[0].Allowed);
        Assert.Equal(allowed.Value!.Id, records[0].TaskId);
        Assert.False(records[1].Allowed);
        Assert.Contains("gore", records[1].MatchedRules);
        Assert.Contains("g o r e", records[1].NormalizedText);
        var blockedTask = await db.Tasks.SingleAsync(t => t.Id == records[1].TaskId);
        Assert.Equal(GenerationTaskStatus.Blocked, blockedTask.Status);
    }

    [Fact]
    public async Task A_decision_records_both_layers_the_rule_ids_and_the_classifier_scores()
    {
        var (user, _) = await factory.CreateUserAsync();
        var prompts = new[] { "two people fornicating on a park bench", "a calm lake at dawn" };
        foreach (var prompt in prompts) await Tasks.SubmitAsync(user.Id, new() { ModelId = BananaLabFactory.TestModel, Prompt = prompt }, default);

        await using var db = await factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        var records = await db.Set<ModerationDecisionRecord>().Where(r => r.UserId == user.Id).OrderBy(r => r.Id).ToListAsync();
        var (blocked, allowed) = (records[0], records[1]);
        Assert.False(blocked.Allowed);
        Assert.Contains("sexual", blocked.Categories.Split(','));
        // The rule layer: the WordNet expansion reached "fornicating"; the classifier: every category's score, blocked or not.
        Assert.Contains("wordnet:fornicate.v.01427296:fornicating", blocked.MatchedRules);
        var classifier = factory.Services.GetRequiredService<IPromptClassifier>();
        Assert.True(classifier.IsLoaded);
        foreach (var record in records)
        {
            Assert.StartsWith("classifier ", record.Note);
            Assert.All(classifier.Categories, c => Assert.Contains($"{c}=", record.Note));
        }
        Assert.True(allowed.Allowed);
        Assert.Empty(allowed.MatchedRules);
    }

    [Theory]
    [InlineData("mine", null)]
    [InlineData("hooked", null)]
    [InlineData("still waiting", null)]
    [InlineData("[slow:600] sdk 3 9f2c41d0b7e84a6c9d3e5f1a2b4c6d8e", null)] // a test's id: no words to judge
    [InlineData("a red apple on a table", "a red apple on a table")]
    [InlineData("red apple, seed 0123456789abcdef, on a table", "red apple, seed on a table")]
    [InlineData("児童の写真", "児童の写真")] // five characters of a script without spaces: about three words
    public void The_classifier_judges_only_a_prompt_of_three_words_or_more_read_without_identifiers(string prompt, string? input)
    {
        Assert.Equal(input, PromptModerator.ClassifierInput(prompt));
    }

    [Fact]
    public async Task One_word_prompts_the_classifier_misreads_pass_and_their_scores_are_still_recorded()
    {
        var (user, _) = await factory.CreateUserAsync();
        var outcome = await Tasks.SubmitAsync(user.Id, new() { ModelId = BananaLabFactory.TestModel, Prompt = "mine" }, default);

        Assert.True(outcome.Succeeded);
        await using var db = await factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        var record = await db.Set<ModerationDecisionRecord>().SingleAsync(r => r.UserId == user.Id);
        Assert.StartsWith("classifier ", record.Note);
    }

    [Fact]
    public async Task Admin_terms_take_effect_at_once_and_can_be_withdrawn()
    {
        var (user, key) = await factory.CreateUserAsync();
        using var admin = factory.CreateClient(BananaLabFactory.AdminApiKey);
        var prompt = new SubmitTaskRequest { ModelId = BananaLabFactory.TestModel, Prompt = "a glorbnak on a hill" };
        Assert.True((await Tasks.SubmitAsync(user.Id, prompt, default)).Succeeded);

        var add = await admin.PostAsJsonAsync("/api/v1/admin/moderation/terms", new { category = "custom", term = "glorbnak", reason = "new slang" });
        Assert.Equal(HttpStatusCode.NoContent, add.StatusCode);
        Assert.Equal("moderation_blocked", (await Tasks.SubmitAsync(user.Id, prompt, default)).Error?.Code);

        var terms = await (await admin.GetAsync("/api/v1/admin/moderation/terms")).ReadJsonAsync();
        var id = terms.EnumerateArray().First(t => t.GetProperty("term").GetString() == "glorbnak").GetProperty("id").GetInt64();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/admin/moderation/terms/{id}")).StatusCode);
        Assert.True((await Tasks.SubmitAsync(user.Id, prompt, default)).Succeeded);

        using var normal = factory.CreateClient(key);
        Assert.Equal(HttpStatusCode.Forbidden, (await normal.GetAsync("/api/v1/admin/moderation/terms")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await normal.PostAsJsonAsync("/api/v1/admin/moderation/terms", new { term = "x", reason = "y" })).StatusCode);
    }

    [Fact]
    public async Task Admin_term_changes_need_a_reason_and_leave_existing_rules_alone()
    {
        var (user, _) = await factory.CreateUserAsync();
        using var admin = factory.CreateClient(BananaLabFactory.AdminApiKey);
        var prompt = new SubmitTaskRequest { ModelId = BananaLabFactory.TestModel, Prompt = "csam" };
        var missingReason = await admin.PostAsJsonAsync("/api/v1/admin/moderation/terms", new { category = "custom", term = "zzz" });
        Assert.Equal(HttpStatusCode.BadRequest, missingReason.StatusCode);
        Assert.Equal("moderation_blocked", (await Tasks.SubmitAsync(user.Id, prompt, default)).Error?.Code);
    }

    [Fact]
    public async Task Admins_read_the_decision_log_and_others_may_not()
    {
        var (user, key) = await factory.CreateUserAsync();
        await Tasks.SubmitAsync(user.Id, new() { ModelId = BananaLabFactory.TestModel, Prompt = "rape scene" }, default);
        using var admin = factory.CreateClient(BananaLabFactory.AdminApiKey);
        var log = await (await admin.GetAsync("/api/v1/admin/moderation/decisions?blocked=true")).ReadJsonAsync();
        Assert.Contains(log.GetProperty("items").EnumerateArray(), d => d.GetProperty("userId").GetGuid() == user.Id);
        Assert.Equal(HttpStatusCode.Forbidden, (await factory.CreateClient(key).GetAsync("/api/v1/admin/moderation/decisions")).StatusCode);
    }
}
