using System.Diagnostics;
using System.Net;
using BananaLab.Hosting;
using System.Net.Sockets;
using BananaLab.Core;
using BananaLab.Core.Credits;
using BananaLab.Core.Tasks;
using BananaLab.Core.Users;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BananaLab.Tools.Screenshots;

/// <summary>
/// The app started exactly as the README starts it (<c>dotnet run --project BananaLab.Web</c> in the repository
/// root, the default Production environment) on a free loopback port and a fresh data directory, with a demo
/// user whose tasks are generated for real on the embedded model, so every page has something to show. The
/// tool seeds the demo data through the core services over the same database.
/// </summary>
sealed class DemoApp(string repositoryRoot, string dataDirectory) : IAsyncDisposable
{
    public const string Model = "banana-nano";
    public const string AdminEmail = "admin@bananalab.local";
    public const string UserEmail = "demo@bananalab.local";

    private Process? _process;
    private IHost? _core;

    /// <summary>Both demo accounts get this password; it lives only as long as the data directory.</summary>
    public string Password { get; } = "demo-" + Guid.NewGuid().ToString("N")[..16];

    private static readonly (string Prompt, int Count, long Seed)[] DemoPrompts =
    [
        ("a red apple", 1, 7),
        ("a smiling sun", 2, 11),
        ("a green frog", 1, 3),
        ("a slice of pizza", 4, 42),
    ];

    private Dictionary<string, string?> Settings => new()
    {
        ["Storage:DataDirectory"] = dataDirectory,
        ["Bootstrap:AdminEmail"] = AdminEmail,
        ["Bootstrap:AdminPassword"] = Password,
        ["Logging:LogLevel:Default"] = "Warning",
        ["Worker:PollIntervalMs"] = "100",
    };

    /// <summary>Starts the host on 127.0.0.1 and returns its address once it is ready.</summary>
    public async Task<Uri> StartAsync()
    {
        var port = FreePort();
        // Its output goes to this console, so a failure to start is on screen.
        _process = Process.Start(AppProcess.StartInfo(repositoryRoot, AppProcess.ReadmeRun, port, Settings, redirectOutput: false))!;
        var address = new Uri($"http://127.0.0.1:{port}");
        await AppProcess.WaitReadyAsync(_process, address, TimeSpan.FromMinutes(2), () => "(its output is above)");

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = repositoryRoot });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(Settings) { ["Bootstrap:AdminEmail"] = "" });
        builder.AddBananaLabCore();
        _core = builder.Build();
        return address;
    }

    private T Get<T>() where T : notnull => _core!.Services.GetRequiredService<T>();

    /// <summary>
    /// The demo user with an API key, an admin adjustment, finished tasks and one blocked prompt;
    /// returns the last finished task (the one with the most images).
    /// </summary>
    public async Task<Guid> SeedAsync(CancellationToken cancellationToken)
    {
        var users = Get<UserService>();
        var tasks = Get<TaskService>();
        var admin = await users.FindByEmailAsync(AdminEmail, cancellationToken)
            ?? throw new InvalidOperationException("The bootstrap admin was not created.");
        var user = await users.CreateAsync(UserEmail, "Dana Demo", UserRole.User, Password, cancellationToken: cancellationToken);
        await Get<ApiKeyService>().CreateAsync(user.Id, "laptop", cancellationToken);
        await Get<CreditLedger>().AdjustAsync(user.Id, 50, "Welcome bonus for the demo", admin.Id, cancellationToken);

        var last = Guid.Empty;
        foreach (var (prompt, count, seed) in DemoPrompts)
        {
            var submitted = await tasks.SubmitAsync(user.Id, new SubmitTaskRequest
            {
                ModelId = Model, Prompt = prompt, Size = "1K", ImageCount = count, Seed = seed, Source = "studio",
            }, cancellationToken);
            if (!submitted.Succeeded) throw new InvalidOperationException($"Submitting \"{prompt}\" failed: {submitted.Error!.Message}");
            var done = await AppProcess.WaitForFinishAsync(tasks, submitted.Value!.Id, TimeSpan.FromMinutes(5), () => "(the app's output is above)");
            if (done.Status != GenerationTaskStatus.Succeeded)
                throw new InvalidOperationException($"Generating \"{prompt}\" ended as {done.Status}: {done.ErrorMessage}");
            last = done.Id;
            Console.WriteLine($"  generated \"{prompt}\" ({count} image{(count == 1 ? "" : "s")})");
        }
        // Refused before it is queued: it shows in the history and the moderation log, and costs nothing.
        await tasks.SubmitAsync(user.Id, new SubmitTaskRequest { ModelId = Model, Prompt = "a gruesome monster", Source = "studio" }, cancellationToken);
        return last;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        _core?.Dispose();
        if (_process is { HasExited: false }) _process.Kill(entireProcessTree: true);
        if (_process is not null) await _process.WaitForExitAsync();
        _process?.Dispose();
    }
}
