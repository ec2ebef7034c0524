using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Tests.Tasks;

/// <summary>The queue's state machine driven by hand (no worker running): claims, leases, recovery, cancel.</summary>
public sealed class TaskQueueTests(NoWorkerFactory factory) : IClassFixture<NoWorkerFactory>
{
    private TaskService Tasks => factory.Services.GetRequiredService<TaskService>();
    private TaskQueue Queue => factory.Services.GetRequiredService<TaskQueue>();

    [Fact]
    public async Task Claim_takes_the_oldest_queued_task_exactly_once()
    {
        var (user, _) = await factory.CreateUserAsync();
        await factory.Services.HoldQueuedTasksAsync();
        var first = await factory.Services.SubmitTestTaskAsync(user.Id, "first");
        var second = await factory.Services.SubmitTestTaskAsync(user.Id, "second");

        Assert.Equal(first, (await Queue.ClaimAsync("w0", TimeSpan.FromMinutes(1), default))!.Id);
        var racing = await Task.WhenAll(Enumerable.Range(1, 6).Select(i => Queue.ClaimAsync($"w{i}", TimeSpan.FromMinutes(1), default)));

        Assert.Equal([second], racing.Where(c => c is not null).Select(c => c!.Id));
        var task = await factory.Services.LoadTaskAsync(first);
        Assert.Equal(GenerationTaskStatus.Running, task.Status);
        Assert.Equal(1, task.Attempts);
        Assert.NotNull(task.LeaseExpiresAt);
    }

    [Fact]
    public async Task Expired_lease_puts_the_task_back_in_the_queue()
    {
        var (user, _) = await factory.CreateUserAsync();
        await factory.Services.HoldQueuedTasksAsync();
        var id = await factory.Services.SubmitTestTaskAsync(user.Id, "crashy");
        Assert.Equal(id, (await Queue.ClaimAsync("ghost", TimeSpan.FromMilliseconds(200), default))!.Id);

        await Task.Delay(400);
        await Queue.RecoverExpiredLeasesAsync(maxAttempts: 3, default);

        var task = await factory.Services.LoadTaskAsync(id);
        Assert.Equal(GenerationTaskStatus.Queued, task.Status);
        Assert.Null(task.WorkerName);
        Assert.Equal(1, task.Attempts);
        Assert.Equal(id, (await Queue.ClaimAsync("survivor", TimeSpan.FromMinutes(1), default))!.Id);

        // Each run is on record with its own start: the first ended when its lease ran out, the second runs.
        var runs = await AttemptsAsync(id);
        Assert.Equal([("ghost", TaskAttemptOutcome.LeaseExpired), ("survivor", (TaskAttemptOutcome?)null)], runs.Select(r => (r.WorkerName, r.Outcome)));
        Assert.True(runs[1].StartedAt > runs[0].EndedAt);
        Assert.Equal(runs[0].StartedAt, (await factory.Services.LoadTaskAsync(id)).StartedAt);
    }

    private async Task<List<TaskAttempt>> AttemptsAsync(Guid taskId) =>
        [.. await factory.Services.GetRequiredService<BananaLab.Core.Reporting.AdminReports>().TaskAttemptsAsync(taskId, default)];

    [Fact]
    public async Task Expired_lease_after_the_last_attempt_fails_and_refunds()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 20);
        await factory.Services.HoldQueuedTasksAsync();
        var id = await factory.Services.SubmitTestTaskAsync(user.Id, "always crashes");
        await Queue.ClaimAsync("ghost", TimeSpan.FromMilliseconds(100), default);

        await Task.Delay(300);
        await Queue.RecoverExpiredLeasesAsync(maxAttempts: 1, default);

        var task = await factory.Services.LoadTaskAsync(id);
        Assert.Equal(GenerationTaskStatus.Failed, task.Status);
        Assert.Equal(TaskErrors.LeaseExpired, task.ErrorCode);
        Assert.Equal(20, await factory.Services.GetRequiredService<CreditLedger>().GetBalanceAsync(user.Id));
    }

    [Fact]
    public async Task A_restarted_worker_recovers_its_own_tasks_at_once()
    {
        var (user, _) = await factory.CreateUserAsync();
        await factory.Services.HoldQueuedTasksAsync();
        var id = await factory.Services.SubmitTestTaskAsync(user.Id, "orphan");
        await Queue.ClaimAsync("node-a", TimeSpan.FromHours(1), default);

        await Queue.RecoverExpiredLeasesAsync(maxAttempts: 3, default, orphanedBy: "node-a");

        Assert.Equal(GenerationTaskStatus.Queued, (await factory.Services.LoadTaskAsync(id)).Status);
        // Its lease had an hour to go: the run is recorded as ended by the restart, not by an expired lease.
        Assert.Equal(TaskAttemptOutcome.Orphaned, Assert.Single(await AttemptsAsync(id)).Outcome);
    }

    [Fact]
    public async Task Lost_lease_cannot_complete_or_charge()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 20);
        await factory.Services.HoldQueuedTasksAsync();
        var id = await factory.Services.SubmitTestTaskAsync(user.Id, "stolen");
        var claimed = (await Queue.ClaimAsync("slowpoke", TimeSpan.FromMilliseconds(100), default))!;
        await Task.Delay(300);
        await Queue.RecoverExpiredLeasesAsync(3, default);
        await Queue.ClaimAsync("other", TimeSpan.FromMinutes(1), default);

        Assert.False(await Queue.CompleteAsync(claimed, "slowpoke", [], 10, default));
        Assert.False((await Queue.RenewLeaseAsync(id, "slowpoke", TimeSpan.FromMinutes(1), default)).Owned);
        Assert.Equal(15, await factory.Services.GetRequiredService<CreditLedger>().GetBalanceAsync(user.Id));
    }

    [Fact]
    public async Task Transient_failure_retries_with_backoff_then_fails_and_refunds()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 20);
        await factory.Services.HoldQueuedTasksAsync();
        var id = await factory.Services.SubmitTestTaskAsync(user.Id, "flaky");
        var task = (await Queue.ClaimAsync("w", TimeSpan.FromMinutes(1), default))!;

        await Queue.FailAsync(task, "w", "provider_timeout", "slow", transient: true, maxAttempts: 2, TimeSpan.FromMilliseconds(300), default);
        var waiting = await factory.Services.LoadTaskAsync(id);
        Assert.Equal(GenerationTaskStatus.Queued, waiting.Status);
        Assert.True(waiting.NotBefore > DateTime.UtcNow);
        Assert.Null(await Queue.ClaimAsync("w", TimeSpan.FromMinutes(1), default)); // still backing off

        await Task.Delay(400);
        task = (await Queue.ClaimAsync("w", TimeSpan.FromMinutes(1), default))!;
        Assert.Equal(2, task.Attempts);
        await Queue.FailAsync(task, "w", "provider_timeout", "slow again", transient: true, maxAttempts: 2, TimeSpan.FromMilliseconds(300), default);

        var failed = await factory.Services.LoadTaskAsync(id);
        Assert.Equal(GenerationTaskStatus.Failed, failed.Status);
        Assert.Equal("provider_timeout", failed.ErrorCode);
        Assert.Equal(20, await factory.Services.GetRequiredService<CreditLedger>().GetBalanceAsync(user.Id));
        Assert.Equal([(1, TaskAttemptOutcome.Retried, "provider_timeout"), (2, TaskAttemptOutcome.Failed, "provider_timeout")],
            (await AttemptsAsync(id)).Select(r => (r.Number, r.Outcome!.Value, r.ErrorCode!)));
    }

    [Fact]
    public async Task Canceling_a_queued_task_refunds_at_once()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 20);
        var id = await factory.Services.SubmitTestTaskAsync(user.Id, "never mind");

        var outcome = await Tasks.CancelAsync(id, user.Id, default);

        Assert.Equal(GenerationTaskStatus.Canceled, outcome.Value!.Status);
        Assert.Equal(20, await factory.Services.GetRequiredService<CreditLedger>().GetBalanceAsync(user.Id));
        Assert.Equal("not_cancelable", (await Tasks.CancelAsync(id, user.Id, default)).Error?.Code);
    }

    [Fact]
    public async Task Canceling_a_running_task_asks_its_worker_which_then_refunds()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 20);
        await factory.Services.HoldQueuedTasksAsync();
        var id = await factory.Services.SubmitTestTaskAsync(user.Id, "long one");
        var task = (await Queue.ClaimAsync("w", TimeSpan.FromMinutes(1), default))!;

        var outcome = await Tasks.CancelAsync(id, user.Id, default);
        Assert.Equal(GenerationTaskStatus.Running, outcome.Value!.Status);
        Assert.True(outcome.Value.Task.CancelRequested);
        Assert.True((await Queue.RenewLeaseAsync(id, "w", TimeSpan.FromMinutes(1), default)).CancelRequested);

        await Queue.FailAsync(task, "w", TaskErrors.Canceled, "Canceled while running.", false, 3, TimeSpan.Zero, default);
        Assert.Equal(GenerationTaskStatus.Canceled, (await factory.Services.LoadTaskAsync(id)).Status);
        Assert.Equal(20, await factory.Services.GetRequiredService<CreditLedger>().GetBalanceAsync(user.Id));
    }
}
