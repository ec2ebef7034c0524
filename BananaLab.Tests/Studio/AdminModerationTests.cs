using BananaLab.Core.Moderation;
using BananaLab.Core.Reporting;
using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Pages.Admin;
using Bunit;

namespace BananaLab.Tests.Studio;

public sealed class AdminModerationTests(NoWorkerFactory app) : AdminTestContext(app), IClassFixture<NoWorkerFactory>
{
    private Task<Outcome<TaskView>> SubmitAsync(Guid userId, string prompt) =>
        Get<TaskService>().SubmitAsync(userId, new SubmitTaskRequest { ModelId = BananaLabFactory.TestModel, Prompt = prompt }, default);

    [Fact]
    public async Task Decision_log_shows_each_screening_with_user_categories_rules_and_task()
    {
        await SignInAdminAsync();
        var user = await CreateUserAsync();
        var allowed = await SubmitAsync(user.Id, "a calm lake at dawn");
        var blocked = await SubmitBlockedAsync(user.Id);
        RenderHosts();

        var page = Render<ModerationPage>();

        page.WaitForAssertion(() =>
        {
            var rows = page.FindAll("tr").Where(r => r.TextContent.Contains(user.Email)).ToList();
            Assert.Equal(2, rows.Count);
            var refused = Assert.Single(rows, r => r.TextContent.Contains("Blocked"));
            Assert.Contains("violence", refused.TextContent);
            Assert.Contains("gore", refused.TextContent);
            Assert.Contains("Prompt", refused.TextContent);
            Assert.Contains($"/admin/tasks/{blocked.Id}", refused.InnerHtml);
            Assert.Contains($"/admin/tasks/{allowed.Value!.Id}", rows.Single(r => r.TextContent.Contains("Allowed")).InnerHtml);
        });
    }

    [Fact]
    public async Task Decision_filters_narrow_by_blocked_category_subject_and_email()
    {
        var user = await CreateUserAsync();
        await SubmitAsync(user.Id, "a red bicycle");
        await SubmitBlockedAsync(user.Id);
        var reports = Get<AdminReports>();

        var mine = await reports.ModerationAsync(new ModerationLogQuery { UserEmail = user.Email }, default);
        Assert.Equal(2, mine.Total);
        Assert.All(mine.Items, r => Assert.Equal(user.Email, r.UserEmail));
        var blocked = await reports.ModerationAsync(new ModerationLogQuery { UserEmail = user.Email, BlockedOnly = true }, default);
        Assert.False(Assert.Single(blocked.Items).Decision.Allowed);
        Assert.Equal(1, (await reports.ModerationAsync(new ModerationLogQuery { UserEmail = user.Email, Category = "violence" }, default)).Total);
        Assert.Equal(0, (await reports.ModerationAsync(new ModerationLogQuery { UserEmail = user.Email, Category = "hate" }, default)).Total);
        Assert.Equal(2, (await reports.ModerationAsync(new ModerationLogQuery { UserEmail = user.Email, Subject = "prompt" }, default)).Total);
        Assert.Equal(0, (await reports.ModerationAsync(new ModerationLogQuery { UserEmail = user.Email, Subject = "output_image" }, default)).Total);
    }

    [Fact]
    public async Task An_added_term_needs_a_reason_blocks_at_once_and_can_be_withdrawn()
    {
        await SignInAdminAsync();
        var user = await CreateUserAsync();
        var (dialogs, snackbars) = RenderHosts();
        var page = Render<ModerationPage>();
        page.WaitForAssertion(() => Assert.Contains("No admin terms yet", page.Markup));

        page.Find("input#term-text").Change("blorptastic");
        page.Find("#term-add").Click();
        page.WaitForAssertion(() => Assert.Contains("Give a reason for the audit trail.", page.Find("#term-error").TextContent));
        Assert.Empty(await Get<ModerationTermsService>().ListAsync(default));

        page.Find("input#term-reason").Change("new slang for gore");
        page.Find("#term-add").Click();
        page.WaitForAssertion(() => Assert.Contains("blorptastic", page.Find("#terms").TextContent));
        Assert.Empty(page.FindAll("#term-error"));
        Assert.Equal("moderation_blocked", (await SubmitAsync(user.Id, "a blorptastic scene")).Error?.Code);

        page.Find("button[aria-label='Withdraw blorptastic']").Click();
        dialogs.WaitForElement("#confirm-action").Click();
        snackbars.WaitForAssertion(() => Assert.Contains("'blorptastic' was withdrawn.", snackbars.Markup));
        page.WaitForAssertion(() => Assert.Contains("Withdrawn", page.Find("#terms").TextContent));
        Assert.True((await SubmitAsync(user.Id, "a blorptastic scene")).Succeeded);
    }

    [Fact]
    public async Task A_requested_review_shows_on_the_badge_and_filter_and_an_admin_marks_it_from_the_log()
    {
        var admin = await SignInAdminAsync();
        var user = await CreateUserAsync();
        await SubmitBlockedAsync(user.Id, "g.o.r.e on the stairs");
        var decision = Assert.Single((await Get<AdminReports>().ModerationAsync(new ModerationLogQuery { UserEmail = user.Email }, default)).Items).Decision;
        Assert.True((await Get<ModerationReviews>().RequestAsync(user.Id, decision.Id, default)).Succeeded);
        var (dialogs, snackbars) = RenderHosts();
        var page = Render<ModerationPage>();

        var open = await Get<ModerationReviews>().OpenRequestCountAsync(default);
        page.WaitForAssertion(() => Assert.Equal(open == 1 ? "1 review requested" : $"{open} reviews requested",
            page.Find("#open-reviews").TextContent.Trim()));
        page.Find("#open-reviews").Click();
        page.WaitForAssertion(() =>
        {
            var rows = page.FindAll("tbody tr").Where(r => r.TextContent.Contains("@example.test")).ToList();
            Assert.All(rows, r => Assert.Contains("Review requested", r.TextContent));
            Assert.Single(rows, r => r.TextContent.Contains(user.Email));
        });

        page.Find($"button[aria-label='Mark decision {decision.Id}']").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Wrong: should have passed", dialogs.Markup));
        dialogs.FindAll("input[type=radio]").Single(r => r.ParentElement!.ParentElement!.TextContent.Contains("should have passed")).Click();
        dialogs.Find("#review-note").Change("stairs, not gore");
        dialogs.Find("#review-save").Click();

        snackbars.WaitForAssertion(() => Assert.Contains("Marked: wrong: should have passed.", snackbars.Markup));
        var marked = Assert.Single((await Get<AdminReports>().ModerationAsync(new ModerationLogQuery { UserEmail = user.Email }, default)).Items).Decision;
        Assert.Equal(ModerationReviewVerdict.ShouldHavePassed, marked.ReviewVerdict);
        Assert.Equal("stairs, not gore", marked.ReviewNote);
        Assert.Equal(admin.Id, marked.ReviewedBy);
        Assert.NotNull(marked.ReviewedAt);
        Assert.Contains(await Get<ModerationReviews>().LabelledPromptsAsync(default), row => row is { Label: "allow", Prompt: "g.o.r.e on the stairs" });
    }
}
