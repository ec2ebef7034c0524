using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Components.Shared;
using BananaLab.Web.Pages.History;
using BananaLab.Web.Pages.Media;
using Bunit;
using MudBlazor;

namespace BananaLab.Tests.Studio;

public sealed class HistoryPageTests(BananaLabFactory app) : StudioTestContext(app), IClassFixture<BananaLabFactory>
{
    private TaskService Tasks => Get<TaskService>();

    [Fact]
    public async Task A_new_user_sees_no_images_yet_with_a_way_to_the_studio()
    {
        await SignInNewUserAsync();
        RenderProviders();

        var cut = Render<HistoryPage>();

        cut.WaitForAssertion(() => Assert.Contains("No images yet", cut.Markup), Wait);
        Assert.Contains(cut.FindAll("a"), a => a.GetAttribute("href") == "/" && a.TextContent.Contains("Create your first image"));
        Assert.DoesNotContain("Nothing matches these filters", cut.Markup);
    }

    [Fact]
    public async Task Rows_show_the_users_own_tasks_with_thumbnail_model_size_cost_status_and_durations()
    {
        var someoneElse = await SignInNewUserAsync();
        await UserPageTasks.SubmitAsync(Tasks, someoneElse.Id, "someone else's secret lighthouse");
        var user = await SignInNewUserAsync(credits: 200);
        var done = await UserPageTasks.SubmitAsync(Tasks, user.Id, "a yellow submarine",
            request: new SubmitTaskRequest { ImageCount = 2 });
        var failed = await UserPageTasks.SubmitAsync(Tasks, user.Id, "[fail] a broken clock");
        RenderProviders();

        var cut = Render<HistoryPage>();

        cut.WaitForAssertion(() => Assert.Equal(2, TaskLinks(cut).Count), Wait);
        Assert.DoesNotContain("lighthouse", cut.Markup);
        var row = RowOf(cut, done.Id);
        Assert.Contains(StudioMediaEndpoints.Thumbnail(done.Id, 0), row.InnerHtml);
        Assert.Contains("a yellow submarine", row.TextContent);
        Assert.Contains(BananaLabFactory.TestModel, row.TextContent);
        Assert.Contains(ScriptedGenerator.Provider, row.TextContent);
        Assert.Contains("1K · 1024×1024", row.TextContent);
        Assert.Contains("10 credits", row.TextContent);
        Assert.Contains("Succeeded", row.TextContent);
        Assert.Contains(TaskDisplay.Duration(done.ComputeDurationMs), row.TextContent);
        Assert.Contains(TaskDisplay.Duration(done.TotalDurationMs), row.TextContent);

        var failedRow = RowOf(cut, failed.Id);
        Assert.Contains("Failed", failedRow.TextContent);
        Assert.Contains("0 credits", failedRow.TextContent);
        Assert.DoesNotContain("/thumb", failedRow.InnerHtml);
    }

    [Fact]
    public async Task The_grid_view_shows_a_thumbnail_of_every_image_of_every_task_linking_to_its_task()
    {
        var user = await SignInNewUserAsync(credits: 200);
        var three = await UserPageTasks.SubmitAsync(Tasks, user.Id, "three red kites", request: new SubmitTaskRequest { ImageCount = 3 });
        var two = await UserPageTasks.SubmitAsync(Tasks, user.Id, "two blue boats", request: new SubmitTaskRequest { ImageCount = 2 });
        var failed = await UserPageTasks.SubmitAsync(Tasks, user.Id, "[fail] a missing moon");
        RenderProviders();
        var cut = Render<HistoryPage>();
        cut.WaitForAssertion(() => Assert.Equal(3, TaskLinks(cut).Count), Wait);

        cut.Find("#history-view-grid").Click();

        cut.WaitForAssertion(() => Assert.Equal(5, cut.FindAll("a.history-tile img").Count), Wait);
        foreach (var task in new[] { three, two })
        {
            for (var index = 0; index < task.ImageCount; index++)
            {
                var image = cut.Find($"a.history-tile img[src='{StudioMediaEndpoints.Thumbnail(task.Id, index)}']");
                Assert.Equal($"/tasks/{task.Id}", image.Closest("a")!.GetAttribute("href"));
                Assert.False(string.IsNullOrWhiteSpace(image.GetAttribute("alt")));
            }
        }
        // A task without images still has a tile, so nothing on the page disappears in the grid.
        Assert.Contains("Failed", cut.Find($"a.history-tile-empty[href='/tasks/{failed.Id}']").TextContent);
        // The choice is in the address, so a reload or a bookmark keeps the grid.
        Assert.EndsWith("?view=grid", Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>().Uri);

        cut.Find("#history-view-list").Click();

        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("a.history-tile")), Wait);
        Assert.Contains(StudioMediaEndpoints.Thumbnail(three.Id, 0), RowOf(cut, three.Id).InnerHtml);
    }

    [Fact]
    public async Task Clicking_a_row_opens_its_task_page()
    {
        var user = await SignInNewUserAsync();
        var task = await UserPageTasks.SubmitAsync(Tasks, user.Id, "a paper crane");
        RenderProviders();
        var cut = Render<HistoryPage>();
        cut.WaitForAssertion(() => Assert.Single(TaskLinks(cut)), Wait);

        cut.Find("tr.history-row td").Click();

        Assert.EndsWith($"/tasks/{task.Id}", Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>().Uri);
    }

    [Fact]
    public async Task Filters_by_status_model_prompt_text_and_date_range()
    {
        var user = await SignInNewUserAsync(credits: 200);
        var apple = await UserPageTasks.SubmitAsync(Tasks, user.Id, "a red apple on a table");
        var pear = await UserPageTasks.SubmitAsync(Tasks, user.Id, "[fail] a green pear");
        var plum = await UserPageTasks.SubmitAsync(Tasks, user.Id, "a blue plum", model: BananaLabFactory.TextOnlyModel);
        RenderProviders();
        var cut = Render<HistoryPage>();
        cut.WaitForAssertion(() => Assert.Equal(3, TaskLinks(cut).Count), Wait);

        await SelectAsync(cut, "Status", nameof(GenerationTaskStatus.Failed));
        cut.WaitForAssertion(() => Assert.Equal([pear.Id], ListedIds(cut)), Wait);

        await SelectAsync(cut, "Status", "");
        await SelectAsync(cut, "Model", BananaLabFactory.TextOnlyModel);
        cut.WaitForAssertion(() => Assert.Equal([plum.Id], ListedIds(cut)), Wait);

        await SelectAsync(cut, "Model", "");
        cut.FindComponent<MudTextField<string>>().Find("input").Input("APPLE");
        cut.WaitForAssertion(() => Assert.Equal([apple.Id], ListedIds(cut)), Wait);

        // A range that ended before today matches nothing, and says so differently from an empty history.
        var picker = cut.FindComponent<MudDateRangePicker>();
        await cut.InvokeAsync(() => picker.Instance.DateRangeChanged.InvokeAsync(
            new DateRange(DateTime.UtcNow.Date.AddDays(-10), DateTime.UtcNow.Date.AddDays(-2))));
        cut.WaitForAssertion(() => Assert.Contains("Nothing matches these filters", cut.Markup), Wait);
        Assert.Empty(TaskLinks(cut));
        Assert.DoesNotContain("No images yet", cut.Markup);

        await cut.InvokeAsync(() => picker.Instance.DateRangeChanged.InvokeAsync(
            new DateRange(DateTime.UtcNow.Date.AddDays(-1), DateTime.UtcNow.Date)));
        cut.WaitForAssertion(() => Assert.Equal([apple.Id], ListedIds(cut)), Wait);

        cut.FindAll("button").First(b => b.TextContent.Contains("Clear filters")).Click();
        cut.WaitForAssertion(() => Assert.Equal(3, TaskLinks(cut).Count), Wait);
    }

    [Fact]
    public async Task Tasks_submitted_elsewhere_appear_and_finish_without_a_refresh()
    {
        var user = await SignInNewUserAsync();
        await UserPageTasks.SubmitAsync(Tasks, user.Id, "an old photograph");
        RenderProviders();
        var cut = Render<HistoryPage>();
        cut.WaitForAssertion(() => Assert.Single(TaskLinks(cut)), Wait);

        // Submitted over the API, say: only the notifier tells the page.
        var later = await UserPageTasks.SubmitAsync(Tasks, user.Id, "a new postcard");

        cut.WaitForAssertion(() => Assert.Contains("Succeeded", RowOf(cut, later.Id).TextContent), Wait);
        Assert.Equal(2, TaskLinks(cut).Count);
    }

    [Fact]
    public async Task Paging_asks_the_server_for_one_page_at_a_time()
    {
        var user = await SignInNewUserAsync(credits: 1000);
        for (var i = 1; i <= 23; i++)
            await UserPageTasks.SubmitAsync(Tasks, user.Id, $"queued picture number {i:00}", waitUntilDone: false);
        RenderProviders();

        var cut = Render<HistoryPage>();

        cut.WaitForAssertion(() => Assert.Equal(20, TaskLinks(cut).Count), Wait);
        Assert.Contains("number 23", cut.Markup);
        Assert.DoesNotContain("number 03", cut.Markup);
        Assert.Contains("of 23", cut.Markup);

        cut.Find("button[aria-label='Next page']").Click();
        cut.WaitForAssertion(() => Assert.Equal(3, TaskLinks(cut).Count), Wait);
        Assert.Contains("number 01", cut.Markup);
        Assert.DoesNotContain("number 23", cut.Markup);
    }

    [Fact]
    public async Task A_database_failure_shows_a_neutral_message_with_a_retry()
    {
        await SignInNewUserAsync();
        Services.AddSingleton(TaskServiceReading.From(App.Services, new FailingDbContextFactory()));
        RenderProviders();

        var cut = Render<HistoryPage>();

        cut.WaitForAssertion(() => Assert.Contains("Your history could not be loaded", cut.Markup), Wait);
        Assert.NotEmpty(cut.FindAll("#history-retry"));
        Assert.Contains(Services.GetRequiredService<ISnackbar>().ShownSnackbars, s => s.Message?.Contains("could not be loaded") == true);
        Assert.DoesNotContain(FailingDbContextFactory.Detail, cut.Markup);
        Assert.DoesNotContain("No images yet", cut.Markup);
    }

    private static IReadOnlyList<AngleSharp.Dom.IElement> TaskLinks(IRenderedComponent<HistoryPage> cut) =>
        cut.FindAll("td a[href^='/tasks/']");

    private static List<Guid> ListedIds(IRenderedComponent<HistoryPage> cut) =>
        TaskLinks(cut).Select(a => Guid.Parse(a.GetAttribute("href")!["/tasks/".Length..])).ToList();

    private static AngleSharp.Dom.IElement RowOf(IRenderedComponent<HistoryPage> cut, Guid taskId) =>
        cut.Find($"td a[href='/tasks/{taskId}']").Closest("tr")!;

    private static Task SelectAsync(IRenderedComponent<HistoryPage> cut, string label, string value)
    {
        var select = cut.FindComponents<MudSelect<string>>().Single(s => s.Instance.Label == label);
        return cut.InvokeAsync(() => select.Instance.ValueChanged.InvokeAsync(value));
    }
}
