using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BananaLab.Core.Moderation;
using BananaLab.Core.Reporting;
using BananaLab.Core.Users;
using BananaLab.Tests.Infrastructure;
using BananaLab.Tests.Studio;
using BananaLab.Web.Pages.Admin;
using Microsoft.AspNetCore.Mvc.Testing;

namespace BananaLab.Tests.Moderation;

/// <summary>The review loop over the real host and its SQLite file: users ask, admins mark, the export labels.</summary>
public sealed class ModerationReviewTests(NoWorkerFactory factory) : IClassFixture<NoWorkerFactory>
{
    private HttpClient Admin() => factory.CreateClient(BananaLabFactory.AdminApiKey);

    /// <summary>Submits through the native API; a refusal's answer, which carries the decision id.</summary>
    private static async Task<JsonElement> SubmitBlockedAsync(HttpClient client, string prompt)
    {
        var response = await client.PostAsJsonAsync("/api/v1/tasks", new { model = BananaLabFactory.TestModel, prompt });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = await response.ReadJsonAsync();
        Assert.Equal("moderation_blocked", problem.GetProperty("code").GetString());
        return problem;
    }

    private static async Task<JsonElement> MarkAsync(HttpClient admin, long decisionId, object body, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var response = await admin.PutAsJsonAsync($"/api/v1/admin/moderation/decisions/{decisionId}/review", body);
        Assert.Equal(expected, response.StatusCode);
        return await response.ReadJsonAsync();
    }

    private async Task<string[][]> ExportAsync()
    {
        using var admin = Admin();
        var response = await admin.GetAsync("/api/v1/admin/moderation/reviews.tsv");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/tab-separated-values", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        var lines = text.Split('\n');
        Assert.Equal(LabelledPromptExport.Header, lines[0]);
        Assert.Equal("", lines[^1]);
        return lines[1..^1].Select(l => l.Split('\t')).ToArray();
    }

    [Fact]
    public async Task A_blocked_callers_one_request_makes_a_review_item_for_admins_and_the_answer_stays_neutral()
    {
        var (user, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        var blocked = await SubmitBlockedAsync(client, "g.o.r.e everywhere, review me");
        Assert.Equal(ModerationDecision.NeutralMessage, blocked.GetProperty("detail").GetString());
        var decisionId = blocked.GetProperty("decisionId").GetInt64();

        var asked = await client.PostAsJsonAsync("/api/v1/moderation/reviews", new { decisionId });
        Assert.Equal(HttpStatusCode.Created, asked.StatusCode);
        var body = await asked.Content.ReadAsStringAsync();
        Assert.Contains("\"requested\"", body);
        Assert.DoesNotContain("violence", body);
        Assert.DoesNotContain("gore", body);

        using var admin = Admin();
        var open = await (await admin.GetAsync("/api/v1/admin/moderation/decisions?review=requested&pageSize=200")).ReadJsonAsync();
        var item = open.GetProperty("items").EnumerateArray().Single(d => d.GetProperty("id").GetInt64() == decisionId);
        Assert.Equal(user.Id, item.GetProperty("userId").GetGuid());
        Assert.Contains("violence", item.GetProperty("categories").EnumerateArray().Select(c => c.GetString()));
        Assert.True(await factory.Services.GetRequiredService<ModerationReviews>().OpenRequestCountAsync(default) >= 1);
        var page = await factory.Services.GetRequiredService<AdminReports>().ModerationAsync(
            new ModerationLogQuery { UserEmail = user.Email, Review = ModerationReviewState.Requested }, default);
        Assert.Equal(decisionId, Assert.Single(page.Items).Decision.Id);
        var unreviewed = await factory.Services.GetRequiredService<AdminReports>().ModerationAsync(
            new ModerationLogQuery { UserEmail = user.Email, Review = ModerationReviewState.Unreviewed }, default);
        Assert.Equal(0, unreviewed.Total);
    }

    [Fact]
    public async Task A_user_can_ask_only_about_their_own_refusals_and_only_once()
    {
        var (_, ownerKey) = await factory.CreateUserAsync();
        var (_, otherKey) = await factory.CreateUserAsync();
        using var owner = factory.CreateClient(ownerKey);
        using var other = factory.CreateClient(otherKey);
        var decisionId = (await SubmitBlockedAsync(owner, "g.o.r.e in the hallway")).GetProperty("decisionId").GetInt64();

        var stranger = await other.PostAsJsonAsync("/api/v1/moderation/reviews", new { decisionId });
        Assert.Equal(HttpStatusCode.NotFound, stranger.StatusCode);
        Assert.Equal("decision_not_found", (await stranger.ReadJsonAsync()).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await owner.PostAsJsonAsync("/api/v1/moderation/reviews", new { decisionId = long.MaxValue })).StatusCode);
        var missing = await owner.PostAsJsonAsync("/api/v1/moderation/reviews", new { });
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("decisionId", (await missing.ReadJsonAsync()).GetProperty("detail").GetString());

        Assert.Equal(HttpStatusCode.Created, (await owner.PostAsJsonAsync("/api/v1/moderation/reviews", new { decisionId })).StatusCode);
        var twice = await owner.PostAsJsonAsync("/api/v1/moderation/reviews", new { decisionId });
        Assert.Equal(HttpStatusCode.Conflict, twice.StatusCode);
        Assert.Equal("review_already_requested", (await twice.ReadJsonAsync()).GetProperty("code").GetString());

        // An allowed screening is not a refusal: nothing to ask about.
        var allowed = await owner.PostAsJsonAsync("/api/v1/tasks", new { model = BananaLabFactory.TestModel, prompt = "a quiet harbour at dusk" });
        Assert.Equal(HttpStatusCode.Created, allowed.StatusCode);
        Assert.False((await allowed.ReadJsonAsync()).TryGetProperty("decisionId", out _));
    }

    [Fact]
    public async Task A_mark_puts_the_decision_in_the_export_with_its_label_and_a_changed_mark_relabels_it()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        using var admin = Admin();
        const string prompt = "a g.o.r.e themed halloween cake for the party";
        var decisionId = (await SubmitBlockedAsync(client, prompt)).GetProperty("decisionId").GetInt64();
        Assert.DoesNotContain(await ExportAsync(), row => row[3] == prompt);

        var marked = await MarkAsync(admin, decisionId, new { verdict = "should_have_passed", note = "a cake, not gore" });
        Assert.Equal("should_have_passed", marked.GetProperty("reviewVerdict").GetString());
        Assert.Equal("a cake, not gore", marked.GetProperty("reviewNote").GetString());
        Assert.NotEqual(JsonValueKind.Null, marked.GetProperty("reviewedBy").ValueKind);
        Assert.NotEqual(JsonValueKind.Null, marked.GetProperty("reviewedAt").ValueKind);
        Assert.Equal(["allow", "violence", "en", prompt], Assert.Single(await ExportAsync(), row => row[3] == prompt));
        var wrong = await (await admin.GetAsync("/api/v1/admin/moderation/decisions?review=wrong&pageSize=200")).ReadJsonAsync();
        Assert.Contains(wrong.GetProperty("items").EnumerateArray(), d => d.GetProperty("id").GetInt64() == decisionId);

        await MarkAsync(admin, decisionId, new { verdict = "correct" });
        Assert.Equal(["block", "violence", "en", prompt], Assert.Single(await ExportAsync(), row => row[3] == prompt));
        var correct = await (await admin.GetAsync("/api/v1/admin/moderation/decisions?review=correct&pageSize=200")).ReadJsonAsync();
        Assert.Contains(correct.GetProperty("items").EnumerateArray(), d => d.GetProperty("id").GetInt64() == decisionId);
    }

    [Fact]
    public async Task A_missed_prompt_marked_should_have_blocked_exports_as_block_with_the_chosen_category()
    {
        var (user, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        using var admin = Admin();
        const string prompt = "ein Plakat, das die Vertreibung der Nachbarn feiert";
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/v1/tasks", new { model = BananaLabFactory.TestModel, prompt })).StatusCode);
        var page = await factory.Services.GetRequiredService<AdminReports>().ModerationAsync(new ModerationLogQuery { UserEmail = user.Email }, default);
        var decisionId = Assert.Single(page.Items).Decision.Id;

        var contradicting = await MarkAsync(admin, decisionId, new { verdict = "should_have_passed" }, HttpStatusCode.BadRequest);
        Assert.Equal("invalid_review", contradicting.GetProperty("code").GetString());
        var unknown = await MarkAsync(admin, decisionId, new { verdict = "should_have_blocked", category = "rude" }, HttpStatusCode.BadRequest);
        Assert.Contains("Unknown category 'rude'", unknown.GetProperty("detail").GetString());
        await MarkAsync(admin, decisionId, new { verdict = "maybe" }, HttpStatusCode.BadRequest);
        await MarkAsync(admin, decisionId, new { verdict = "correct", note = new string('n', 501) }, HttpStatusCode.BadRequest);
        Assert.DoesNotContain(await ExportAsync(), row => row[3] == prompt); // refused marks changed nothing

        await MarkAsync(admin, decisionId, new { verdict = "should_have_blocked", category = "hate" });
        Assert.Equal(["block", "hate", "de", prompt], Assert.Single(await ExportAsync(), row => row[3] == prompt));
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PutAsJsonAsync("/api/v1/admin/moderation/decisions/999999999/review", new { verdict = "correct" })).StatusCode);
    }

    [Fact]
    public async Task The_export_is_valid_corpus_tsv_with_tabs_and_line_breaks_flattened()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        using var admin = Admin();
        var decisionId = (await SubmitBlockedAsync(client, "g.o.r.e\tsplattered\r\nacross the wall")).GetProperty("decisionId").GetInt64();
        await MarkAsync(admin, decisionId, new { verdict = "correct" });

        var rows = await ExportAsync();
        Assert.Contains(rows, row => row[3] == "g.o.r.e splattered across the wall");
        Assert.All(rows, row =>
        {
            Assert.Equal(4, row.Length);
            Assert.Contains(row[0], new[] { "block", "allow" });
            Assert.Matches("^[a-z_]+$", row[1]);
            Assert.Matches("^([a-z]{2}|und)$", row[2]);
            Assert.False(string.IsNullOrWhiteSpace(row[3]));
            Assert.DoesNotContain('\r', row[3]);
        });
        Assert.Equal(rows.Length, rows.Select(r => r[3]).Distinct().Count());
    }

    [Fact]
    public async Task Only_admins_mark_and_export()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/api/v1/admin/moderation/reviews.tsv")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PutAsJsonAsync("/api/v1/admin/moderation/decisions/1/review", new { verdict = "correct" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/api/v1/admin/moderation/decisions?review=requested")).StatusCode);
        using var admin = Admin();
        var badState = await admin.GetAsync("/api/v1/admin/moderation/decisions?review=pending");
        Assert.Equal(HttpStatusCode.BadRequest, badState.StatusCode);
        Assert.Equal("'pending' is not a review state; use unreviewed, requested, wrong, correct.",
            (await badState.ReadJsonAsync()).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task The_moderation_pages_download_is_for_a_signed_in_admin_and_is_the_same_export()
    {
        var users = factory.Services.GetRequiredService<UserService>();
        var admin = await users.CreateAsync($"{Guid.NewGuid():N}@example.test", "Admin", UserRole.Admin, "password123");
        var member = await users.CreateAsync($"{Guid.NewGuid():N}@example.test", "Member", UserRole.User, "password123");

        using var anonymous = Browser();
        Assert.NotEqual(HttpStatusCode.OK, (await anonymous.GetAsync(ModerationReviewsDownload.Path)).StatusCode);
        using var memberBrowser = await SignedInBrowserAsync(member.Email);
        Assert.NotEqual(HttpStatusCode.OK, (await memberBrowser.GetAsync(ModerationReviewsDownload.Path)).StatusCode);

        using var adminBrowser = await SignedInBrowserAsync(admin.Email);
        var download = await adminBrowser.GetAsync(ModerationReviewsDownload.Path);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("moderation-reviews.tsv", download.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        using var api = Admin();
        Assert.Equal(await api.GetStringAsync("/api/v1/admin/moderation/reviews.tsv"), await download.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_refused_comparison_carries_the_decision_to_ask_about()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        var response = await client.PostAsJsonAsync("/api/v1/comparisons",
            new { models = new[] { BananaLabFactory.TestModel, BananaLabFactory.TextOnlyModel }, prompt = "g.o.r.e for two models" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var decisionId = (await response.ReadJsonAsync()).GetProperty("decisionId").GetInt64();
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/v1/moderation/reviews", new { decisionId })).StatusCode);
    }

    private HttpClient Browser() => factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    private async Task<HttpClient> SignedInBrowserAsync(string email)
    {
        var browser = Browser();
        var signedIn = await AccountTests.PostFormAsync(browser, "/account/login", "login",
            new() { ["Form.Email"] = email, ["Form.Password"] = "password123" });
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        return browser;
    }
}

/// <summary>The same loop on a real PostgreSQL server: its migration, the guarded update and the review-state filters.</summary>
public sealed class PostgresModerationReviewTests(PostgresFactory factory) : IClassFixture<PostgresFactory>
{
    [Fact]
    public async Task A_request_and_a_mark_work_on_postgres_and_the_export_labels_it()
    {
        var (user, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        var blocked = await client.PostAsJsonAsync("/api/v1/tasks", new { model = BananaLabFactory.TestModel, prompt = "g.o.r.e in the garden" });
        var decisionId = (await blocked.ReadJsonAsync()).GetProperty("decisionId").GetInt64();
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/v1/moderation/reviews", new { decisionId })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsJsonAsync("/api/v1/moderation/reviews", new { decisionId })).StatusCode);
        var reports = factory.Services.GetRequiredService<AdminReports>();
        Assert.Equal(1, (await reports.ModerationAsync(new ModerationLogQuery { UserEmail = user.Email, Review = ModerationReviewState.Requested }, default)).Total);

        using var admin = factory.CreateClient(BananaLabFactory.AdminApiKey);
        var mark = await admin.PutAsJsonAsync($"/api/v1/admin/moderation/decisions/{decisionId}/review", new { verdict = "should_have_passed" });
        Assert.Equal(HttpStatusCode.OK, mark.StatusCode);

        Assert.Equal(0, (await reports.ModerationAsync(new ModerationLogQuery { UserEmail = user.Email, Review = ModerationReviewState.Requested }, default)).Total);
        Assert.Equal(1, (await reports.ModerationAsync(new ModerationLogQuery { UserEmail = user.Email, Review = ModerationReviewState.MarkedWrong }, default)).Total);
        Assert.Contains("allow\tviolence\ten\tg.o.r.e in the garden\n", await admin.GetStringAsync("/api/v1/admin/moderation/reviews.tsv"));
    }
}
