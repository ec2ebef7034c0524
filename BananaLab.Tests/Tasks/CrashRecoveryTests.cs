using System.Diagnostics;
using System.Net.Http.Headers;
using BananaLab.Core.Data;
using BananaLab.Core.Tasks;
using BananaLab.Core.Users;
using BananaLab.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
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
        var port = LoopbackPorts.Free();
        var first = StartHost(data.Path, port, "node-before-crash");
        try
        {
            await ChildProcesses.WaitReadyAsync(port);
            using var core = ChildProcesses.CoreServices(new Dictionary<string, string?> { ["Storage:DataDirectory"] = data.Path });
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
            await ChildProcesses.WaitUntilAsync(async () => await ChildProcesses.CountAsync(core, GenerationTaskStatus.Succeeded) >= 2, TimeSpan.FromSeconds(60));
            Assert.True(await ChildProcesses.CountAsync(core, GenerationTaskStatus.Queued) > 0, "the host finished everything before it could be killed");
            first.Kill(entireProcessTree: true);
            await first.WaitForExitAsync();
            output.WriteLine($"killed with {await ChildProcesses.CountAsync(core, GenerationTaskStatus.Running)} running, {await ChildProcesses.CountAsync(core, GenerationTaskStatus.Queued)} queued");

            var second = StartHost(data.Path, port, "node-after-crash");
            try
            {
                await ChildProcesses.WaitReadyAsync(port);
                await ChildProcesses.WaitUntilAsync(async () =>
                {
                    await using var db = await core.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
                    return await db.Tasks.CountAsync(t => ids.Contains(t.Id) && (t.Status == GenerationTaskStatus.Queued || t.Status == GenerationTaskStatus.Running)) == 0;
                }, TimeSpan.FromSeconds(120));
            }
            finally
            {
                ChildProcesses.KillQuietly(second);
            }

            await ChildProcesses.AssertSettledExactlyOnceAsync(core, ids, users.Select(u => u.Id));
            await using var check = await core.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
            Assert.True(await check.Tasks.AnyAsync(t => ids.Contains(t.Id) && t.Status == GenerationTaskStatus.Succeeded && t.WorkerName == "node-after-crash"));
            foreach (var (_, client) in users) client.Dispose();
        }
        finally
        {
            ChildProcesses.KillQuietly(first);
        }
    }

    private Process StartHost(string dataDirectory, int port, string workerName) =>
        ChildProcesses.Start(output, workerName, "web", dataDirectory, port.ToString(),
            $"Worker:Name={workerName}", "Worker:Concurrency=2", "Worker:LeaseSeconds=2", "Worker:HeartbeatMs=200");
}
