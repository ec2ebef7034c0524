using BananaLab.Core.Credits;
using BananaLab.Core.Generation;
using BananaLab.Core.Moderation;
using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Pages.Studio;
using Bunit;
using static BananaLab.Tests.Studio.StudioPageMarkup;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.Extensions.DependencyInjection;

namespace BananaLab.Tests.Studio;

/// <summary>The studio page with a live worker on the scripted test model.</summary>
public sealed class StudioPageTests(BananaLabFactory app) : StudioTestContext(app), IClassFixture<BananaLabFactory>
{
    [Fact]
    public async Task Empty_prompt_disables_generate_and_says_why()
    {
        await SignInNewUserAsync();
        RenderProviders();
        var page = Render<StudioPage>();

        page.WaitForAssertion(() => Assert.Equal("5 credits", page.Find("[data-testid=cost]").TextContent.Trim()));
        Assert.True(page.Find("[data-testid=generate]").HasAttribute("disabled"));
        Assert.Equal("Enter a prompt to generate.", page.Find("[data-testid=disabled-reason]").TextContent.Trim());
        Assert.Equal("100 credits", page.Find("[data-testid=balance]").TextContent.Trim());
    }

    [Fact]
    public async Task Cost_follows_size_and_count_and_short_credits_disable_generate()
    {
        await SignInNewUserAsync(credits: 12);
        RenderProviders();
        var page = Render<StudioPage>();
        TypePrompt(page, "red apple");

        page.Find("[data-testid=count]").Change("3");
        page.WaitForAssertion(() => Assert.Equal("15 credits", page.Find("[data-testid=cost]").TextContent.Trim()));
        Assert.Contains("5 × 3 images", page.Markup);
        Assert.True(page.Find("[data-testid=generate]").HasAttribute("disabled"));
        Assert.Equal("Needs 15 credits, your balance is 12.", page.Find("[data-testid=disabled-reason]").TextContent.Trim());

        page.Find("[data-testid=count]").Change("2");
        page.WaitForAssertion(() => Assert.False(page.Find("[data-testid=generate]").HasAttribute("disabled")));
        Assert.Equal("10 credits", page.Find("[data-testid=cost]").TextContent.Trim());
    }

    [Fact]
    public async Task Blocked_prompt_shows_the_neutral_message_keeps_the_prompt_and_charges_nothing()
    {
        var user = await SignInNewUserAsync(credits: 50);
        RenderProviders();
        var page = Render<StudioPage>();
        var prompt = page.Find("[data-testid=prompt]");
        prompt.Input("a csam picture");

        page.WaitForAssertion(() =>
            Assert.Equal(ModerationDecision.NeutralMessage, page.Find("[data-testid=moderation-message]").TextContent.Trim()), TimeSpan.FromSeconds(5));
        Assert.True(page.Find("[data-testid=generate]").HasAttribute("disabled"));
        Assert.Equal("a csam picture", PromptText(page));
        Assert.Equal(50, await Get<CreditLedger>().GetBalanceAsync(user.Id));
        var tasks = await Get<TaskService>().ListAsync(user.Id, new TaskQuery(), CancellationToken.None);
        Assert.Equal(0, tasks.Total);

        // Editing the prompt clears the block once the new text is screened.
        page.Find("[data-testid=prompt]").Input("a red apple");
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-testid=moderation-message]")), TimeSpan.FromSeconds(5));
        page.WaitForAssertion(() => Assert.False(page.Find("[data-testid=generate]").HasAttribute("disabled")));
    }

    [Fact]
    public async Task Generate_runs_the_task_and_shows_the_images_with_the_charge()
    {
        var user = await SignInNewUserAsync(credits: 100);
        RenderProviders();
        var page = Render<StudioPage>();
        page.Find("[data-testid=prompt]").Input("red apple [steps:3]");
        page.Find("[data-testid=count]").Change("2");
        page.WaitForAssertion(() => Assert.False(page.Find("[data-testid=generate]").HasAttribute("disabled")));

        await page.Find("[data-testid=generate]").ClickAsync(new());

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=result-image]").Count), TimeSpan.FromSeconds(20));
        var task = (await Get<TaskService>().ListAsync(user.Id, new TaskQuery(), CancellationToken.None)).Items.Single();
        Assert.Equal(GenerationTaskStatus.Succeeded, task.Status);
        Assert.Equal("studio", task.Source);
        Assert.Equal($"/media/tasks/{task.Id}/0", page.FindAll("[data-testid=result-image]")[0].GetAttribute("src"));
        Assert.Equal($"/media/tasks/{task.Id}/1?download=true", page.FindAll("[data-testid=download]")[1].GetAttribute("href"));
        page.WaitForAssertion(() => Assert.Equal("90 credits", page.Find("[data-testid=balance]").TextContent.Trim()));
        Assert.Equal(90, await Get<CreditLedger>().GetBalanceAsync(user.Id));
    }

    [Fact]
    public async Task A_failed_run_says_why_and_that_nothing_was_charged()
    {
        var user = await SignInNewUserAsync(credits: 100);
        RenderProviders();
        var page = Render<StudioPage>();
        TypePrompt(page, "red apple [empty]");
        await page.Find("[data-testid=generate]").ClickAsync(new());

        page.WaitForAssertion(() => Assert.Contains("Nothing was charged.", page.Find("[data-testid=run-error]").TextContent), TimeSpan.FromSeconds(20));
        Assert.Equal(100, await Get<CreditLedger>().GetBalanceAsync(user.Id));
    }

    [Fact]
    public async Task A_bad_reference_file_gets_a_clear_message_and_a_good_one_a_thumbnail()
    {
        await SignInNewUserAsync();
        RenderProviders();
        var page = Render<StudioPage>();

        page.FindComponent<InputFile>().UploadFiles(InputFileContent.CreateFromText("not an image at all", "notes.png", contentType: "image/png"));
        page.WaitForAssertion(() => Assert.Equal("This file can't be used: only PNG, JPEG and WebP images are accepted.",
            page.Find("[data-testid=reference-error]").TextContent.Trim()));
        Assert.Empty(page.FindAll("[data-testid=reference-thumb]"));

        var tooLarge = new byte[Get<Microsoft.Extensions.Options.IOptions<BananaLab.Core.Storage.StorageOptions>>().Value.MaxReferenceImageBytes + 1];
        page.FindComponent<InputFile>().UploadFiles(InputFileContent.CreateFromBinary(tooLarge, "huge.png", contentType: "image/png"));
        page.WaitForAssertion(() => Assert.Equal("The file is larger than 20 MB.", page.Find("[data-testid=reference-error]").TextContent.Trim()));

        var png = ScriptedGenerator.TinyPng;
        page.FindComponent<InputFile>().UploadFiles(InputFileContent.CreateFromBinary(png, "red.png", contentType: "image/png"));
        page.WaitForAssertion(() => Assert.StartsWith("data:image/png;base64,", page.Find("[data-testid=reference-thumb]").GetAttribute("src")));
        Assert.Empty(page.FindAll("[data-testid=reference-error]"));
    }

    [Fact]
    public async Task A_malformed_or_foreign_reuse_link_opens_an_empty_form()
    {
        var someoneElse = await Get<BananaLab.Core.Users.UserService>().CreateAsync($"{Guid.NewGuid():N}@example.test", "Other", BananaLab.Core.Users.UserRole.User);
        var theirs = await Get<TaskService>().SubmitAsync(someoneElse.Id,
            new SubmitTaskRequest { ModelId = BananaLabFactory.TestModel, Prompt = "their secret prompt" }, CancellationToken.None);
        await SignInNewUserAsync();
        RenderProviders();
        var navigation = Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>();

        foreach (var link in new[] { "/?from=not-a-guid", $"/?from={theirs.Value!.Id}" })
        {
            navigation.NavigateTo(link);
            var page = Render<StudioPage>();
            page.WaitForAssertion(() => Assert.Equal("Enter a prompt to generate.", page.Find("[data-testid=disabled-reason]").TextContent.Trim()));
            Assert.Equal("", PromptText(page));
            Assert.DoesNotContain("their secret prompt", page.Markup);
        }
    }

    [Fact]
    public async Task Reuse_settings_link_fills_the_form_from_an_earlier_task()
    {
        var user = await SignInNewUserAsync();
        var earlier = await Get<TaskService>().SubmitAsync(user.Id, new SubmitTaskRequest
        {
            ModelId = BananaLabFactory.TestModel, Prompt = "green apple", Size = "2K", ImageCount = 2, Seed = 4242, Steps = 7, Guidance = 6.5,
        }, CancellationToken.None);
        Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>().NavigateTo($"/?from={earlier.Value!.Id}");
        RenderProviders();

        var page = Render<StudioPage>();

        page.WaitForAssertion(() => Assert.Equal("green apple", PromptText(page)));
        Assert.Equal("20 credits", page.Find("[data-testid=cost]").TextContent.Trim());
        Assert.Contains("4242", page.Markup);
    }
}

internal static class StudioPageMarkup
{
    /// <summary>Types a prompt and waits until the debounced field has handed it to the page.</summary>
    public static void TypePrompt(IRenderedComponent<StudioPage> page, string text)
    {
        page.Find("[data-testid=prompt]").Input(text);
        // Wait for the debounced screening too, so no re-render is pending when the test clicks.
        page.WaitForAssertion(() =>
        {
            Assert.NotEmpty(page.FindAll("[data-testid=moderation-ok]"));
            Assert.False(page.Find("[data-testid=generate]").HasAttribute("disabled"));
        }, TimeSpan.FromSeconds(5));
    }

    /// <summary>The prompt box's text, whether it renders as an input or a textarea.</summary>
    public static string PromptText(IRenderedComponent<StudioPage> page)
    {
        var prompt = page.Find("[data-testid=prompt]");
        return prompt.GetAttribute("value") ?? prompt.TextContent;
    }
}

/// <summary>Progress arriving from the notifier, driven by hand (no worker runs in this host).</summary>
public sealed class StudioProgressTests(NoWorkerFactory app) : StudioTestContext(app), IClassFixture<NoWorkerFactory>
{
    [Fact]
    public async Task Queue_position_then_progress_and_preview_are_pushed_live()
    {
        var user = await SignInNewUserAsync();
        RenderProviders();
        var page = Render<StudioPage>();
        TypePrompt(page, "red apple");
        await page.Find("[data-testid=generate]").ClickAsync(new());

        page.WaitForAssertion(() => Assert.Contains("Next in line", page.Find("[data-testid=queue-position]").TextContent));
        var task = (await Get<TaskService>().ListAsync(user.Id, new TaskQuery(), CancellationToken.None)).Items.Single();

        var notifier = Get<TaskNotifier>();
        var preview = ScriptedGenerator.TinyPng;
        notifier.Publish(new TaskEvent(task.Id, user.Id, TaskEventKind.Started, GenerationTaskStatus.Running, 0));
        notifier.Publish(new TaskEvent(task.Id, user.Id, TaskEventKind.Progress, GenerationTaskStatus.Running, 40, 8, 20, preview));

        page.WaitForAssertion(() =>
        {
            var progress = page.Find("[data-testid=progress]");
            Assert.Equal("40", progress.GetAttribute("aria-valuenow"));
            Assert.Contains("step 8 of 20", progress.TextContent);
        });
        Assert.Equal("data:image/png;base64," + Convert.ToBase64String(ScriptedGenerator.TinyPng), page.Find("[data-testid=preview]").GetAttribute("src"));

        notifier.Publish(new TaskEvent(task.Id, user.Id, TaskEventKind.Progress, GenerationTaskStatus.Running, 75, 15, 20));
        page.WaitForAssertion(() => Assert.Equal("75", page.Find("[data-testid=progress]").GetAttribute("aria-valuenow")));
    }

    [Fact]
    public async Task The_run_panel_names_each_phase_and_the_time_left()
    {
        var user = await SignInNewUserAsync();
        RenderProviders();
        var page = Render<StudioPage>();
        TypePrompt(page, "red apple");
        await page.Find("[data-testid=generate]").ClickAsync(new());
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=queue-position]")));
        var task = (await Get<TaskService>().ListAsync(user.Id, new TaskQuery(), CancellationToken.None)).Items.Single();
        var notifier = Get<TaskNotifier>();
        string Phase() => page.Find("[data-testid=phase]").TextContent.Trim();
        string Eta() => page.Find("[data-testid=eta]").TextContent.Trim();

        notifier.Publish(new TaskEvent(task.Id, user.Id, TaskEventKind.Started, GenerationTaskStatus.Running, 0));
        notifier.Publish(new TaskEvent(task.Id, user.Id, TaskEventKind.Progress, GenerationTaskStatus.Running, 30, 7, 20,
            ReportedPhase: GenerationPhase.Denoising, EtaSeconds: 12));
        page.WaitForAssertion(() => Assert.Equal(("Denoising · step 7 of 20", "about 12 s left"), (Phase(), Eta())));

        notifier.Publish(new TaskEvent(task.Id, user.Id, TaskEventKind.Progress, GenerationTaskStatus.Running, 60, 20, 20,
            ReportedPhase: GenerationPhase.Upscaling, ImageCount: 1, EtaSeconds: 95));
        page.WaitForAssertion(() => Assert.Equal(("Upscaling to 1024 × 1024", "about 2 min left"), (Phase(), Eta())));

        notifier.Publish(new TaskEvent(task.Id, user.Id, TaskEventKind.Progress, GenerationTaskStatus.Running, 90, 20, 20,
            ReportedPhase: GenerationPhase.Encoding, ImageCount: 1));
        page.WaitForAssertion(() => Assert.Equal("Encoding and saving", Phase()));
        Assert.Empty(page.FindAll("[data-testid=eta]"));
        Assert.Equal("encoding", page.Find("[data-testid=phase]").GetAttribute("data-phase"));
    }

    [Fact]
    public async Task A_queued_run_shows_its_eta_once_the_model_has_been_measured()
    {
        Get<GenerationTimings>().Record(BananaLabFactory.TestModel,
            new RunTiming(new RunShape(2, 1, 1024, 1024), SecondsPerStep: 3, UpscaleSeconds: 2, EncodeSeconds: 1));
        await SignInNewUserAsync();
        RenderProviders();
        var page = Render<StudioPage>();
        TypePrompt(page, "red apple");
        await page.Find("[data-testid=generate]").ClickAsync(new());

        page.WaitForAssertion(() =>
        {
            Assert.Matches(@"^\d+ (s|min)$", page.Find("[data-testid=queue-position] [data-testid=eta]").TextContent.Trim());
            Assert.Matches(@"About \d+ (s|min) until your images are ready\.", page.Find("[data-testid=queue-position]").TextContent);
        });
    }

    [Fact]
    public async Task Cancel_while_queued_refunds_and_says_so()
    {
        var user = await SignInNewUserAsync(credits: 30);
        RenderProviders();
        var page = Render<StudioPage>();
        TypePrompt(page, "red apple");
        await page.Find("[data-testid=generate]").ClickAsync(new());
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=cancel]")));
        Assert.Equal(25, await Get<CreditLedger>().GetBalanceAsync(user.Id));

        await page.Find("[data-testid=cancel]").ClickAsync(new());

        page.WaitForAssertion(() => Assert.Contains("Canceled", page.Find("[data-testid=run-error]").TextContent), TimeSpan.FromSeconds(5));
        Assert.Equal(30, await Get<CreditLedger>().GetBalanceAsync(user.Id));
    }
}
