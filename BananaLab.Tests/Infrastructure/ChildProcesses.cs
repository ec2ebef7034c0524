using System.Diagnostics;
using System.Net;
using BananaLab.Core;
using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using BananaLab.Core.Tasks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace BananaLab.Tests.Infrastructure;

/// <summary>Starting the app as separate OS processes (see <see cref="TestHostProgram"/>) and checking what they left behind.</summary>
public static class ChildProcesses
{
    /// <summary>Starts <c>dotnet BananaLab.Tests.dll ARGS</c> in the repository root; its output goes to the test's log.</summary>
    public static Process Start(ITestOutputHelper output, string name, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepositoryPaths.Root,
        };
        start.ArgumentList.Add(typeof(TestHostProgram).Assembly.Location);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["DOTNET_ENVIRONMENT"] = "Development";
        var process = Process.Start(start)!;
        void Log(string? line)
        {
            if (line is null) return;
            try { output.WriteLine($"[{name}] {line}"); } catch (InvalidOperationException) { /* the test already ended */ }
        }
        process.OutputDataReceived += (_, e) => Log(e.Data);
        process.ErrorDataReceived += (_, e) => Log(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Kills the process and its children (SIGKILL) if it still runs.</summary>
    public static void KillQuietly(Process process)
    {
        try { if (!process.HasExited) process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { /* it exited meanwhile */ }
        process.WaitForExit(10_000);
        process.Dispose();
    }

    public static async Task WaitReadyAsync(int port, TimeSpan? timeout = null)
    {
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        await WaitUntilAsync(async () =>
        {
            try { return (await client.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK; }
            catch (HttpRequestException) { return false; }
        }, timeout ?? TimeSpan.FromSeconds(60));
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Condition not met within {timeout}.");
            await Task.Delay(100);
        }
    }

    /// <summary>The core services (database, users, keys) over the same database as the child processes, to set up and inspect.</summary>
    public static IHost CoreServices(IDictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = RepositoryPaths.Root });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(settings) { ["Bootstrap:AdminEmail"] = "" });
        builder.AddBananaLabCore();
        return builder.Build();
    }

    public static async Task<int> CountAsync(IHost core, GenerationTaskStatus status)
    {
        await using var db = await core.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        return await db.Tasks.CountAsync(t => t.Status == status);
    }

    /// <summary>
    /// Every task is terminal with exactly one reservation and exactly one settlement that matches its
    /// status (capture for success, release otherwise), and every user's balance is exactly their grants
    /// minus their captures, and the sum of their ledger.
    /// </summary>
    public static async Task AssertSettledExactlyOnceAsync(IHost core, IReadOnlyCollection<Guid> taskIds, IEnumerable<Guid> userIds)
    {
        await using var db = await core.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        var tasks = await db.Tasks.AsNoTracking().Where(t => taskIds.Contains(t.Id)).ToListAsync();
        var entries = await db.CreditEntries.AsNoTracking().ToListAsync();
        Assert.Equal(taskIds.Count, tasks.Count);
        foreach (var task in tasks)
        {
            Assert.True(task.IsTerminal, $"task {task.Id} is {task.Status}");
            var settlement = Assert.Single(entries, e => e.TaskId == task.Id && e.Kind is CreditEntryKind.Capture or CreditEntryKind.Release);
            Assert.Equal(task.Status == GenerationTaskStatus.Succeeded ? CreditEntryKind.Capture : CreditEntryKind.Release, settlement.Kind);
            Assert.Single(entries, e => e.TaskId == task.Id && e.Kind == CreditEntryKind.Reserve);
        }
        foreach (var userId in userIds)
        {
            var grants = entries.Where(e => e.UserId == userId && e.Kind == CreditEntryKind.Grant).Sum(e => e.Credits);
            var captures = entries.Where(e => e.UserId == userId && e.Kind == CreditEntryKind.Capture).Sum(e => e.Credits);
            var balance = await db.Users.Where(u => u.Id == userId).Select(u => u.CreditBalance).SingleAsync();
            Assert.Equal(grants - captures, balance);
            Assert.Equal(balance, entries.Where(e => e.UserId == userId).Sum(e => e.Amount));
        }
    }
}
