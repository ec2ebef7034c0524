using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using BananaLab.Core.Credits;
using BananaLab.Core.Moderation;
using BananaLab.Core.Data;
using BananaLab.Core.Tasks;
using BananaLab.Core.Users;
using BananaLab.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace BananaLab.Tests.Browser;

/// <summary>The studio end to end in Chromium: generate on the embedded model, a blocked prompt, the admin's task log.</summary>
[Collection(BrowserCollection.Name)]
public sealed class StudioBrowserTests(BrowserFixture browser, ITestOutputHelper output)
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private T Get<T>() where T : notnull => browser.Host.Get<T>();

    [Fact]
    public Task A_new_user_signs_up_generates_with_the_embedded_model_downloads_the_png_finds_the_charge_and_signs_out() => browser.RunAsync(output, async page =>
    {
        var email = AccountSteps.NewEmail();
        await AccountSteps.RegisterAsync(page, "Gina Generate", email);
        await AccountSteps.WaitForPathAsync(page, "/");
        await StudioSteps.ExpectStyledAndConnectedAsync(page);
        var user = (await Get<UserService>().FindByEmailAsync(email))!;
        var cost = Get<TaskService>().Quote(BrowserFixture.EmbeddedModel, "1K", 1, "1:1").Value!.Total;

        await StudioSteps.EnterPromptAsync(page, "a yellow banana on a blue plate", StudioSteps.ModerationOk(page));
        await Expect(StudioSteps.Generate(page)).ToBeEnabledAsync();
        await Expect(page.GetByTestId("cost")).ToContainTextAsync(WholeNumber(cost));
        await Expect(page.GetByTestId("balance")).ToContainTextAsync(WholeNumber(100));
        await StudioSteps.RecordProgressAsync(page);
        await StudioSteps.Generate(page).ClickAsync();

        await StudioSteps.ExpectResultImageAsync(page, BrowserFixture.GenerationTimeout);
        var progress = await StudioSteps.RecordedProgressAsync(page);
        output.WriteLine($"Progress shown: [{string.Join(", ", progress)}]");
        Assert.True(progress.Length >= 2 && progress.Max() > progress[0],
            $"The progress bar should advance while the image is generated; it showed [{string.Join(", ", progress)}].");

        var task = Assert.Single((await Get<TaskService>().ListAsync(user.Id, new TaskQuery(), default)).Items);
        Assert.Equal(BrowserFixture.EmbeddedModel, task.ModelId);
        Assert.Equal(GenerationTaskStatus.Succeeded, task.Status);
        Assert.Equal(cost, task.CreditsCharged);

        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("download").First.ClickAsync());
        var downloaded = await ReadAllAsync(await download.CreateReadStreamAsync());
        Assert.Equal(PngSignature, downloaded.Take(PngSignature.Length));
        var (_, storedPath) = (await Get<TaskService>().GetImageAsync(task.Id, 0, user.Id, default))!.Value;
        Assert.Equal(await File.ReadAllBytesAsync(storedPath), downloaded);

        var balance = 100 - cost;
        await Expect(AccountSteps.BalanceChip(page, balance)).ToBeVisibleAsync();
        await page.GotoAsync("/credits");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToBeVisibleAsync();
        await Expect(AccountSteps.BalanceChip(page, balance)).ToBeVisibleAsync();
        // The ledger's rows for this task link to it; one of them shows the charge as a negative amount.
        var taskRows = page.GetByRole(AriaRole.Row).Filter(new() { Has = page.Locator($"a[href$='tasks/{task.Id}']") });
        await Expect(taskRows.First).ToBeVisibleAsync();
        await Expect(taskRows.Filter(new() { HasTextRegex = new Regex($@"[-−]\s*{cost}(?!\d)") })).Not.ToHaveCountAsync(0);

        await AccountSteps.SignOutAsync(page);
        await page.GotoAsync("/");
        await AccountSteps.WaitForPathAsync(page, "/account/login");
    });

    [Fact]
    public Task A_blocked_prompt_shows_the_neutral_message_keeps_the_prompt_and_charges_nothing() => browser.RunAsync(output, async page =>
    {
        var email = AccountSteps.NewEmail();
        var user = await Get<UserService>().CreateAsync(email, "Bo Blocked", UserRole.User, AccountSteps.Password, initialCredits: 100);
        await AccountSteps.SignInAsync(page, email, AccountSteps.Password);
        await AccountSteps.WaitForPathAsync(page, "/");
        var ledgerBefore = await Get<CreditLedger>().GetEntriesAsync(user.Id, 0, 100);

        const string prompt = "csam";  // Moderation:BlockedTerms in appsettings.json
        await StudioSteps.EnterPromptAsync(page, prompt, StudioSteps.ModerationMessage(page));

        await Expect(StudioSteps.ModerationMessage(page)).ToHaveTextAsync(ModerationDecision.NeutralMessage);
        await Expect(StudioSteps.Generate(page)).ToBeDisabledAsync();
        await Expect(StudioSteps.Prompt(page)).ToBeEditableAsync();
        await Expect(StudioSteps.Prompt(page)).ToHaveValueAsync(prompt);
        await Expect(page.GetByTestId("balance")).ToContainTextAsync(WholeNumber(100));
        await Expect(AccountSteps.BalanceChip(page, 100)).ToBeVisibleAsync();

        // One click asks an admin for a review; the button says so and the message stays neutral.
        var askReview = page.GetByTestId("ask-review");
        await askReview.ClickAsync();
        await Expect(askReview).ToHaveTextAsync("Review requested");
        await Expect(askReview).ToBeDisabledAsync();
        await Expect(StudioSteps.ModerationMessage(page)).ToHaveTextAsync(ModerationDecision.NeutralMessage);
        await using (var db = await Get<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync())
        {
            var requested = await db.Set<ModerationDecisionRecord>().InReviewState(ModerationReviewState.Requested)
                .Where(d => d.UserId == user.Id).ToListAsync();
            Assert.Equal(prompt, Assert.Single(requested).Prompt);
        }

        // Revising the prompt clears the message and lets the user generate again.
        await StudioSteps.EnterPromptAsync(page, "a calm blue lake", StudioSteps.ModerationOk(page));
        await Expect(StudioSteps.ModerationMessage(page)).ToHaveCountAsync(0);
        await Expect(StudioSteps.Generate(page)).ToBeEnabledAsync();

        Assert.Equal(100, await Get<CreditLedger>().GetBalanceAsync(user.Id));
        Assert.Equal(ledgerBefore.Count, (await Get<CreditLedger>().GetEntriesAsync(user.Id, 0, 100)).Count);
        Assert.All((await Get<TaskService>().ListAsync(user.Id, new TaskQuery(), default)).Items,
            task => Assert.Equal(0, task.CreditsReserved));
    });

    [Fact]
    public Task The_prompt_shows_its_tokens_as_the_user_types_and_one_past_the_models_context_is_refused_uncharged() => browser.RunAsync(output, async page =>
    {
        var email = AccountSteps.NewEmail();
        var user = await Get<UserService>().CreateAsync(email, "Tom Tokens", UserRole.User, AccountSteps.Password, initialCredits: 100);
        await AccountSteps.SignInAsync(page, email, AccountSteps.Password);
        await AccountSteps.WaitForPathAsync(page, "/");

        // banana-nano's UNet takes a fixed 77-token context: 75 prompt tokens between bos and eos. Its tokens are concept
        // ids: "red apple" is one (the emoji's name).
        await StudioSteps.EnterPromptAsync(page, "red apple", StudioSteps.ModerationOk(page));
        await Expect(page.GetByTestId("prompt-tokens")).ToHaveTextAsync("1 / 75 tokens");
        var tooLong = string.Concat(Enumerable.Repeat("red apple ", 76));
        await StudioSteps.EnterPromptAsync(page, tooLong, StudioSteps.ModerationOk(page));
        await Expect(page.GetByTestId("prompt-tokens")).ToHaveTextAsync("76 / 75 tokens");
        await Expect(StudioSteps.Generate(page)).ToBeDisabledAsync();
        await Expect(page.GetByTestId("disabled-reason")).ToContainTextAsync("The prompt is 76 tokens; the model 'banana-nano' reads at most 75.");

        // The API refuses the same prompt before anything is reserved.
        var key = (await Get<ApiKeyService>().CreateAsync(user.Id, "tokens test")).Secret;
        using var client = new HttpClient { BaseAddress = browser.Host.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        var response = await client.PostAsJsonAsync("/api/v1/tasks", new { model = BrowserFixture.EmbeddedModel, prompt = tooLong });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ReadJsonAsync();
        Assert.Equal("prompt_too_long_for_model", problem.GetProperty("code").GetString());
        Assert.Contains("76 tokens", problem.GetProperty("detail").GetString());
        Assert.Equal(100, await Get<CreditLedger>().GetBalanceAsync(user.Id));
        Assert.Empty((await Get<TaskService>().ListAsync(user.Id, new TaskQuery(), default)).Items);
    });

    [Fact]
    public Task The_admin_finds_a_users_task_in_the_task_log_with_its_details() => browser.RunAsync(output, async page =>
    {
        var email = AccountSteps.NewEmail();
        var user = await Get<UserService>().CreateAsync(email, "Tess Tasklog", UserRole.User, AccountSteps.Password, initialCredits: 100);
        var prompt = $"a lighthouse at dusk {Guid.NewGuid():N}";
        var submitted = await Get<TaskService>().SubmitAsync(user.Id,
            new SubmitTaskRequest { ModelId = BrowserFixture.EmbeddedModel, Prompt = prompt, Size = "1K", Steps = 4, Source = "studio" }, default);
        Assert.True(submitted.Succeeded, submitted.Error?.Message);
        var task = await browser.Host.WaitForFinishAsync(submitted.Value!.Id, BrowserFixture.GenerationTimeout);
        Assert.Equal(GenerationTaskStatus.Succeeded, task.Status);

        await AccountSteps.SignInAsync(page, ProductionHost.AdminEmail, ProductionHost.AdminPassword,
            "/account/login?returnUrl=%2Fadmin%2Ftasks");
        await AccountSteps.WaitForPathAsync(page, "/admin/tasks");
        var taskLink = page.Locator($"a[href$='admin/tasks/{task.Id}']").First;
        await Expect(taskLink).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Row).Filter(new() { Has = taskLink })).ToContainTextAsync(email);

        await taskLink.ClickAsync();
        await AccountSteps.WaitForPathAsync(page, $"/admin/tasks/{task.Id}");
        var details = page.Locator("body");
        await Expect(details).ToContainTextAsync(prompt);
        await Expect(details).ToContainTextAsync(email);
        await Expect(details).ToContainTextAsync(BrowserFixture.EmbeddedModel);
        await Expect(details).ToContainTextAsync(task.WorkerName!);
        await Expect(details).ToContainTextAsync("succeeded", new() { IgnoreCase = true });
    });

    [Fact]
    public Task A_member_is_refused_the_admin_task_log() => browser.RunAsync(output, async page =>
    {
        var email = AccountSteps.NewEmail();
        await Get<UserService>().CreateAsync(email, "Mo Member", UserRole.User, AccountSteps.Password, initialCredits: 100);
        await AccountSteps.SignInAsync(page, email, AccountSteps.Password, "/account/login?returnUrl=%2Fadmin%2Ftasks");

        // Wherever the refusal is shown (in place, or on the cookie handler's access-denied page), it says so plainly.
        await Expect(page.GetByText("This page is for administrators")).ToBeVisibleAsync();
        await Expect(page.Locator("a[href*='admin/tasks/']")).ToHaveCountAsync(0);
    });

    [Fact]
    public Task A_reload_mid_run_brings_back_the_run_with_live_progress_and_the_prompt() => browser.RunAsync(output, async page =>
    {
        await AccountSteps.RegisterAsync(page, "Rey Reload", AccountSteps.NewEmail());
        await AccountSteps.WaitForPathAsync(page, "/");
        const string prompt = "a red apple on a green plate";
        await StudioSteps.EnterPromptAsync(page, prompt, StudioSteps.ModerationOk(page));
        await StudioSteps.Generate(page).ClickAsync();
        var run = page.Locator("[data-task-id]").First;
        await Expect(run).ToBeVisibleAsync();
        var taskId = await run.GetAttributeAsync("data-task-id");

        await page.ReloadAsync();

        var restored = page.Locator($"[data-task-id='{taskId}']");
        await Expect(restored).ToBeVisibleAsync();
        await Expect(StudioSteps.Prompt(page)).ToHaveValueAsync(prompt);
        // Still live after the reload: the same run reaches its images without another reload.
        await StudioSteps.ExpectResultImageAsync(page, BrowserFixture.GenerationTimeout);
        await Expect(restored.GetByTestId("run-panel")).ToHaveAttributeAsync("data-status", "succeeded");
    });

    [Fact]
    public Task On_a_390_px_phone_generate_scrolls_to_the_run_it_started() => browser.RunAsync(output, async page =>
    {
        await AccountSteps.RegisterAsync(page, "Pia Phone", AccountSteps.NewEmail());
        await AccountSteps.WaitForPathAsync(page, "/");
        await StudioSteps.EnterPromptAsync(page, "a yellow star", StudioSteps.ModerationOk(page));
        var recent = page.GetByTestId("recent-results");
        await Expect(recent).Not.ToBeInViewportAsync();
        Assert.Equal(0, await page.EvaluateAsync<int>("() => window.scrollY"));

        await StudioSteps.Generate(page).ClickAsync();

        // The run sits below the form on a phone: the page scrolls until its header shows under the app bar.
        var run = page.Locator("[data-task-id]").First;
        await Expect(run).ToBeInViewportAsync();
        const string position = """
            () => {
                const run = document.querySelector('[data-task-id]');
                const bar = document.querySelector('.mud-appbar').getBoundingClientRect();
                return [window.scrollY, run.getBoundingClientRect().top, bar.bottom];
            }
            """;
        try
        {
            await page.WaitForFunctionAsync($"() => {{ const [y, top, bar] = ({position})(); return y > 0 && top >= bar - 1; }}");
        }
        catch (TimeoutException)
        {
            var (y, top, bar) = await page.EvaluateAsync<double[]>(position) is var p ? (p[0], p[1], p[2]) : default;
            Assert.Fail($"The run's header should show below the app bar after scrolling: scrollY {y}, run top {top}, app bar bottom {bar}.");
        }
    }, width: 390, height: 844);

    [Fact]
    public Task A_browsers_first_page_shows_times_in_its_own_zone_before_any_cookie_says_so() => browser.RunAsync(output, async page =>
    {
        var email = AccountSteps.NewEmail();
        var user = await Get<UserService>().CreateAsync(email, "Tomo Tokyo", UserRole.User, AccountSteps.Password, initialCredits: 100);
        var submitted = await Get<TaskService>().SubmitAsync(user.Id,
            new SubmitTaskRequest { ModelId = BrowserFixture.EmbeddedModel, Prompt = "a red lantern", Steps = 2, Source = "studio" }, default);
        var task = await browser.Host.WaitForFinishAsync(submitted.Value!.Id, BrowserFixture.GenerationTimeout);
        await AccountSteps.SignInAsync(page, email, AccountSteps.Password, $"/account/login?returnUrl=%2Ftasks%2F{task.Id}");
        await AccountSteps.WaitForPathAsync(page, $"/tasks/{task.Id}");

        // As on a browser's very first visit: the page is rendered without the cookie app.js writes as it loads.
        await page.EvaluateAsync("() => { document.cookie = 'bananalab-tz=; max-age=0; path=/'; }");
        await page.ReloadAsync();

        var tokyo = TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(task.CreatedAt, DateTimeKind.Utc), TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo"));
        await Expect(page.Locator("body")).ToContainTextAsync($"{tokyo:yyyy-MM-dd HH:mm:ss} UTC+9");
    }, timezoneId: "Asia/Tokyo");

    /// <summary>The number on its own, not as part of a longer one ("1" does not match "100").</summary>
    private static Regex WholeNumber(int value) => new($@"(?<![\d,.]){value}(?![\d,.])");

    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        await using (stream)
        {
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer);
            return buffer.ToArray();
        }
    }
}
