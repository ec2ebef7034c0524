using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace BananaLab.Tools.Screenshots;

enum Visitor { Anonymous, User, Admin }

/// <summary>One page to photograph: its file name stem, its path, who looks at it, and what they do there first.</summary>
sealed record Shot(string Name, string Path, Visitor Visitor, Func<IPage, Task>? Prepare = null);

sealed record Account(string Email, string Password);

/// <summary>
/// Walks every studio page in Chromium at each width and saves a full-page PNG of it. With
/// <paramref name="generateInStudio"/> the studio is photographed after a generation, with its result.
/// </summary>
sealed class Tour(IBrowser browser, Uri baseAddress, Account user, Account admin, string outputDirectory, bool generateInStudio)
{
    public static readonly int[] Widths = [1440, 390];
    private static readonly Regex TaskLink = new("tasks/([0-9a-fA-F-]{36})");

    private readonly List<string> _problems = [];

    public IReadOnlyList<string> Problems => _problems;

    public int Saved { get; private set; }

    private void Problem(string message)
    {
        _problems.Add(message);
        Console.Error.WriteLine("  ! " + message);
    }

    public async Task RunAsync(Guid? userTask, Guid? adminTask)
    {
        Directory.CreateDirectory(outputDirectory);
        foreach (var width in Widths)
        {
            await using var anonymous = await NewContextAsync(width);
            await using var member = await SignedInContextAsync(width, user);
            await using var administrator = await SignedInContextAsync(width, admin);
            // Without a seeded task (--url), take the newest one each list links to.
            var memberTask = userTask ?? await FirstTaskLinkedFromAsync(member, "/history");
            var anyTask = adminTask ?? await FirstTaskLinkedFromAsync(administrator, "/admin/tasks");

            foreach (var shot in Shots(memberTask, anyTask))
            {
                var context = shot.Visitor switch { Visitor.User => member, Visitor.Admin => administrator, _ => anonymous };
                await SaveAsync(context, shot, width);
            }
        }
    }

    private IEnumerable<Shot> Shots(Guid? userTask, Guid? anyTask)
    {
        yield return new("login", "/account/login", Visitor.Anonymous);
        yield return new("register", "/account/register", Visitor.Anonymous);
        yield return new("studio", "/", Visitor.User, generateInStudio ? GenerateAsync : null);
        yield return new("history", "/history", Visitor.User);
        yield return new("history-grid", "/history?view=grid", Visitor.User);
        if (userTask is { } mine) yield return new("task", $"/tasks/{mine}", Visitor.User);
        yield return new("credits", "/credits", Visitor.User);
        yield return new("developers-keys", "/developers/keys", Visitor.User);
        yield return new("developers", "/developers", Visitor.User);
        yield return new("account-password", "/account/password", Visitor.User);
        // Last of the member's pages: the theme cookie stays with the browser context.
        yield return new("history-dark", "/history", Visitor.User, DarkAsync);
        yield return new("admin", "/admin", Visitor.Admin);
        yield return new("admin-tasks", "/admin/tasks", Visitor.Admin);
        if (anyTask is { } any) yield return new("admin-task", $"/admin/tasks/{any}", Visitor.Admin);
        yield return new("admin-moderation", "/admin/moderation", Visitor.Admin);
        yield return new("admin-users", "/admin/users", Visitor.Admin);
        yield return new("admin-models", "/admin/models", Visitor.Admin);
    }

    private async Task SaveAsync(IBrowserContext context, Shot shot, int width)
    {
        var page = await context.NewPageAsync();
        var broken = new List<string>();
        page.Response += (_, response) =>
        {
            if (response.Status >= 400) broken.Add($"{new Uri(response.Url).AbsolutePath} answered {response.Status}");
        };
        try
        {
            var response = await page.GotoAsync(shot.Path);
            if (response is null || !response.Ok)
            {
                Problem($"{shot.Path} at {width} px answered {response?.Status.ToString() ?? "nothing"}; no screenshot.");
                return;
            }
            if (new Uri(page.Url).PathAndQuery != shot.Path)
            {
                Problem($"{shot.Path} at {width} px ended on {new Uri(page.Url).PathAndQuery}; no screenshot.");
                return;
            }
            await SettleAsync(page);
            if (shot.Prepare is { } prepare)
            {
                await prepare(page);
                await SettleAsync(page);
            }
            // Reported, not fatal: the page is still worth a picture, and the list says what to fix.
            if (broken.Count > 0) Problem($"{shot.Path} at {width} px: {string.Join("; ", broken.Distinct())}.");
            var file = Path.Combine(outputDirectory, $"{shot.Name}-{width}.png");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = file, FullPage = true, Animations = ScreenshotAnimations.Disabled });
            Saved++;
            Console.WriteLine($"  {Path.GetRelativePath(Directory.GetCurrentDirectory(), file)}");
        }
        catch (PlaywrightException error)
        {
            Problem($"{shot.Path} at {width} px: {error.Message.Split('\n')[0]}");
        }
        finally
        {
            await page.CloseAsync();
        }
    }

    /// <summary>The viewer's dark theme: the cookie the app bar's toggle writes, then the page as the server renders it with it.</summary>
    private static async Task DarkAsync(IPage page)
    {
        await page.EvaluateAsync("() => window.bananaLab.setTheme('dark')");
        await page.ReloadAsync();
    }

    /// <summary>Waits until the page has its heading, no loading indicator and every image decoded.</summary>
    private static async Task SettleAsync(IPage page)
    {
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await page.Locator("h1").First.WaitForAsync(new() { Timeout = 15_000 });
        await page.WaitForFunctionAsync(
            "() => !document.querySelector('.mud-progress-linear-indeterminate, .mud-skeleton, .mud-table-loading-progress')",
            null, new() { Timeout = 15_000 });
        // A full-page picture shows images below the fold too, so lazy ones are asked to load now.
        await page.EvaluateAsync("""
            () => {
                const pending = [...document.images].filter(img => { img.loading = 'eager'; return !img.complete; })
                    .map(img => new Promise(resolve => { img.onload = img.onerror = resolve; }));
                return Promise.race([Promise.all(pending), new Promise(resolve => setTimeout(resolve, 15000))]);
            }
            """);
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        // Navigation focuses the h1 for screen readers; the focus ring does not belong in a picture.
        await page.EvaluateAsync("() => document.activeElement?.blur()");
        // The app bar is fixed: a full-page picture only lines up from the top.
        await page.EvaluateAsync("() => window.scrollTo(0, 0)");
    }

    /// <summary>
    /// Generates one image in the studio as a person would. The prompt is typed again until the page has
    /// screened it, since typing before the Blazor circuit is up is lost.
    /// </summary>
    private static async Task GenerateAsync(IPage page)
    {
        var prompt = page.Locator("textarea[data-testid=prompt], [data-testid=prompt] textarea");
        for (var attempt = 1; ; attempt++)
        {
            await prompt.FillAsync("a yellow banana");
            try
            {
                await page.GetByTestId("moderation-ok").WaitForAsync(new() { Timeout = 5_000 });
                break;
            }
            catch (TimeoutException) when (attempt < 12)
            {
            }
        }
        await page.GetByTestId("generate").ClickAsync();
        await page.Locator("[data-testid=result-image]").First.WaitForAsync(new() { Timeout = 180_000 });
    }

    private async Task<Guid?> FirstTaskLinkedFromAsync(IBrowserContext context, string path)
    {
        var page = await context.NewPageAsync();
        try
        {
            await page.GotoAsync(path);
            var link = page.Locator("a[href*='tasks/']").First;
            await link.WaitForAsync(new() { Timeout = 15_000 });
            var match = TaskLink.Match(await link.GetAttributeAsync("href") ?? "");
            return match.Success ? Guid.Parse(match.Groups[1].Value) : null;
        }
        catch (TimeoutException)
        {
            Problem($"{path} links to no task, so its task page was skipped.");
            return null;
        }
        finally
        {
            await page.CloseAsync();
        }
    }

    private async Task<IBrowserContext> NewContextAsync(int width)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseAddress.ToString().TrimEnd('/'),
            ViewportSize = new ViewportSize { Width = width, Height = width >= 1000 ? 900 : 844 },
            DeviceScaleFactor = 1,
            ColorScheme = ColorScheme.Light,
            Locale = "en-US",
        });
        context.SetDefaultTimeout(30_000);
        context.SetDefaultNavigationTimeout(60_000);
        return context;
    }

    /// <summary>Signs in through the login form, as a person would, so the context holds the auth cookie.</summary>
    private async Task<IBrowserContext> SignedInContextAsync(int width, Account account)
    {
        var context = await NewContextAsync(width);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/account/login");
        await page.GetByLabel("Email").FillAsync(account.Email);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(account.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        try
        {
            await page.WaitForURLAsync(url => new Uri(url).AbsolutePath != "/account/login");
        }
        catch (TimeoutException)
        {
            var alert = page.GetByRole(AriaRole.Alert);
            var reason = await alert.CountAsync() > 0 ? await alert.First.InnerTextAsync() : "the login page did not move on";
            throw new InvalidOperationException($"Signing in as {account.Email} failed: {reason}");
        }
        await page.CloseAsync();
        return context;
    }
}
