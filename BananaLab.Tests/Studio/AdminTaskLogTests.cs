using BananaLab.Core.Reporting;
using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Pages.Admin;
using Bunit;
using Microsoft.AspNetCore.Components;

namespace BananaLab.Tests.Studio;

public sealed class AdminTaskLogTests(BananaLabFactory app) : AdminTestContext(app), IClassFixture<BananaLabFactory>
{
    [Fact]
    public async Task Task_log_lists_every_users_tasks_with_owner_email_and_filters_by_email()
    {
        await SignInAdminAsync();
        var alice = await CreateUserAsync(email: $"alice-{Guid.NewGuid():N}@example.test");
        var bob = await CreateUserAsync(email: $"bob-{Guid.NewGuid():N}@example.test");
        var aliceTask = await SubmitAndFinishAsync(alice.Id, "alice paints a lighthouse");
        await SubmitAndFinishAsync(bob.Id, "bob draws a teapot");
        RenderProviders();

        var all = Render<TaskLog>();
        all.WaitForAssertion(() =>
        {
            Assert.Contains(alice.Email, all.Markup);
            Assert.Contains(bob.Email, all.Markup);
            Assert.Contains("alice paints a lighthouse", all.Markup);
            Assert.Contains($"/admin/tasks/{aliceTask.Id}", all.Markup);
            Assert.Contains(aliceTask.WorkerName!, all.Markup);
        });

        Services.GetRequiredService<NavigationManager>().NavigateTo("/admin/tasks?user=alice-");
        var filtered = Render<TaskLog>();
        filtered.WaitForAssertion(() =>
        {
            Assert.Contains("alice paints a lighthouse", filtered.Markup);
            Assert.DoesNotContain("bob draws a teapot", filtered.Markup);
        });
    }

    [Fact]
    public async Task Blocked_only_and_failed_only_narrow_the_log()
    {
        var user = await CreateUserAsync();
        var ok = await SubmitAndFinishAsync(user.Id, "a quiet meadow");
        var failed = await SubmitAndFinishAsync(user.Id, "a broken run [fail]");
        var blocked = await SubmitBlockedAsync(user.Id);
        var reports = Get<AdminReports>();

        var failedOnly = await reports.TasksAsync(new AdminTaskQuery { UserId = user.Id, FailedOnly = true }, default);
        Assert.Equal([failed.Id], failedOnly.Items.Select(r => r.Task.Id));
        Assert.Equal(GenerationTaskStatus.Failed, failedOnly.Items[0].Task.Status);
        Assert.Equal("generation_failed", failedOnly.Items[0].Task.ErrorCode);

        var blockedOnly = await reports.TasksAsync(new AdminTaskQuery { UserId = user.Id, BlockedOnly = true }, default);
        Assert.Equal([blocked.Id], blockedOnly.Items.Select(r => r.Task.Id));

        var both = await reports.TasksAsync(new AdminTaskQuery { UserId = user.Id, BlockedOnly = true, FailedOnly = true }, default);
        Assert.Equal(2, both.Total);

        var byEmail = await reports.TasksAsync(new AdminTaskQuery { UserEmail = user.Email.ToUpperInvariant() }, default);
        Assert.Equal(3, byEmail.Total);
        Assert.All(byEmail.Items, r => Assert.Equal(user.Email, r.UserEmail));
        Assert.Equal(ok.Id, byEmail.Items[^1].Task.Id);

        var byModelAndStatus = await reports.TasksAsync(new AdminTaskQuery
        {
            UserId = user.Id, ModelId = BananaLabFactory.TestModel, Status = GenerationTaskStatus.Succeeded,
        }, default);
        Assert.Equal([ok.Id], byModelAndStatus.Items.Select(r => r.Task.Id));

        var tomorrow = DateTime.UtcNow.Date.AddDays(1);
        Assert.Equal(0, (await reports.TasksAsync(new AdminTaskQuery { UserId = user.Id, CreatedFrom = tomorrow }, default)).Total);
        Assert.Equal(3, (await reports.TasksAsync(new AdminTaskQuery { UserId = user.Id, CreatedTo = tomorrow }, default)).Total);
    }

    [Fact]
    public async Task Task_page_shows_timings_images_ledger_and_owner()
    {
        await SignInAdminAsync();
        var user = await CreateUserAsync();
        var task = await SubmitAndFinishAsync(user.Id, "a lemon on a plate");
        RenderProviders();

        var page = Render<AdminTask>(p => p.Add(x => x.Id, task.Id));

        page.WaitForAssertion(() => Assert.Contains("a lemon on a plate", page.Markup));
        Assert.Equal(user.Email, page.Find("#owner-link").TextContent);
        Assert.Equal("1", page.Find("#attempts").TextContent);
        Assert.Equal("5", page.Find("#credits-reserved").TextContent);
        Assert.Equal("5", page.Find("#credits-charged").TextContent);
        Assert.Contains(task.WorkerName!, page.Markup);
        var ledger = page.Find("#ledger").TextContent;
        Assert.Contains("Reserve", ledger);
        Assert.Contains("Capture (charged)", ledger);
        Assert.Contains($"/media/tasks/{task.Id}/0/thumb", page.Markup);
        Assert.Contains("Allowed", page.Find("#decisions").TextContent);
        Assert.Empty(page.FindAll("#blocked-decision"));
    }

    [Fact]
    public async Task Blocked_task_page_shows_the_decision_with_its_categories_and_rules()
    {
        await SignInAdminAsync();
        var user = await CreateUserAsync();
        var blocked = await SubmitBlockedAsync(user.Id);
        RenderProviders();

        var page = Render<AdminTask>(p => p.Add(x => x.Id, blocked.Id));

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("#blocked-decision")));
        var decision = page.Find("#blocked-decision").TextContent;
        Assert.Contains("Blocked by moderation", decision);
        Assert.Contains("violence", decision);
        Assert.Contains("gore", decision);
        Assert.Equal("0", page.Find("#credits-charged").TextContent);
        Assert.Contains("No credits moved for this task.", page.Markup);
    }

    [Fact]
    public async Task Failed_task_page_shows_the_error_code_and_the_refund()
    {
        await SignInAdminAsync();
        var user = await CreateUserAsync();
        var failed = await SubmitAndFinishAsync(user.Id, "this one breaks [fail]");
        RenderProviders();

        var page = Render<AdminTask>(p => p.Add(x => x.Id, failed.Id));

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("#task-error")));
        Assert.Contains("generation_failed", page.Find("#task-error").TextContent);
        Assert.Contains("The test model refused.", page.Find("#task-error").TextContent);
        Assert.Contains("Release (refund)", page.Find("#ledger").TextContent);
    }

    [Fact]
    public async Task Unknown_task_says_so()
    {
        await SignInAdminAsync();
        RenderProviders();
        var page = Render<AdminTask>(p => p.Add(x => x.Id, Guid.NewGuid()));
        page.WaitForAssertion(() => Assert.Contains("There is no such task", page.Markup));
    }

    [Fact]
    public async Task Admins_see_that_the_owner_deleted_a_task_in_the_log_and_on_its_page()
    {
        await SignInAdminAsync();
        var owner = await CreateUserAsync();
        var kept = await SubmitAndFinishAsync(owner.Id, "a kept lighthouse");
        var gone = await SubmitAndFinishAsync(owner.Id, "a deleted teapot");
        Assert.True((await Get<TaskService>().DeleteAsync(gone.Id, owner.Id, default)).Succeeded);
        RenderProviders();

        var log = Render<TaskLog>();
        log.WaitForAssertion(() =>
        {
            var deletedRow = log.FindAll("tr").Single(row => row.InnerHtml.Contains($"admin/tasks/{gone.Id}"));
            Assert.Single(deletedRow.QuerySelectorAll("[data-testid=deleted-by-owner]"));
            var keptRow = log.FindAll("tr").Single(row => row.InnerHtml.Contains($"admin/tasks/{kept.Id}"));
            Assert.Empty(keptRow.QuerySelectorAll("[data-testid=deleted-by-owner]"));
        }, Wait);

        var page = Render<AdminTask>(p => p.Add(x => x.Id, gone.Id));
        page.WaitForAssertion(() =>
        {
            Assert.Single(page.FindAll("[data-testid=deleted-by-owner]"));
            Assert.Contains("a deleted teapot", page.Markup);
        }, Wait);
    }
}
