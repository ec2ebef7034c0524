// Saves a screenshot of every studio page at 1440 and 390 px wide into docs/screenshots/<page>-<width>.png.
//   dotnet run --project tools/screenshots                      the app as the README runs it (Production), on a fresh database, with demo data
//   dotnet run --project tools/screenshots -- --url http://host:5080 --user EMAIL --password PW --admin EMAIL --admin-password PW
// Options: --out DIR (default docs/screenshots). Chromium comes from BROWSER_PATH (default /usr/bin/chromium); none is downloaded.
using Microsoft.Playwright;

namespace BananaLab.Tools.Screenshots;

static class ScreenshotsCommand
{
    public static async Task<int> Main(string[] args)
    {
        var options = Options.Parse(args);
        var root = RepositoryRoot();
        var output = Path.GetFullPath(options.Get("--out") ?? Path.Combine(root, "docs", "screenshots"));
        var browserPath = Environment.GetEnvironmentVariable("BROWSER_PATH") is { Length: > 0 } configured ? configured : "/usr/bin/chromium";
        if (!File.Exists(browserPath))
        {
            Console.Error.WriteLine($"Chromium not found at '{browserPath}': install it (apt-get install -y chromium) or set BROWSER_PATH.");
            return 2;
        }

        DemoApp? app = null;
        var data = Path.Combine(Path.GetTempPath(), "bananalab-screenshots", Guid.NewGuid().ToString("N"));
        try
        {
            Uri baseAddress;
            Account user, admin;
            Guid? userTask = null;
            if (options.Get("--url") is { } url)
            {
                baseAddress = new Uri(url);
                user = new Account(options.Require("--user"), options.Require("--password"));
                admin = new Account(options.Require("--admin"), options.Require("--admin-password"));
            }
            else
            {
                Console.WriteLine("Starting BananaLab as the README does (dotnet run, Production) on a fresh database and generating the demo tasks on banana-nano...");
                app = new DemoApp(root, data);
                baseAddress = await app.StartAsync();
                userTask = await app.SeedAsync(CancellationToken.None);
                user = new Account(DemoApp.UserEmail, app.Password);
                admin = new Account(DemoApp.AdminEmail, app.Password);
            }

            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = browserPath,
                Headless = true,
                // With the app in this process nothing but loopback is needed, so no host name resolves.
                Args = app is null ? ["--no-sandbox", "--disable-dev-shm-usage"]
                    : ["--no-sandbox", "--disable-dev-shm-usage", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
            });

            Console.WriteLine($"Photographing {baseAddress} into {output}");
            // Against someone's install (--url) nothing is generated; the demo app shows a fresh result in the studio.
            var tour = new Tour(browser, baseAddress, user, admin, output, generateInStudio: app is not null);
            await tour.RunAsync(userTask, adminTask: userTask);
            Console.WriteLine($"Saved {tour.Saved} screenshots.");
            if (tour.Problems.Count > 0) Console.Error.WriteLine($"{tour.Problems.Count} problem(s):");
            foreach (var problem in tour.Problems) Console.Error.WriteLine("  " + problem);
            return tour.Problems.Count == 0 ? 0 : 1;
        }
        finally
        {
            if (app is not null) await app.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
        }
    }

    private static string RepositoryRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "BananaLab.sln"))) return dir.FullName;
        throw new InvalidOperationException("Run this from inside the BananaLab checkout (BananaLab.sln not found).");
    }
}

/// <summary>"--name value" pairs from the command line.</summary>
sealed class Options(Dictionary<string, string> values)
{
    public static Options Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--") || i + 1 >= args.Length)
                throw new ArgumentException($"Expected \"--name value\" pairs, got \"{args[i]}\".");
            values[args[i]] = args[++i];
        }
        return new Options(values);
    }

    public string? Get(string name) => values.GetValueOrDefault(name);

    public string Require(string name) =>
        Get(name) ?? throw new ArgumentException($"{name} is required with --url.");
}
