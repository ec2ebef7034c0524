using System.Net;
using System.Runtime.CompilerServices;
using BananaLab.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace BananaLab.Tests.Browser;

/// <summary>
/// The app started as the README starts it (<see cref="ProductionHost"/>: <c>dotnet run --project BananaLab.Web</c>,
/// the default environment, the embedded model) on a free loopback port, and Debian's Chromium driven by Playwright.
/// The browser comes from <c>BROWSER_PATH</c> (default <c>/usr/bin/chromium</c>) and is never downloaded;
/// when it is missing every browser test fails with a message that says how to install it.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string BrowserPathVariable = "BROWSER_PATH";
    public const string DefaultBrowserPath = "/usr/bin/chromium";

    /// <summary>Generation on the embedded model runs on a shared CPU; the first run also loads the ONNX sessions.</summary>
    public static readonly TimeSpan GenerationTimeout = TimeSpan.FromMinutes(3);

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public const string EmbeddedModel = "banana-nano";

    /// <summary>The shipped catalog's second offline model, banana-nano distilled to 4 steps: Compare mode's partner.</summary>
    public const string TurboModel = "banana-nano-turbo";

    /// <summary>
    /// What the browser tests change from a plain install, each something a user could set in the environment.
    /// The studio starts from the model's default steps: at 20 a generation can finish between two renders that
    /// reach a busy browser, and 60 keeps it on screen long enough to watch its progress. Sign-in attempts are
    /// limited per address, and every test signs in from 127.0.0.1.
    /// </summary>
    private static readonly Dictionary<string, string?> Settings = new()
    {
        [$"Models:{EmbeddedModel}:DefaultSteps"] = "60",
        ["RateLimits:SignInAttemptsPerMinute"] = "10000",
        ["Worker:PollIntervalMs"] = "200",
    };

    private ProductionHost? _host;

    public ProductionHost Host => _host ?? throw new InvalidOperationException("The fixture has not started.");

    public Uri BaseAddress { get; private set; } = default!;

    public static string FailureDirectory => Path.Combine(AppContext.BaseDirectory, "browser-failures");

    public async Task InitializeAsync()
    {
        var browserPath = Environment.GetEnvironmentVariable(BrowserPathVariable) is { Length: > 0 } configured ? configured : DefaultBrowserPath;
        if (!File.Exists(browserPath))
            throw new InvalidOperationException(
                $"The browser tests need Chromium at '{browserPath}' and it does not exist. Install Debian's package " +
                $"(apt-get install -y chromium) or set {BrowserPathVariable} to a Chromium executable. Playwright never downloads one here.");

        _host = await ProductionHost.StartReadmeAsync(Settings);
        BaseAddress = _host.BaseAddress;
        if (!IPAddress.TryParse(BaseAddress.Host, out var address) || !IPAddress.IsLoopback(address))
            throw new InvalidOperationException($"The app under test must listen on loopback only, but it listens on {BaseAddress}.");

        // The default 5 s is short for a shared 2-core machine that runs the rest of the suite beside these tests.
        Assertions.SetDefaultExpectTimeout(15_000);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = browserPath,
            Headless = true,
            Args =
            [
                "--no-sandbox",
                "--disable-dev-shm-usage",
                // Only the app on loopback: no host name resolves, so nothing else can be reached.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            ],
        });
    }

    /// <summary>A fresh browser context (its own cookies) with one page on the app.</summary>
    public async Task<IPage> NewPageAsync(int width = 1280, int height = 900, string timezoneId = "UTC")
    {
        var context = await _browser!.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseAddress.ToString().TrimEnd('/'),
            AcceptDownloads = true,
            ViewportSize = new ViewportSize { Width = width, Height = height },
            ColorScheme = ColorScheme.Light,
            Locale = "en-US",
            TimezoneId = timezoneId,
        });
        context.SetDefaultTimeout(30_000);
        context.SetDefaultNavigationTimeout(60_000);
        return await context.NewPageAsync();
    }

    /// <summary>
    /// Runs one browser test in a fresh context. On failure it saves a screenshot and the page's HTML under
    /// <see cref="FailureDirectory"/> and names them in the failure message.
    /// </summary>
    public async Task RunAsync(ITestOutputHelper output, Func<IPage, Task> test, int width = 1280, int height = 900,
        string timezoneId = "UTC", [CallerMemberName] string testName = "")
    {
        var page = await NewPageAsync(width, height, timezoneId);
        try
        {
            await test(page);
        }
        catch (Exception failure)
        {
            var saved = await SaveFailureAsync(page, testName);
            output.WriteLine($"{testName} failed on {page.Url}; {saved}");
            throw new BrowserTestFailedException($"{failure.Message}{Environment.NewLine}Page: {page.Url}{Environment.NewLine}{saved}", failure);
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    }

    private static async Task<string> SaveFailureAsync(IPage page, string testName)
    {
        try
        {
            Directory.CreateDirectory(FailureDirectory);
            var screenshot = Path.Combine(FailureDirectory, testName + ".png");
            var html = Path.Combine(FailureDirectory, testName + ".html");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true, Timeout = 15_000 });
            await File.WriteAllTextAsync(html, await page.ContentAsync());
            return $"Screenshot: {screenshot} (HTML beside it)";
        }
        catch (Exception error)
        {
            return $"No screenshot: {error.Message}";
        }
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null) await _browser.DisposeAsync();
        _playwright?.Dispose();
        if (_host is not null) await _host.DisposeAsync();
    }
}

/// <summary>A browser test's own failure, carrying where its screenshot was saved.</summary>
public sealed class BrowserTestFailedException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// All browser tests share one app and one browser, and run one at a time, after the other test
/// collections: on a 2-core machine the parallel bUnit tests' blocking waits and their hosts' workers
/// otherwise starve the circuit the browser is talking to (a prompt typed during that never reached it).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "Browser";
}
