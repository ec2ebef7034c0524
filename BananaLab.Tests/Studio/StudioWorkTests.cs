using System.Text.Json;
using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Pages.Studio;
using Bunit;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.AspNetCore.Components.Web;
using static BananaLab.Tests.Studio.StudioPageMarkup;

namespace BananaLab.Tests.Studio;

/// <summary>The studio keeps the user's work: several runs, what a reload brings back, the gallery, delete, shortcuts.</summary>
public sealed class StudioWorkTests(BananaLabFactory app) : StudioTestContext(app), IClassFixture<BananaLabFactory>
{
    [Fact]
    public async Task Two_runs_started_one_after_the_other_each_show_their_own_state()
    {
        var user = await SignInNewUserAsync();
        RenderProviders();
        var page = Render<StudioPage>();

        TypePrompt(page, "slow one [slow:400] [steps:20]");
        await page.Find("[data-testid=generate]").ClickAsync(new());
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=run-panel]")), Wait);
        TypePrompt(page, "quick one");
        // The slow run's progress re-renders the page: find and click in one dispatch, or the button found may be stale.
        await page.InvokeAsync(() => page.Find("[data-testid=generate]").ClickAsync(new()));

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=run-panel]").Count), Wait);
        // Newest first; the worker runs one task at a time, so the quick one waits behind the slow one.
        page.WaitForAssertion(() =>
        {
            var panels = page.FindAll("[data-testid=run-panel]");
            Assert.Equal("queued", panels[0].GetAttribute("data-status"));
            Assert.Equal("running", panels[1].GetAttribute("data-status"));
            Assert.Single(panels[0].QuerySelectorAll("[data-testid=queue-position]"));
            Assert.Single(panels[1].QuerySelectorAll("[data-testid=progress]"));
            Assert.Equal("2 tasks queued or running", page.Find("[data-testid=active-runs]").TextContent.Trim());
        }, Wait);
        var tasks = (await Get<TaskService>().ListAsync(user.Id, new TaskQuery(), CancellationToken.None)).Items;
        Assert.Equal(2, tasks.Count);
        Assert.Equal(tasks.Select(t => t.Id.ToString()), page.FindAll("[data-task-id]").Select(e => e.GetAttribute("data-task-id")));

        // Canceling the slow one lets the quick one run to the end, each panel following its own task.
        await Get<TaskService>().CancelAsync(tasks.Single(t => t.Prompt.StartsWith("slow")).Id, user.Id, CancellationToken.None);
        page.WaitForAssertion(() =>
        {
            var panels = page.FindAll("[data-testid=run-panel]");
            Assert.Equal("succeeded", panels[0].GetAttribute("data-status"));
            Assert.Equal("canceled", panels[1].GetAttribute("data-status"));
            Assert.Empty(page.FindAll("[data-testid=active-runs]"));
        }, Wait);
    }

    [Fact]
    public async Task A_reload_restores_the_queued_and_running_tasks_and_the_last_form_values()
    {
        var user = await SignInNewUserAsync();
        var running = await Get<TaskService>().SubmitAsync(user.Id,
            new SubmitTaskRequest { ModelId = BananaLabFactory.TestModel, Prompt = "still going [slow:500] [steps:40]", Source = "studio" }, CancellationToken.None);
        var saved = new SavedStudioForm("a saved prompt", "blurry", BananaLabFactory.TestModel, "2K", "16:9", 3, false, 4242, 7, 6.5, 0.4);
        JSInterop.Setup<string?>("bananaLab.loadStudioForm", invocation => Equals(invocation.Arguments[0], user.Id))
            .SetResult(JsonSerializer.Serialize(saved));
        RenderProviders();

        var page = Render<StudioPage>();

        page.WaitForAssertion(() =>
        {
            var panel = page.Find($"[data-task-id='{running.Value!.Id}'] [data-testid=run-panel]");
            Assert.Contains(panel.GetAttribute("data-status"), new[] { "queued", "running" });
        }, Wait);
        page.WaitForAssertion(() => Assert.Equal("a saved prompt", PromptText(page)), Wait);
        Assert.Contains("4242", page.Markup);
        Assert.Equal("30 credits", page.Find("[data-testid=cost]").TextContent.Trim());
        await Get<TaskService>().CancelAsync(running.Value!.Id, user.Id, CancellationToken.None);
    }

    [Fact]
    public async Task Every_change_to_the_form_is_saved_for_the_next_visit()
    {
        var user = await SignInNewUserAsync();
        RenderProviders();
        var page = Render<StudioPage>();

        TypePrompt(page, "remember me");

        page.WaitForAssertion(() =>
        {
            var saves = JSInterop.Invocations["bananaLab.saveStudioForm"];
            // Saved under the account, so another account in the same browser never sees it.
            Assert.Equal(user.Id, saves[^1].Arguments[0]);
            var last = JsonSerializer.Deserialize<SavedStudioForm>((string)saves[^1].Arguments[1]!)!;
            Assert.Equal("remember me", last.Prompt);
        }, Wait);
    }

    [Fact]
    public async Task Generate_scrolls_to_the_run_it_started()
    {
        var user = await SignInNewUserAsync();
        RenderProviders();
        var page = Render<StudioPage>();
        TypePrompt(page, "scroll to me");

        await page.Find("[data-testid=generate]").ClickAsync(new());

        page.WaitForAssertion(() => Assert.Single(JSInterop.Invocations["bananaLab.scrollToRun"]), Wait);
        var task = (await Get<TaskService>().ListAsync(user.Id, new TaskQuery(), CancellationToken.None)).Items.Single();
        Assert.Equal(task.Id, (Guid)JSInterop.Invocations["bananaLab.scrollToRun"][0].Arguments[0]!);
    }

    [Fact]
    public async Task Ctrl_or_cmd_enter_in_the_prompt_generates()
    {
        var user = await SignInNewUserAsync();
        RenderProviders();
        var page = Render<StudioPage>();
        TypePrompt(page, "keyboard person");

        await page.Find("[data-testid=prompt]").KeyDownAsync(new KeyboardEventArgs { Key = "Enter", CtrlKey = true });
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=run-panel]")), Wait);
        await page.Find("[data-testid=prompt]").KeyDownAsync(new KeyboardEventArgs { Key = "Enter", MetaKey = true });
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=run-panel]").Count), Wait);
        await page.Find("[data-testid=prompt]").KeyDownAsync(new KeyboardEventArgs { Key = "Enter" });

        var tasks = (await Get<TaskService>().ListAsync(user.Id, new TaskQuery(), CancellationToken.None)).Items;
        Assert.Equal(2, tasks.Count);
        Assert.All(tasks, t => Assert.Equal("keyboard person", t.Prompt));
    }

    [Fact]
    public async Task The_strength_slider_and_fit_appear_with_a_reference_and_their_values_reach_the_task()
    {
        var user = await SignInNewUserAsync();
        RenderProviders();
        var page = Render<StudioPage>();
        Assert.Empty(page.FindAll("[data-testid=reference-strength]"));

        page.FindComponent<InputFile>().UploadFiles(InputFileContent.CreateFromBinary(ScriptedGenerator.TinyPng, "ref.png", contentType: "image/png"));
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=reference-strength]")), Wait);
        page.Find("[data-testid=reference-strength] input[type=range]").Input("0.3");
        page.Find("[data-testid=reference-fit] input[type=checkbox]").Change(true);
        TypePrompt(page, "like the reference");
        await page.Find("[data-testid=generate]").ClickAsync(new());

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=run-panel]")), Wait);
        var task = (await Get<TaskService>().ListAsync(user.Id, new TaskQuery(), CancellationToken.None)).Items.Single();
        Assert.NotNull(task.ReferenceImagePath);
        Assert.Equal(0.3, task.ReferenceStrength!.Value, 3);
        Assert.Equal(BananaLab.Core.Images.ReferenceFit.Contain, task.ReferenceFit);
    }

    [Fact]
    public async Task Deleting_a_finished_run_removes_it_its_files_and_its_gallery_images()
    {
        var user = await SignInNewUserAsync();
        RenderProviders();
        var page = Render<StudioPage>();
        TypePrompt(page, "short lived");
        await page.Find("[data-testid=generate]").ClickAsync(new());
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=result-image]")), Wait);
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=recent-image]")), Wait);
        var task = (await Get<TaskService>().ListAsync(user.Id, new TaskQuery(), CancellationToken.None)).Items.Single();
        var file = (await Get<TaskService>().GetImageAsync(task.Id, 0, user.Id, CancellationToken.None))!.Value.FullPath;

        await page.Find("[data-testid=delete-run]").ClickAsync(new());
        await page.Find("[data-testid=confirm-delete]").ClickAsync(new());

        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-testid=run-panel]")), Wait);
        Assert.Empty(page.FindAll("[data-testid=recent-image]"));
        Assert.False(File.Exists(file));
        Assert.Null(await Get<TaskService>().GetAsync(task.Id, user.Id, CancellationToken.None));
        Assert.NotNull((await Get<TaskService>().GetAsync(task.Id, null, CancellationToken.None))!.Task.DeletedAt);
    }

    [Fact]
    public async Task The_gallery_shows_every_image_of_the_users_recent_tasks()
    {
        var user = await SignInNewUserAsync();
        var tasks = Get<TaskService>();
        foreach (var count in new[] { 2, 3 })
        {
            var submitted = await tasks.SubmitAsync(user.Id,
                new SubmitTaskRequest { ModelId = BananaLabFactory.TestModel, Prompt = $"{count} images", ImageCount = count }, CancellationToken.None);
            Assert.Equal(GenerationTaskStatus.Succeeded, (await tasks.WaitAsync(submitted.Value!.Id, user.Id, Wait, CancellationToken.None))!.Status);
        }
        RenderProviders();

        var page = Render<StudioPage>();

        page.WaitForAssertion(() => Assert.Equal(5, page.FindAll("[data-testid=recent-image]").Count), Wait);
        Assert.All(page.FindAll("[data-testid=recent-image] img"), img => Assert.Matches("^/media/tasks/[0-9a-f-]+/[0-4]/thumb$", img.GetAttribute("src")));
    }
}
