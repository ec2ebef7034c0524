using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using BananaLab.Core;
using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using BananaLab.Core.Tasks;
using BananaLab.Core.Users;
using BananaLab.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace BananaLab.Tests.Tasks;

/// <summary>
/// The real app as a separate OS process, SIGKILLed in the middle of work and restarted on the same
/// data directory: nothing may be lost, charged twice or refunded twice.
/// </summary>
public sealed class CrashRecoveryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Killed_host_loses_no_task_and_settles_every_credit_exactly_once()
    {
        using var data = new TempDirectory();
        var port = FreePort();
        var first = StartHost(data.Path, port, "node-before-crash");
        try
        {
            await WaitReadyAsync(port);
            using var core = CoreServices(data.Path);
            var users = new List<(Guid Id, HttpClient Client)>();
            for (var i = 0; i < 2; i++)
            {
                var user = await core.Services.GetRequiredService<UserService>()
                    .CreateAsync($"crash{i}@example.test", "Crash test", UserRole.User, initialCredits: 500);
                var key = await core.Services.GetRequiredService<ApiKeyService>().CreateAsync(user.Id, "crash");
                var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
                client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Secret);
                users.Add((user.Id, client));
            }

            var ids = new List<Guid>();
            for (var i = 0; i < 20; i++)
            {
                // Each task takes about a second; a few of them fail for good to exercise refunds.
                var prompt = i % 7 == 3 ? "crash test [fail]" : "crash test [slow:150][steps:6]";
                var created = await users[i % 2].Client.SubmitAsync(new { model = BananaLabFactory.TestModel, prompt, count = 1 + i % 3 });
                ids.Add(created.Id);
            }

            // Kill it while tasks are running and others are still queued.
            await WaitUntilAsync(async () => (await CountAsync(core, GenerationTaskStatus.Succeeded)) >= 2, TimeSpan.FromSeconds(60));
            Assert.True(await CountAsync(core, GenerationTaskStatus.Queued) > 0, "the host finished everything before it could be killed");
            first.Kill(entireProcessTree: true);
            await first.WaitForExitAsync();
            output.WriteLine($"killed with {await CountAsync(core, GenerationTaskStatus.Running)} running, {await CountAsync(core, GenerationTaskStatus.Queued)} queued");

            using var second = StartHost(data.Path, port, "node-after-crash");
            try
            {
                await WaitReadyAsync(port);
                await WaitUntilAsync(async () =>
                {
                    await using var db = await core.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
                    return await db.Tasks.CountAsync(t => ids.Contains(t.Id) && (t.Status == GenerationTaskStatus.Queued || t.Status == GenerationTaskStatus.Running)) == 0;
                }, TimeSpan.FromSeconds(120));
            }
            finally
            {
                second.Kill(entireProcessTree: true);
            }

            await using var check = await core.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
            var tasks = await check.Tasks.Where(t => ids.Contains(t.Id)).ToListAsync();
            var entries = await check.CreditEntries.ToListAsync();
            Assert.Equal(20, tasks.Count);
            foreach (var task in tasks)
            {
                Assert.True(task.IsTerminal, $"task {task.Id} is {task.Status}");
                var settlements = entries.Where(e => e.TaskId == task.Id && e.Kind is CreditEntryKind.Capture or CreditEntryKind.Release).ToList();
                var settlement = Assert.Single(settlements);
                Assert.Equal(task.Status == GenerationTaskStatus.Succeeded ? CreditEntryKind.Capture : CreditEntryKind.Release, settlement.Kind);
                Assert.Single(entries, e => e.TaskId == task.Id && e.Kind == CreditEntryKind.Reserve);
            }
            Assert.Contains(tasks, t => t.Status == GenerationTaskStatus.Succeeded && t.WorkerName == "node-after-crash");
            foreach (var (userId, client) in users)
            {
                client.Dispose();
                var grants = entries.Where(e => e.UserId == userId && e.Kind == CreditEntryKind.Grant).Sum(e => e.Credits);
                var captures = entries.Where(e => e.UserId == userId && e.Kind == CreditEntryKind.Capture).Sum(e => e.Credits);
                var balance = await check.Users.Where(u => u.Id == userId).Select(u => u.CreditBalance).SingleAsync();
                Assert.Equal(grants - captures, balance);
                Assert.Equal(balance, entries.Where(e => e.UserId == userId).Sum(e => e.Amount));
            }
        }
        finally
        {
            if (!first.HasExited) first.Kill(entireProcessTree: true);
            first.Dispose();
        }
    }

    private Process StartHost(string dataDirectory, int port, string workerName)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { typeof(TestHostProgram).Assembly.Location, "serve", dataDirectory, port.ToString(), workerName },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepositoryPaths.Root,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) Log(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Log(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private void Log(string line)
    {
        try { output.WriteLine(line); } catch (InvalidOperationException) { /* the test already ended */ }
    }

    /// <summary>Core services over the same data directory, to read the database and create users.</summary>
    private static IHost CoreServices(string dataDirectory)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = RepositoryPaths.Root });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = dataDirectory,
            ["Bootstrap:AdminEmail"] = "",
        });
        builder.AddBananaLabCore();
        return builder.Build();
    }

    private static async Task<int> CountAsync(IHost core, GenerationTaskStatus status)
    {
        await using var db = await core.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        return await db.Tasks.CountAsync(t => t.Status == status);
    }

    private static async Task WaitReadyAsync(int port)
    {
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        await WaitUntilAsync(async () =>
        {
            try { return (await client.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK; }
            catch (HttpRequestException) { return false; }
        }, TimeSpan.FromSeconds(60));
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Condition not met within {timeout}.");
            await Task.Delay(100);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
