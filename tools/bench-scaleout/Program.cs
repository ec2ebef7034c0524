// Scale-out benchmark on a real PostgreSQL server (a temporary cluster on a loopback port, the one the
// tests use): worker processes with an instant generator, beside a raw single-row transaction rate
// measured on the same server in the same run.
//   dotnet run -c Release --project tools/bench-scaleout [-- --tasks 2000 --samples 200 --workers 1,2,4]
using System.Diagnostics;
using BananaLab.Bench;
using BananaLab.Core;
using BananaLab.Core.Data;
using BananaLab.Core.Data.Postgres;
using BananaLab.Core.Generation;
using BananaLab.Core.Tasks;
using BananaLab.Core.Users;
using BananaLab.Tests.Infrastructure;
using BananaLab.Worker;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

var root = BenchSupport.RepositoryRoot();
if (args is ["worker", var workerConnection, var workerName, var workerData]) return RunWorker(workerConnection, workerName, workerData);

var taskCount = ArgValue("--tasks", 2000);
var latencySamples = ArgValue("--samples", 200);
var workerCounts = (ArgString("--workers") ?? "1,2,4").Split(',').Select(int.Parse).ToArray();
var dataDirectory = Path.Combine(Path.GetTempPath(), "bananalab-bench-scaleout", Guid.NewGuid().ToString("N"));
var postgres = await PostgresServer.Shared;

Console.WriteLine($"BananaLab scale-out benchmark — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
Console.WriteLine($"PostgreSQL {await ServerVersionAsync()} on 127.0.0.1:{postgres.Port} (fsync off, synchronous_commit off); tasks per run: {taskCount}\n");

// Baseline: one connection, one single-row INSERT per transaction (autocommit), as fast as it goes.
var rawRate = await RawTransactionRateAsync(await postgres.CreateDatabaseAsync(), taskCount * 2);

// The claim as a worker makes it (TaskQueue.ClaimAsync), one loop in this process, on a pre-filled
// queue. A first round on a database of its own warms the code up, so both rounds start from a fresh queue.
double claimRate = 0;
for (var round = 0; round < 2; round++)
{
    using var host = BuildHost(await postgres.CreateDatabaseAsync());
    await host.StartAsync();
    var count = round == 0 ? 1000 : taskCount;
    var (tasks, userId) = await PrepareUserAsync(host, count);
    await SubmitAsync(tasks, userId, count);
    var queue = host.Services.GetRequiredService<TaskQueue>();
    var claimed = 0;
    var clock = Stopwatch.StartNew();
    while (await queue.ClaimAsync("bench-claimer", TimeSpan.FromMinutes(5), default) is not null) claimed++;
    claimRate = claimed / clock.Elapsed.TotalSeconds;
    if (claimed != count) throw new InvalidOperationException($"claimed {claimed} of {count}");
    await host.StopAsync();
}

// The same claim statement bare: one connection, prepared, no application around it.
double bareClaimRate;
{
    var connectionString = await postgres.CreateDatabaseAsync();
    using var host = BuildHost(connectionString);
    await host.StartAsync();
    var (tasks, userId) = await PrepareUserAsync(host, taskCount);
    await SubmitAsync(tasks, userId, taskCount);
    await using var connection = new NpgsqlConnection(connectionString);
    await connection.OpenAsync();
    // The provider's statement with its {n} placeholders as PostgreSQL's positional parameters.
    await using var claim = new NpgsqlCommand(string.Format(PostgresDatabaseProvider.ClaimSql, "$1", "$2", "$3", "$4", "$5", "$6", "$7"), connection)
    {
        Parameters = { new() { Value = "bench-bare" }, new() { Value = DateTime.UtcNow.AddHours(1) }, new() { Value = DateTime.UtcNow }, new() { Value = true }, new() { Value = Array.Empty<string>() }, new() { Value = 1 }, new() { Value = Array.Empty<string>() } },
    };
    await claim.PrepareAsync();
    var claimed = 0;
    var clock = Stopwatch.StartNew();
    while (await claim.ExecuteScalarAsync() is Guid) claimed++;
    bareClaimRate = claimed / clock.Elapsed.TotalSeconds;
    await host.StopAsync();
}

// Whole tasks (claim → instant generator → complete with capture) by 1, 2, 4 worker processes.
var throughput = new List<(int Workers, double Rate)>();
foreach (var workers in workerCounts)
{
    var connectionString = await postgres.CreateDatabaseAsync();
    using var host = BuildHost(connectionString);
    await host.StartAsync();
    var (tasks, userId) = await PrepareUserAsync(host, taskCount);
    await SubmitAsync(tasks, userId, taskCount);
    // Hold the queue until every worker process is up, so all of them start together.
    await ExecuteAsync(connectionString, """UPDATE "Tasks" SET "NotBefore" = now() + interval '1 hour'""");
    var processes = Enumerable.Range(1, workers).Select(i => StartWorker(connectionString, $"bench-{workers}-{i}")).ToList();
    try
    {
        await Task.WhenAll(processes.Select(p => p.Ready));
        await ExecuteAsync(connectionString, """UPDATE "Tasks" SET "NotBefore" = now() + interval '300 milliseconds'""");
        var db = host.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>();
        while (await CountUnfinishedAsync(db) > 0) await Task.Delay(100);
        await using var context = await db.CreateDbContextAsync();
        var first = await context.Tasks.MinAsync(t => t.StartedAt!.Value);
        var last = await context.Tasks.MaxAsync(t => t.FinishedAt!.Value);
        var succeeded = await context.Tasks.CountAsync(t => t.Status == GenerationTaskStatus.Succeeded);
        if (succeeded != taskCount) throw new InvalidOperationException($"{succeeded} of {taskCount} succeeded");
        throughput.Add((workers, taskCount / (last - first).TotalSeconds));
        Console.WriteLine($"  {workers} worker process(es): {throughput[^1].Rate:F0} tasks/s");
    }
    finally
    {
        foreach (var process in processes) process.Stop();
    }
    await host.StopAsync();
}

// Submit → claimed with an idle worker process, woken by LISTEN/NOTIFY (its poll interval is 2 s).
var latencies = new List<double>();
{
    var connectionString = await postgres.CreateDatabaseAsync();
    using var host = BuildHost(connectionString);
    await host.StartAsync();
    var (tasks, userId) = await PrepareUserAsync(host, latencySamples + 20);
    var worker = StartWorker(connectionString, "bench-latency");
    try
    {
        await worker.Ready;
        var db = host.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>();
        for (var i = 0; i < latencySamples + 20; i++)
        {
            var outcome = await tasks.SubmitAsync(userId, new SubmitTaskRequest { ModelId = "bench-model", Prompt = "latency" }, default);
            var id = outcome.Value!.Id;
            GenerationTask? task;
            do
            {
                await Task.Delay(2);
                await using var context = await db.CreateDbContextAsync();
                task = await context.Tasks.AsNoTracking().SingleAsync(t => t.Id == id);
            } while (!task.IsTerminal);
            // Both times come from the same machine's clock: CreatedAt just before the submit's insert, StartedAt at the claim.
            if (i >= 20) latencies.Add((task.StartedAt!.Value - task.CreatedAt).TotalMilliseconds);
        }
    }
    finally
    {
        worker.Stop();
    }
    await host.StopAsync();
}
latencies.Sort();

Console.WriteLine();
Console.WriteLine("| measure | value | baseline (same run) | ratio |");
Console.WriteLine("|---|---|---|---|");
Console.WriteLine($"| raw single-row transactions (1 connection, INSERT + commit) | {rawRate:F0} txn/s | | |");
Console.WriteLine($"| claim (`TaskQueue.ClaimAsync`: one `UPDATE … FOR UPDATE SKIP LOCKED … RETURNING *` under a lease; 1 loop) | {claimRate:F0} claims/s | {rawRate:F0} txn/s raw | {claimRate / rawRate:P0} |");
Console.WriteLine($"| the claim statement bare (prepared, 1 connection, no app) | {bareClaimRate:F0} claims/s | {rawRate:F0} txn/s raw | {bareClaimRate / rawRate:P0} |");
var single = throughput.FirstOrDefault(t => t.Workers == 1).Rate;
foreach (var (workers, rate) in throughput)
    Console.WriteLine($"| tasks/s with {workers} worker process(es), instant generator | {rate:F0} tasks/s | {single:F0} tasks/s × {workers} | {rate / (single * workers):P0} scaling efficiency |");
Console.WriteLine($"| submit → claimed p50, idle worker process | {BenchSupport.Percentile(latencies, 0.50):F2} ms | | |");
Console.WriteLine($"| submit → claimed p99, idle worker process | {BenchSupport.Percentile(latencies, 0.99):F2} ms | | |");
try { Directory.Delete(dataDirectory, recursive: true); } catch (IOException) { }
return 0;

IHost BuildHost(string connectionString)
{
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = root });
    builder.Configuration.AddInMemoryCollection(Settings(connectionString, dataDirectory, workerEnabled: false));
    builder.AddBananaLabCore();
    return builder.Build();
}

Dictionary<string, string?> Settings(string connectionString, string data, bool workerEnabled) => new()
{
    ["Storage:DataDirectory"] = data,
    ["Database:Provider"] = "Postgres",
    ["ConnectionStrings:BananaLab"] = connectionString,
    ["Logging:LogLevel:Default"] = "Warning",
    // EF logs the first look for the migrations table of a new database as an error; it is expected here.
    ["Logging:LogLevel:Microsoft.EntityFrameworkCore.Database.Command"] = "None",
    ["Logging:LogLevel:BananaLab.Worker.Queue.TaskWorker"] = "Information",
    ["Bootstrap:AdminEmail"] = "",
    ["Worker:Enabled"] = workerEnabled.ToString(),
    ["Worker:Concurrency"] = "1",
    ["Worker:PollIntervalMs"] = "2000",
    ["Models:bench-model:DisplayName"] = "Benchmark model",
    ["Models:bench-model:Provider"] = "bench",
    ["Models:bench-model:NativeWidth"] = "64",
    ["Models:bench-model:NativeHeight"] = "64",
    ["Models:bench-model:Tiers:1K"] = "1",
    ["Models:bench-model:DefaultSteps"] = "1",
};

int RunWorker(string connectionString, string workerName, string data)
{
    var settings = Settings(connectionString, data, workerEnabled: true);
    settings["Worker:Name"] = workerName;
    settings["Cluster:NodeName"] = workerName;
    // A held queue (NotBefore) is polled for, so every worker starts within a few ms of its release.
    settings["Worker:PollIntervalMs"] = workerName.StartsWith("bench-latency") ? "2000" : "10";
    var builder = WorkerProgram.CreateBuilder([.. settings.Select(s => $"--{s.Key}={s.Value}")]);
    builder.Services.AddImageGenerator<InstantGenerator>();
    using var host = builder.Build();
    host.Run();
    return 0;
}

WorkerProcess StartWorker(string connectionString, string name)
{
    var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = root };
    foreach (var arg in new[] { typeof(InstantGenerator).Assembly.Location, "worker", connectionString, name, dataDirectory }) start.ArgumentList.Add(arg);
    var process = Process.Start(start)!;
    var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    process.OutputDataReceived += (_, e) =>
    {
        if (e.Data?.Contains($"Worker {name} running") == true) ready.TrySetResult();
        else if (e.Data?.Contains("fail:") == true || e.Data?.Contains("crit:") == true) Console.Error.WriteLine($"[{name}] {e.Data}");
    };
    process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"[{name}] {e.Data}"); };
    process.BeginOutputReadLine();
    process.BeginErrorReadLine();
    return new WorkerProcess(process, ready.Task.WaitAsync(TimeSpan.FromSeconds(60)));
}

async Task<(TaskService Tasks, Guid UserId)> PrepareUserAsync(IHost host, int count)
{
    var user = await host.Services.GetRequiredService<UserService>()
        .CreateAsync($"bench-{Guid.NewGuid():N}@example.test", "Bench", UserRole.User, initialCredits: count * 2 + 100);
    return (host.Services.GetRequiredService<TaskService>(), user.Id);
}

static async Task SubmitAsync(TaskService tasks, Guid userId, int count)
{
    for (var i = 0; i < count; i++)
    {
        var outcome = await tasks.SubmitAsync(userId, new SubmitTaskRequest { ModelId = "bench-model", Prompt = "throughput" }, default);
        if (!outcome.Succeeded) throw new InvalidOperationException(outcome.Error!.ToString());
    }
}

static async Task<int> CountUnfinishedAsync(IDbContextFactory<BananaLabDbContext> db)
{
    await using var context = await db.CreateDbContextAsync();
    return await context.Tasks.CountAsync(t => t.Status == GenerationTaskStatus.Queued || t.Status == GenerationTaskStatus.Running);
}

static async Task<double> RawTransactionRateAsync(string connectionString, int count)
{
    await using var connection = new NpgsqlConnection(connectionString);
    await connection.OpenAsync();
    await using (var create = new NpgsqlCommand("CREATE TABLE raw (id uuid PRIMARY KEY, created timestamptz NOT NULL, prompt text NOT NULL, status int NOT NULL)", connection))
        await create.ExecuteNonQueryAsync();
    await using var insert = new NpgsqlCommand("INSERT INTO raw VALUES ($1, $2, 'raw', 0)", connection);
    insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
    insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
    await insert.PrepareAsync();
    double rate = 0;
    for (var round = 0; round < 2; round++) // the first round warms up
    {
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            insert.Parameters[0].Value = Guid.NewGuid();
            insert.Parameters[1].Value = DateTime.UtcNow;
            await insert.ExecuteNonQueryAsync();
        }
        rate = count / clock.Elapsed.TotalSeconds;
    }
    return rate;
}

static async Task ExecuteAsync(string connectionString, string sql)
{
    await using var connection = new NpgsqlConnection(connectionString);
    await connection.OpenAsync();
    await using var command = new NpgsqlCommand(sql, connection);
    await command.ExecuteNonQueryAsync();
}

async Task<string> ServerVersionAsync()
{
    await using var connection = new NpgsqlConnection(postgres.ConnectionString("postgres"));
    await connection.OpenAsync();
    return connection.PostgreSqlVersion.ToString();
}

int ArgValue(string name, int fallback) => int.TryParse(ArgString(name), out var value) ? value : fallback;

string? ArgString(string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}

sealed record WorkerProcess(Process Process, Task Ready)
{
    public void Stop()
    {
        try { if (!Process.HasExited) Process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        Process.WaitForExit(10_000);
        Process.Dispose();
    }
}
