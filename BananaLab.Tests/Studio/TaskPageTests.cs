using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Components.Shared;
using BananaLab.Web.Pages.History;
using BananaLab.Web.Pages.Media;
using BananaLab.Web.Pages.Studio;
using Bunit;
using BananaLab.Core.Data;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using TaskPage = BananaLab.Web.Pages.History.TaskPage;

namespace BananaLab.Tests.Studio;

public sealed class TaskPageTests(BananaLabFactory app) : StudioTestContext(app), IClassFixture<BananaLabFactory>
{
    private TaskService Tasks => Get<TaskService>();

    [Fact]
    public async Task A_finished_task_shows_every_stored_field_its_images_and_downloads()
    {
        var user = await SignInNewUserAsync(credits: 100);
        var task = await UserPageTasks.SubmitAsync(Tasks, user.Id, "a lighthouse in a storm", request: new SubmitTaskRequest
        {
            NegativePrompt = "blurry, text", ImageCount = 2, Seed = 1234, Steps = 3, Guidance = 4.5,
            ReferenceImage = new ReferenceImageUpload(ScriptedGenerator.TinyPng, "ref.png"), ReferenceStrength = 0.6,
        });
        Assert.Equal(GenerationTaskStatus.Succeeded, task.Status);
        RenderProviders();

        var cut = Render<TaskPage>(p => p.Add(x => x.Id, task.Id));

        cut.WaitForAssertion(() => Assert.Contains("a lighthouse in a storm", cut.Markup), Wait);
        var text = cut.Markup;
        var fields = Fields(cut);
        Assert.Equal("a lighthouse in a storm", fields["Prompt"]);
        Assert.Equal("blurry, text", fields["Negative prompt"]);
        Assert.Equal(BananaLabFactory.TestModel, fields["Model"]);
        Assert.Equal(ScriptedGenerator.Provider, fields["Provider"]);
        Assert.Equal("1K · 1024×1024", fields["Size"]);
        Assert.Equal("2", fields["Images"]);
        Assert.Equal("1234", fields["Seed"]);
        Assert.Equal("3", fields["Steps"]);
        Assert.Equal("4.5", fields["Guidance"]);
        Assert.Equal("Yes, strength 0.6", fields["Reference image"]);
        Assert.Equal("Succeeded", fields["Status"]);
        Assert.Equal("1", fields["Attempts"]);
        Assert.Equal("10 credits", fields["Credits reserved"]);
        Assert.Equal("10 credits", fields["Credits charged"]);
        Assert.Equal(task.WorkerName, fields["Worker"]);
        Assert.Equal(Viewer.Timestamp(task.CreatedAt), fields["Created"]);
        Assert.Equal(Viewer.Timestamp(task.StartedAt), fields["Started"]);
        Assert.Equal(Viewer.Timestamp(task.FinishedAt), fields["Finished"]);
        Assert.Equal(TaskDisplay.Duration(task.ComputeDurationMs), fields["Compute time"]);
        Assert.Equal(TaskDisplay.Duration(task.TotalDurationMs), fields["Total time"]);
        Assert.Equal("—", fields["Error code"]);
        Assert.Contains(task.Id.ToString(), text);

        var hrefs = cut.FindAll("a").Select(a => a.GetAttribute("href")).ToList();
        for (var index = 0; index < 2; index++)
        {
            Assert.Contains(StudioMediaEndpoints.Original(task.Id, index), hrefs);
            Assert.Contains(StudioMediaEndpoints.Download(task.Id, index), hrefs);
            Assert.Contains(cut.FindAll("img"), img => img.GetAttribute("src") == StudioMediaEndpoints.Thumbnail(task.Id, index));
        }
        Assert.Empty(cut.FindAll("#task-error"));
    }

    [Fact]
    public async Task A_failed_task_shows_its_error_code_and_a_readable_message()
    {
        var user = await SignInNewUserAsync();
        var task = await UserPageTasks.SubmitAsync(Tasks, user.Id, "[fail] a melting clock");
        RenderProviders();

        var cut = Render<TaskPage>(p => p.Add(x => x.Id, task.Id));

        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("#task-error")), Wait);
        var error = cut.Find("#task-error").TextContent;
        Assert.Contains("could not be generated", error);
        Assert.Contains("credits were returned", error);
        Assert.Contains(task.ErrorMessage!, error);
        Assert.Contains(task.ErrorCode!, error);
        Assert.Equal("0 credits", Fields(cut)["Credits charged"]);
        Assert.Equal(task.ErrorCode, Fields(cut)["Error code"]);
    }

    [Fact]
    public async Task Someone_elses_task_or_an_unknown_id_is_a_friendly_not_found()
    {
        var owner = await SignInNewUserAsync();
        var foreign = await UserPageTasks.SubmitAsync(Tasks, owner.Id, "the owner's private garden");
        await SignInNewUserAsync();
        RenderProviders();

        foreach (var id in new[] { foreign.Id, Guid.NewGuid() })
        {
            var cut = Render<TaskPage>(p => p.Add(x => x.Id, id));
            cut.WaitForAssertion(() => Assert.Contains("Task not found", cut.Markup), Wait);
            Assert.DoesNotContain("private garden", cut.Markup);
            Assert.Contains(cut.FindAll("a"), a => a.GetAttribute("href") == "/history");
        }
    }

    [Fact]
    public async Task Reuse_settings_opens_the_studio_with_this_task()
    {
        var user = await SignInNewUserAsync();
        var task = await UserPageTasks.SubmitAsync(Tasks, user.Id, "a quiet harbour");
        RenderProviders();
        var cut = Render<TaskPage>(p => p.Add(x => x.Id, task.Id));
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("#reuse-settings")), Wait);

        cut.Find("#reuse-settings").Click();

        Assert.EndsWith($"/?from={task.Id}", Services.GetRequiredService<NavigationManager>().Uri);
    }

    [Fact]
    public async Task While_the_task_loads_the_page_shows_progress_then_the_task()
    {
        var user = await SignInNewUserAsync();
        var task = await UserPageTasks.SubmitAsync(Tasks, user.Id, "a lantern at dusk");
        var gated = new GatedDbContextFactory(Get<IDbContextFactory<BananaLabDbContext>>());
        Services.AddSingleton(TaskServiceReading.From(App.Services, gated));
        RenderProviders();

        var cut = Render<TaskPage>(p => p.Add(x => x.Id, task.Id));

        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll(".mud-progress-linear")), Wait);
        Assert.DoesNotContain("Task not found", cut.Markup);
        Assert.Empty(cut.FindAll("dl.fields"));

        gated.Open();

        cut.WaitForAssertion(() => Assert.Equal("a lantern at dusk", Fields(cut)["Prompt"]), Wait);
        Assert.Empty(cut.FindAll(".mud-progress-linear"));
    }

    [Fact]
    public async Task A_database_failure_is_a_neutral_message_not_an_exception()
    {
        await SignInNewUserAsync();
        Services.AddSingleton(TaskServiceReading.From(App.Services, new FailingDbContextFactory()));
        RenderProviders();

        var cut = Render<TaskPage>(p => p.Add(x => x.Id, Guid.NewGuid()));

        cut.WaitForAssertion(() => Assert.Contains(Services.GetRequiredService<MudBlazor.ISnackbar>().ShownSnackbars,
            s => s.Message?.Contains("could not be loaded") == true), Wait);
        Assert.DoesNotContain(FailingDbContextFactory.Detail, cut.Markup);
        Assert.DoesNotContain("Task not found", cut.Markup);
        Assert.Contains("This task could not be loaded", cut.Markup);
        Assert.NotEmpty(cut.FindAll("#task-retry"));
    }

    [Fact]
    public async Task Times_are_shown_in_the_viewers_time_zone_with_its_offset()
    {
        var user = await SignInNewUserAsync();
        var task = await UserPageTasks.SubmitAsync(Tasks, user.Id, "a lantern in Kyoto");
        Viewer.Use("Asia/Tokyo");
        RenderProviders();

        var cut = Render<TaskPage>(p => p.Add(x => x.Id, task.Id));

        cut.WaitForAssertion(() => Assert.Equal("a lantern in Kyoto", Fields(cut)["Prompt"]), Wait);
        // Tokyo keeps no daylight saving time: always nine hours ahead of UTC.
        var tokyo = DateTime.SpecifyKind(task.CreatedAt, DateTimeKind.Utc).AddHours(9);
        Assert.Equal($"{tokyo:yyyy-MM-dd HH:mm:ss} UTC+9", Fields(cut)["Created"]);
        Assert.DoesNotContain(" UTC<", cut.Markup);
    }

    internal static Dictionary<string, string> Fields(IRenderedComponent<TaskPage> cut) =>
        cut.FindAll("dl.fields dt").ToDictionary(dt => dt.TextContent.Trim(), dt => dt.NextElementSibling!.TextContent.Trim());
}

/// <summary>With the worker off a task stays queued, so the test itself plays the worker's notifications.</summary>
public sealed class TaskPageLiveProgressTests(NoWorkerFactory app) : StudioTestContext(app), IClassFixture<NoWorkerFactory>
{
    [Fact]
    public async Task Progress_from_the_notifier_updates_the_page_live_until_the_task_ends()
    {
        var user = await SignInNewUserAsync();
        var task = await UserPageTasks.SubmitAsync(Get<TaskService>(), user.Id, "a slow sunrise", waitUntilDone: false);
        RenderProviders();
        var cut = Render<TaskPage>(p => p.Add(x => x.Id, task.Id));
        cut.WaitForAssertion(() => Assert.Equal("Queued", TaskPageTests.Fields(cut)["Status"]), Wait);
        var notifier = Get<TaskNotifier>();

        notifier.Publish(new TaskEvent(task.Id, user.Id, TaskEventKind.Started, GenerationTaskStatus.Running, 0, 0, 5));
        notifier.Publish(new TaskEvent(task.Id, user.Id, TaskEventKind.Progress, GenerationTaskStatus.Running, 40, 2, 5));

        cut.WaitForAssertion(() => Assert.Contains("step 2 of 5", cut.Find("#task-progress-text").TextContent), Wait);
        Assert.Equal("40%", TaskPageTests.Fields(cut)["Progress"]);
        Assert.Equal("Running", TaskPageTests.Fields(cut)["Status"]);

        // Canceling publishes the end of the task; the page reads the final state back.
        var canceled = await Get<TaskService>().CancelAsync(task.Id, user.Id, default);
        Assert.True(canceled.Succeeded, canceled.Error?.ToString());
        cut.WaitForAssertion(() => Assert.Equal("Canceled", TaskPageTests.Fields(cut)["Status"]), Wait);
        Assert.Contains("canceled", cut.Find("#task-error").TextContent);
    }

    [Fact]
    public async Task A_task_page_and_a_studio_run_that_hear_the_end_before_any_read_shows_it_show_the_end_then_the_stored_result()
    {
        var user = await SignInNewUserAsync();
        await App.Services.HoldQueuedTasksAsync();
        var task = await UserPageTasks.SubmitAsync(Get<TaskService>(), user.Id, "an end heard early", waitUntilDone: false);
        RenderProviders();
        var page = Render<TaskPage>(p => p.Add(x => x.Id, task.Id));
        page.WaitForAssertion(() => Assert.Equal("Queued", TaskPageTests.Fields(page)["Status"]), Wait);
        TaskRun run = null!;
        var view = await Get<TaskService>().GetAsync(task.Id, user.Id, default);
        await Renderer.Dispatcher.InvokeAsync(() => run = new TaskRun(view!, user.Id, Get<TaskService>(), Get<TaskNotifier>(),
            work => Renderer.Dispatcher.InvokeAsync(work)));
        var queue = Get<TaskQueue>();
        var claimed = await queue.ClaimAsync("early-worker", TimeSpan.FromMinutes(1), default);
        Assert.Equal(task.Id, claimed!.Id);
        page.WaitForAssertion(() => Assert.Equal("Running", TaskPageTests.Fields(page)["Status"]), Wait);

        // The end arrives before the store says so (another node's event ahead of the commit a read sees, or a
        // cached copy): every read still says running. The page and the run show the end anyway.
        Get<TaskNotifier>().Publish(new TaskEvent(task.Id, user.Id, TaskEventKind.Succeeded, GenerationTaskStatus.Succeeded, 100));
        page.WaitForAssertion(() => Assert.Equal("Succeeded", TaskPageTests.Fields(page)["Status"]), Wait);
        Assert.Equal(GenerationTaskStatus.Succeeded, run.Status);
        Assert.Equal(100, run.ProgressPercent);
        Assert.Equal(GenerationTaskStatus.Running, (await App.Services.LoadTaskAsync(task.Id)).Status);

        // Then the store catches up, and both show the stored result with its image.
        var image = new TaskImage { TaskId = task.Id, Index = 0, FilePath = "none.png", Width = 1, Height = 1, ByteSize = 1, Sha256 = "00", ContentType = "image/png" };
        Assert.True(await queue.CompleteAsync(claimed, "early-worker", [image], computeMs: 5, default));
        var charged = TaskDisplay.Credits((await App.Services.LoadTaskAsync(task.Id)).CreditsCharged);
        page.WaitForAssertion(() => Assert.Equal(charged, TaskPageTests.Fields(page)["Credits charged"]), Wait);
        var deadline = DateTime.UtcNow + Wait;
        while (run.Task.Images.Count == 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Single(run.Task.Images);
        run.Dispose();
    }

    [Fact]
    public async Task Events_of_other_tasks_do_not_change_the_page()
    {
        var user = await SignInNewUserAsync();
        var task = await UserPageTasks.SubmitAsync(Get<TaskService>(), user.Id, "a patient heron", waitUntilDone: false);
        RenderProviders();
        var cut = Render<TaskPage>(p => p.Add(x => x.Id, task.Id));
        cut.WaitForAssertion(() => Assert.Equal("Queued", TaskPageTests.Fields(cut)["Status"]), Wait);

        Get<TaskNotifier>().Publish(new TaskEvent(Guid.NewGuid(), user.Id, TaskEventKind.Progress, GenerationTaskStatus.Running, 90, 9, 10));
        Get<TaskNotifier>().Publish(new TaskEvent(task.Id, user.Id, TaskEventKind.Progress, GenerationTaskStatus.Running, 10, 1, 10));

        cut.WaitForAssertion(() => Assert.Equal("10%", TaskPageTests.Fields(cut)["Progress"]), Wait);
    }
}

/// <summary>Deleting from the task page: the files go, the history no longer lists it, the ledger keeps the charge.</summary>
public sealed class TaskPageDeletionTests(BananaLabFactory app) : StudioTestContext(app), IClassFixture<BananaLabFactory>
{
    [Fact]
    public async Task The_owner_deletes_a_finished_task_after_confirming_and_returns_to_the_history()
    {
        var user = await SignInNewUserAsync(credits: 100);
        var tasks = Get<TaskService>();
        var task = await UserPageTasks.SubmitAsync(tasks, user.Id, "a task to delete");
        var file = (await tasks.GetImageAsync(task.Id, 0, user.Id, CancellationToken.None))!.Value.FullPath;
        var ledgerEntries = (await Get<BananaLab.Core.Credits.CreditLedger>().GetEntriesAsync(user.Id, 0, 100)).Count;
        RenderProviders();
        var page = Render<TaskPage>(p => p.Add(x => x.Id, task.Id));
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=delete-task]")), Wait);

        await page.Find("[data-testid=delete-task]").ClickAsync(new());
        Assert.True(File.Exists(file), "Nothing is deleted before the user confirms.");
        await page.Find("[data-testid=confirm-delete]").ClickAsync(new());

        page.WaitForAssertion(() => Assert.EndsWith("/history", Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>().Uri), Wait);
        Assert.False(File.Exists(file));
        Assert.Equal(0, (await tasks.ListAsync(user.Id, new TaskQuery(), CancellationToken.None)).Total);
        Assert.Equal(ledgerEntries, (await Get<BananaLab.Core.Credits.CreditLedger>().GetEntriesAsync(user.Id, 0, 100)).Count);
    }
}

