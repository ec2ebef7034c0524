using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using BananaLab.Core.Tasks;
using BananaLab.Hosting;
using Microsoft.Extensions.Hosting;

namespace BananaLab.Tests.Infrastructure;

/// <summary>
/// The app as a user starts it: a child process in the default (Production) environment, reading the
/// repository's <c>appsettings.json</c>, with its real models and none of the test doubles. Two ways in:
/// <list type="bullet">
/// <item><see cref="StartReadmeAsync"/>: the README's run command, <c>dotnet run --project BananaLab.Web</c>
/// in the repository root;</item>
/// <item><see cref="StartPublishedAsync"/>: <c>dotnet BananaLab.Web.dll</c> in a <c>dotnet publish</c> output.</item>
/// </list>
/// Only what a user could set in the environment differs: the data directory, the loopback URL, the bootstrap
/// admin, and any <c>settings</c> a test passes (as <c>Section__Key</c> variables). <see cref="Core"/> opens the
/// same database from the test process, to set up users and inspect tasks.
/// </summary>
public sealed class ProductionHost : IAsyncDisposable
{
    public const string AdminEmail = "admin@example.test";
    public const string AdminPassword = "production-admin-password";
    public const string AdminApiKey = "bl_prod_admin_key_0123456789abcdef";

    private readonly Process _process;
    private readonly TempDirectory _data;
    private readonly ConcurrentQueue<string> _log = new();
    private IHost? _core;

    private ProductionHost(Process process, TempDirectory data, int port, IReadOnlyDictionary<string, string?> settings)
    {
        _process = process;
        _data = data;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
        Settings = settings;
    }

    public Uri BaseAddress { get; }

    public string DataDirectory => _data.Path;

    /// <summary>Every setting given to the child process, keyed as in configuration (<c>Storage:DataDirectory</c>).</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; }

    /// <summary>The last lines the host printed, for failure messages.</summary>
    public string RecentLog => string.Join(Environment.NewLine, _log.TakeLast(80));

    /// <summary>The core services (users, keys, tasks, ledger) over the host's database, built on first use.</summary>
    public IHost Core => _core ??= ChildProcesses.CoreServices(new Dictionary<string, string?>(Settings));

    public T Get<T>() where T : notnull => Core.Services.GetRequiredService<T>();

    /// <summary>Waits for a task to end, reading the database (see <see cref="AppProcess.WaitForFinishAsync"/>).</summary>
    public Task<TaskSnapshot> WaitForFinishAsync(Guid taskId, TimeSpan timeout) =>
        AppProcess.WaitForFinishAsync(Get<TaskService>(), taskId, timeout, () => RecentLog);

    /// <summary>Starts the README's <c>dotnet run --project BananaLab.Web</c> in the repository root (<see cref="AppProcess.ReadmeRun"/>).</summary>
    public static Task<ProductionHost> StartReadmeAsync(IDictionary<string, string?>? settings = null) =>
        StartAsync(RepositoryPaths.Root, AppProcess.ReadmeRun, settings);

    /// <summary>
    /// Starts the README's CUDA-host command, <c>dotnet run --project BananaLab.Web -p:OnnxRuntimeFlavor=Gpu</c>, over the
    /// build <see cref="BuildGpuFlavourAsync"/> made.
    /// </summary>
    public static Task<ProductionHost> StartGpuFlavourAsync(IDictionary<string, string?>? settings = null) =>
        StartAsync(RepositoryPaths.Root, GpuFlavourRun, settings);

    /// <summary>The GPU flavour's start command, which stops at start-up when a setting does: its exit code and everything it printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunGpuFlavourToEndAsync(IReadOnlyDictionary<string, string?> settings)
    {
        RefuseLocalProductionSettings();
        var start = AppProcess.StartInfo(RepositoryPaths.Root, GpuFlavourRun, LoopbackPorts.Free(), settings, redirectOutput: true);
        var (exitCode, output, errors) = await RunToEndAsync(start, TimeSpan.FromMinutes(2));
        return (exitCode, output + errors);
    }

    /// <summary>
    /// Builds BananaLab.Web with <c>-p:OnnxRuntimeFlavor=Gpu</c> (<c>Microsoft.ML.OnnxRuntime.Gpu</c>) as the README's CUDA-host
    /// command does. It lands in <c>bin/gpu</c> and <c>obj/gpu</c>, beside the CPU build the tests run on.
    /// </summary>
    public static async Task BuildGpuFlavourAsync()
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = RepositoryPaths.Root, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "build", "BananaLab.Web", $"-p:{GpuFlavour}", "--nologo", "-v:q" })
            start.ArgumentList.Add(arg);
        var (exitCode, output, errors) = await RunToEndAsync(start, TimeSpan.FromMinutes(15));
        if (exitCode != 0)
            throw new InvalidOperationException($"dotnet build -p:{GpuFlavour} failed ({exitCode}):{Environment.NewLine}{output}{errors}");
    }

    private const string GpuFlavour = "OnnxRuntimeFlavor=Gpu";

    private static readonly string[] GpuFlavourRun = ["run", "--no-build", "--project", "BananaLab.Web", $"-p:{GpuFlavour}", "--"];

    /// <summary>The configuration <c>dotnet test</c> built (Debug unless it was given <c>-c Release</c>).</summary>
    private static string Configuration =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";

    /// <summary>Starts <c>dotnet BananaLab.Web.dll</c> in <paramref name="publishDirectory"/>, as a published install runs.</summary>
    public static Task<ProductionHost> StartPublishedAsync(string publishDirectory, IDictionary<string, string?>? settings = null) =>
        StartAsync(publishDirectory, AppProcess.Published, settings);

    /// <summary>Publishes BananaLab.Web (the configuration <c>dotnet test</c> built, without rebuilding it) into <paramref name="directory"/>.</summary>
    public static async Task PublishAsync(string directory)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = RepositoryPaths.Root, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "publish", "BananaLab.Web", "--no-build", "-c", Configuration, "-o", directory, "--nologo" })
            start.ArgumentList.Add(arg);
        var (exitCode, output, errors) = await RunToEndAsync(start);
        if (exitCode != 0)
            throw new InvalidOperationException($"dotnet publish failed ({exitCode}):{Environment.NewLine}{output}{errors}");
    }

    /// <summary>
    /// Runs a command of the app as a user types it (<c>dotnet run --project BananaLab.Web -- ARGS</c> in the repository
    /// root) with <paramref name="settings"/> as environment variables; returns its exit code, standard output and error.
    /// </summary>
    public static async Task<(int ExitCode, string Output, string Errors)> RunCommandAsync(IReadOnlyDictionary<string, string?> settings,
        params string[] args)
    {
        RefuseLocalProductionSettings();
        return await RunToEndAsync(AppProcess.CommandInfo(RepositoryPaths.Root, [.. AppProcess.ReadmeRun, .. args], settings, redirectOutput: true));
    }

    /// <summary>Runs a process with its output captured until it exits (at most <paramref name="limit"/>, five minutes unless given).</summary>
    private static async Task<(int ExitCode, string Output, string Errors)> RunToEndAsync(ProcessStartInfo start, TimeSpan? limit = null)
    {
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(limit ?? TimeSpan.FromMinutes(5));
        return (process.ExitCode, await output, await errors);
    }

    /// <summary>
    /// An operator's <c>appsettings.Production.json</c> (README, Scaling out) would configure the app under test too:
    /// these tests run the default single-machine install, so they stop and say so instead.
    /// </summary>
    private static void RefuseLocalProductionSettings()
    {
        var local = Path.Combine(RepositoryPaths.Root, "appsettings.Production.json");
        if (File.Exists(local))
            throw new InvalidOperationException($"{local} would configure the app under test (it is an operator's file, see README): " +
                "move it aside, or run the tests in a clean clone.");
    }

    private static async Task<ProductionHost> StartAsync(string workingDirectory, string[] arguments, IDictionary<string, string?>? extra)
    {
        if (workingDirectory == RepositoryPaths.Root) RefuseLocalProductionSettings();
        var data = new TempDirectory();
        var port = LoopbackPorts.Free();
        var settings = new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = data.Path,
            ["Bootstrap:AdminEmail"] = AdminEmail,
            ["Bootstrap:AdminPassword"] = AdminPassword,
            ["Bootstrap:AdminApiKey"] = AdminApiKey,
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>()) settings[key] = value;

        var start = AppProcess.StartInfo(workingDirectory, arguments, port, settings, redirectOutput: true);
        var host = new ProductionHost(Process.Start(start)!, data, port, settings);
        host._process.OutputDataReceived += (_, e) => host.Record(e.Data);
        host._process.ErrorDataReceived += (_, e) => host.Record(e.Data);
        host._process.BeginOutputReadLine();
        host._process.BeginErrorReadLine();
        try
        {
            await AppProcess.WaitReadyAsync(host._process, host.BaseAddress, TimeSpan.FromMinutes(2), () => host.RecentLog);
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    private void Record(string? line)
    {
        if (line is null) return;
        _log.Enqueue(line);
        while (_log.Count > 400) _log.TryDequeue(out _);
    }

    public async ValueTask DisposeAsync()
    {
        ChildProcesses.KillQuietly(_process);
        _core?.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        await Task.Yield();
        _data.Dispose();
    }
}
