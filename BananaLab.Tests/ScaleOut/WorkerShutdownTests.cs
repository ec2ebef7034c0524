using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using BananaLab.Core.Generation;
using BananaLab.Core.Tasks;
using BananaLab.Core.Users;
using BananaLab.Tests.Infrastructure;
using BananaLab.Worker;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;

namespace BananaLab.Tests.ScaleOut;

/// <summary>
/// The worker process's host (<see cref="WorkerProgram.CreateBuilder"/>) stopped while it runs a task:
/// within <c>Worker:ShutdownGraceSeconds</c> the task finishes; past it, the task goes back to the
/// queue untouched, for another worker.
/// </summary>
public sealed class WorkerShutdownTests
{
    [Fact]
    public async Task Stopping_lets_a_running_task_finish_within_the_grace_period()
    {
        using var data = new TempDirectory();
        using var host = StartWorkerHost(data.Path, graceSeconds: 30);
        var (tasks, userId) = await PrepareAsync(host);
        var id = (await tasks.SubmitAsync(userId, new SubmitTaskRequest { ModelId = BananaLabFactory.TestModel, Prompt = "finish me [slow:100][steps:15]" }, default)).Value!.Id;
        await WaitForStatusAsync(host, id, GenerationTaskStatus.Running);

        await host.StopAsync();

        var task = await host.Services.LoadTaskAsync(id);
        Assert.Equal(GenerationTaskStatus.Succeeded, task.Status);
        Assert.Single(await EntriesAsync(host, id), e => e.Kind == CreditEntryKind.Capture);
    }

    [Fact]
    public async Task A_task_still_running_when_the_grace_period_ends_goes_back_to_the_queue_untouched()
    {
        using var data = new TempDirectory();
        using var host = StartWorkerHost(data.Path, graceSeconds: 1);
        var (tasks, userId) = await PrepareAsync(host);
        var id = (await tasks.SubmitAsync(userId, new SubmitTaskRequest { ModelId = BananaLabFactory.TestModel, Prompt = "too long [slow:500][steps:60]" }, default)).Value!.Id;
        await WaitForStatusAsync(host, id, GenerationTaskStatus.Running);

        await host.StopAsync();

        var task = await host.Services.LoadTaskAsync(id);
        Assert.Equal(GenerationTaskStatus.Queued, task.Status);
        Assert.Null(task.WorkerName);
        Assert.Equal(0, task.Attempts);
        // Still reserved, never settled: the next worker charges or refunds it exactly once.
        Assert.Equal([CreditEntryKind.Reserve], (await EntriesAsync(host, id)).Select(e => e.Kind));
    }

    private static IHost StartWorkerHost(string dataDirectory, int graceSeconds) => WorkerHosts.Start(dataDirectory,
        new Dictionary<string, string> { ["Worker:Name"] = "shutdown-test", ["Worker:ShutdownGraceSeconds"] = graceSeconds.ToString() });

    private static async Task<(TaskService Tasks, Guid UserId)> PrepareAsync(IHost host)
    {
        var user = await host.Services.GetRequiredService<UserService>()
            .CreateAsync($"shutdown-{Guid.NewGuid():N}@example.test", "Shutdown test", UserRole.User, initialCredits: 100);
        return (host.Services.GetRequiredService<TaskService>(), user.Id);
    }

    private static Task WaitForStatusAsync(IHost host, Guid id, GenerationTaskStatus status) =>
        ChildProcesses.WaitUntilAsync(async () => (await host.Services.LoadTaskAsync(id)).Status == status, TimeSpan.FromSeconds(30));

    private static async Task<List<CreditEntry>> EntriesAsync(IHost host, Guid id)
    {
        await using var db = await host.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        return await db.CreditEntries.AsNoTracking().Where(e => e.TaskId == id).OrderBy(e => e.Id).ToListAsync();
    }
}
