// Foundation benchmark: task-engine rates beside the raw SQLite commit rate measured in the same run.
//   dotnet run -c Release --project tools/bench-foundation [-- --tasks 2000 --samples 300 --clients 1,16]
// --clients: the submit phase is run once per count of concurrent callers (each its own loop of SubmitAsync calls).
using System.Diagnostics;
using BananaLab.Bench;
using BananaLab.Core;
using BananaLab.Core.Generation;
using BananaLab.Core.Tasks;
using BananaLab.Core.Users;
using BananaLab.Worker;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

var taskCount = ArgValue("--tasks", 2000);
var latencySamples = ArgValue("--samples", 300);
var clientCounts = ArgList("--clients", [1, 16]);
var root = BenchSupport.RepositoryRoot();
var dataDirectory = Path.Combine(Path.GetTempPath(), "bananalab-bench", Guid.NewGuid().ToString("N"));

Console.WriteLine($"BananaLab foundation benchmark — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
Console.WriteLine($"tasks per phase: {taskCount}, latency samples: {latencySamples}, data: {dataDirectory}\n");

var rawRate = RawSqliteCommitRate(Path.Combine(dataDirectory, "raw.db"), taskCount);

// Phase 1: submit throughput and per-call latency, worker off so only the submit path is timed; a fresh database for
// each count of concurrent callers.
var submitRuns = new List<(int Clients, double Rate, double P50, double P99)>();
foreach (var clients in clientCounts)
{
    using var host = BuildHost(workerEnabled: false);
    await host.StartAsync();
    var (tasks, userId) = await PrepareAsync(host, credits: taskCount * 2 + 1000);
    await SubmitConcurrentlyAsync(tasks, userId, 50, clients); // warm-up
    var clock = Stopwatch.StartNew();
    var calls = await SubmitConcurrentlyAsync(tasks, userId, taskCount, clients);
    submitRuns.Add((clients, taskCount / clock.Elapsed.TotalSeconds, BenchSupport.Percentile(calls, 0.50), BenchSupport.Percentile(calls, 0.99)));
    await host.StopAsync();
}

// Phase 2: claim → complete throughput with an instant generator, queue pre-filled.
double completeRate;
var release = new TaskCompletionSource();
using (var host = BuildHost(workerEnabled: true, hold: release))
{
    var (tasks, userId) = await PrepareAsync(host, credits: taskCount * 2, start: false);
    await host.StartAsync();
    await SubmitAsync(tasks, userId, taskCount, prompt: "queued for the worker");
    var notifier = host.Services.GetRequiredService<TaskNotifier>();
    var done = 0;
    var allDone = new TaskCompletionSource();
    using var _ = notifier.SubscribeAll(e =>
    {
        if (e.Kind == TaskEventKind.Succeeded && Interlocked.Increment(ref done) == taskCount) allDone.TrySetResult();
    });
    var clock = Stopwatch.StartNew();
    release.TrySetResult();
    await allDone.Task.WaitAsync(TimeSpan.FromMinutes(10));
    completeRate = taskCount / clock.Elapsed.TotalSeconds;
    await host.StopAsync();
}

// Phase 3: submit → claimed latency with an idle worker, one task at a time.
var latencies = new List<double>();
using (var host = BuildHost(workerEnabled: true))
{
    var (tasks, userId) = await PrepareAsync(host, credits: latencySamples * 2 + 100);
    var notifier = host.Services.GetRequiredService<TaskNotifier>();
    for (var i = 0; i < latencySamples + 20; i++)
    {
        var claimed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long claimedAt = 0;
        using var subscription = notifier.SubscribeAll(e =>
        {
            if (e.Kind == TaskEventKind.Started) { claimedAt = Stopwatch.GetTimestamp(); claimed.TrySetResult(); }
            if (e.Kind == TaskEventKind.Succeeded) finished.TrySetResult();
        });
        var start = Stopwatch.GetTimestamp();
        await tasks.SubmitAsync(userId, new SubmitTaskRequest { ModelId = "bench-model", Prompt = "latency" }, default);
        await claimed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await finished.Task.WaitAsync(TimeSpan.FromSeconds(30));
        if (i >= 20) latencies.Add(Stopwatch.GetElapsedTime(start, claimedAt).TotalMilliseconds);
    }
    await host.StopAsync();
}
latencies.Sort();

Console.WriteLine("| measure | value | raw SQLite baseline (same run) | ratio |");
Console.WriteLine("|---|---|---|---|");
foreach (var run in submitRuns)
{
    Console.WriteLine($"| submit throughput (TaskService.SubmitAsync), {run.Clients} concurrent caller(s) | {run.Rate:F0} tasks/s | {rawRate:F0} commits/s | {run.Rate / rawRate:P1} |");
    Console.WriteLine($"| submit call latency p50 / p99, {run.Clients} concurrent caller(s) | {run.P50:F2} / {run.P99:F2} ms | | |");
}
Console.WriteLine($"| claim → complete throughput (instant generator, 1 worker loop) | {completeRate:F0} tasks/s | {rawRate:F0} commits/s | {completeRate / rawRate:P0} |");
Console.WriteLine($"| submit → claimed latency p50 (idle worker) | {BenchSupport.Percentile(latencies, 0.50):F2} ms | | |");
Console.WriteLine($"| submit → claimed latency p99 (idle worker) | {BenchSupport.Percentile(latencies, 0.99):F2} ms | | |");

try { SqliteConnection.ClearAllPools(); Directory.Delete(dataDirectory, recursive: true); } catch (IOException) { }
return;

IHost BuildHost(bool workerEnabled, TaskCompletionSource? hold = null)
{
    InstantGenerator.Released = hold?.Task ?? Task.CompletedTask;
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = root });
    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Storage:DataDirectory"] = dataDirectory,
        ["Logging:LogLevel:Default"] = "Warning",
        ["Bootstrap:AdminEmail"] = "",
        ["Worker:Enabled"] = workerEnabled.ToString(),
        ["Worker:Name"] = "bench",
        ["Models:bench-model:DisplayName"] = "Benchmark model",
        ["Models:bench-model:Provider"] = "bench",
        ["Models:bench-model:NativeWidth"] = "64",
        ["Models:bench-model:NativeHeight"] = "64",
        ["Models:bench-model:Tiers:1K"] = "1",
        ["Models:bench-model:DefaultSteps"] = "1",
    });
    builder.AddBananaLabCore();
    builder.AddBananaLabGeneration();
    builder.Services.AddImageGenerator<InstantGenerator>();
    return builder.Build();
}

async Task<(TaskService Tasks, Guid UserId)> PrepareAsync(IHost host, int credits, bool start = true)
{
    if (!start)
    {
        // Migrate without starting the worker, so the queue can be filled first.
        foreach (var service in host.Services.GetServices<IHostedService>().OfType<BananaLab.Core.Data.DatabaseInitializer>())
            await service.StartAsync(default);
    }
    else
    {
        await host.StartAsync();
    }
    var user = await host.Services.GetRequiredService<UserService>()
        .CreateAsync($"bench-{Guid.NewGuid():N}@example.test", "Bench", UserRole.User, initialCredits: credits);
    return (host.Services.GetRequiredService<TaskService>(), user.Id);
}

// count submits shared out over clients concurrent loops; each call's latency in milliseconds, sorted.
static async Task<List<double>> SubmitConcurrentlyAsync(TaskService tasks, Guid userId, int count, int clients)
{
    var latencies = new double[count];
    var next = -1;
    await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
    {
        for (var i = Interlocked.Increment(ref next); i < count; i = Interlocked.Increment(ref next))
        {
            var start = Stopwatch.GetTimestamp();
            var outcome = await tasks.SubmitAsync(userId, new SubmitTaskRequest { ModelId = "bench-model", Prompt = "throughput" }, default);
            latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (!outcome.Succeeded) throw new InvalidOperationException(outcome.Error!.ToString());
        }
    })));
    Array.Sort(latencies);
    return [.. latencies];
}

static async Task SubmitAsync(TaskService tasks, Guid userId, int count, string prompt = "throughput")
{
    for (var i = 0; i < count; i++)
    {
        var outcome = await tasks.SubmitAsync(userId, new SubmitTaskRequest { ModelId = "bench-model", Prompt = prompt }, default);
        if (!outcome.Succeeded) throw new InvalidOperationException(outcome.Error!.ToString());
    }
}

// Single-row insert + commit, one transaction each, with the product's pragmas.
static double RawSqliteCommitRate(string path, int count)
{
    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
    using var connection = new SqliteConnection($"Data Source={path};Pooling=True");
    connection.Open();
    Execute(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;");
    Execute(connection, "CREATE TABLE t (id TEXT PRIMARY KEY, created TEXT NOT NULL, prompt TEXT NOT NULL, status INTEGER NOT NULL)");
    for (var warm = 0; warm < 2; warm++)
    {
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            using var transaction = connection.BeginTransaction();
            using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO t VALUES ($id, $created, 'raw', 0)";
            insert.Parameters.AddWithValue("$id", Guid.NewGuid().ToString());
            insert.Parameters.AddWithValue("$created", DateTime.UtcNow.ToString("O"));
            insert.ExecuteNonQuery();
            transaction.Commit();
        }
        if (warm == 1) return count / clock.Elapsed.TotalSeconds;
    }
    return 0;
}

static void Execute(SqliteConnection connection, string sql)
{
    using var command = connection.CreateCommand();
    command.CommandText = sql;
    command.ExecuteNonQuery();
}

int ArgValue(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length && int.TryParse(args[index + 1], out var value) ? value : fallback;
}

int[] ArgList(string name, int[] fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? [.. args[index + 1].Split(',').Select(int.Parse)] : fallback;
}
