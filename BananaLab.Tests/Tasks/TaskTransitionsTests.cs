using System.Collections.Concurrent;
using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Tests.Tasks;

/// <summary>
/// The task state machine driven directly on a real SQLite file: every allowed transition with each of its side
/// effects (run record, credit capture or release, webhook outbox row, event) exactly once, and every refused one
/// changing nothing at all.
/// </summary>
public sealed class TaskTransitionsTests(NoWorkerFactory factory) : IClassFixture<NoWorkerFactory>
{
    private const string Worker = "w-transitions";
    private TaskTransitions Transitions => factory.Services.GetRequiredService<TaskTransitions>();

    /// <summary>One task of a fresh user with an account webhook (so every end queues exactly one delivery), and what happened to it.</summary>
    private sealed class Subject(Guid taskId, Guid userId, ConcurrentQueue<TaskEvent> events, IDisposable subscription) : IDisposable
    {
        public Guid TaskId { get; } = taskId;
        public Guid UserId { get; } = userId;
        public TaskEventKind[] Events => [.. events.Select(e => e.Kind)];
        public void Dispose() => subscription.Dispose();
    }

    private async Task<Subject> SubmitAsync()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 100);
        await using (var db = await NewDbAsync())
            await db.Users.Where(u => u.Id == user.Id).ExecuteUpdateAsync(s => s.SetProperty(u => u.WebhookUrl, "http://127.0.0.1:9/hook"));
        await factory.Services.HoldQueuedTasksAsync();
        var id = await factory.Services.SubmitTestTaskAsync(user.Id, "a task in the state machine");
        var events = new ConcurrentQueue<TaskEvent>();
        var subscription = factory.Services.GetRequiredService<TaskNotifier>().Subscribe(id, events.Enqueue);
        return new Subject(id, user.Id, events, subscription);
    }

    private Task<BananaLabDbContext> NewDbAsync() =>
        factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();

    private async Task<GenerationTask> ClaimAsync(Subject subject)
    {
        await using var db = await NewDbAsync();
        var claimed = await Transitions.ClaimAsync(db, Worker, TimeSpan.FromMinutes(1), null, default);
        Assert.Equal(subject.TaskId, claimed!.Id);
        return claimed;
    }

    /// <summary>Everything a transition may touch, to compare before and after (lists joined, so records compare by value).</summary>
    private sealed record State(GenerationTaskStatus Status, string Ledger, int Deliveries, string Runs, int Balance);

    private static string List<T>(params T[] items) => string.Join(",", items);

    private async Task<State> StateAsync(Subject subject)
    {
        await using var db = await NewDbAsync();
        var task = await db.Tasks.AsNoTracking().SingleAsync(t => t.Id == subject.TaskId);
        var ledger = await db.CreditEntries.Where(e => e.TaskId == subject.TaskId).OrderBy(e => e.Id).Select(e => e.Kind).ToArrayAsync();
        var deliveries = await db.Set<BananaLab.Core.Webhooks.WebhookDelivery>().CountAsync(d => d.TaskId == subject.TaskId);
        var runs = await db.TaskAttempts.Where(a => a.TaskId == subject.TaskId).OrderBy(a => a.Id).Select(a => a.Outcome).ToArrayAsync();
        var balance = await db.Users.Where(u => u.Id == subject.UserId).Select(u => u.CreditBalance).SingleAsync();
        return new State(task.Status, List(ledger), deliveries, List(runs.Select(r => r?.ToString() ?? "open").ToArray()), balance);
    }

    [Fact]
    public async Task Claim_runs_a_queued_task_and_records_the_run()
    {
        using var subject = await SubmitAsync();
        var task = await ClaimAsync(subject);

        Assert.Equal(GenerationTaskStatus.Running, task.Status);
        var state = await StateAsync(subject);
        Assert.Equal("Reserve", state.Ledger);
        Assert.Equal("open", state.Runs);
        Assert.Equal(0, state.Deliveries);
        Assert.Equal([TaskEventKind.Started], subject.Events);
    }

    [Fact]
    public async Task Succeed_captures_once_stores_images_ends_the_run_and_queues_one_webhook_and_a_second_success_is_refused()
    {
        using var subject = await SubmitAsync();
        var task = await ClaimAsync(subject);
        var image = new TaskImage { TaskId = task.Id, Index = 0, FilePath = "x.png", Width = 1, Height = 1, ByteSize = 1, Sha256 = "00", ContentType = "image/png" };

        await using (var db = await NewDbAsync())
            Assert.True(await Transitions.SucceedAsync(db, task, Worker, [image], 12, null, default));
        var after = await StateAsync(subject);
        await using (var db = await NewDbAsync())
            Assert.False(await Transitions.SucceedAsync(db, task, Worker, [], 12, null, default));

        Assert.Equal(GenerationTaskStatus.Succeeded, after.Status);
        Assert.Equal("Reserve,Capture", after.Ledger);
        Assert.Equal("Succeeded", after.Runs);
        Assert.Equal(1, after.Deliveries);
        Assert.Equal(after, await StateAsync(subject));
        Assert.Equal([TaskEventKind.Started, TaskEventKind.Succeeded], subject.Events);
    }

    [Fact]
    public async Task End_fails_a_running_task_releasing_once_and_nothing_ends_it_again()
    {
        using var subject = await SubmitAsync();
        var task = await ClaimAsync(subject);

        await using (var db = await NewDbAsync())
            Assert.True(await Transitions.EndAsync(db, task, TaskTransitions.HeldBy(db, task.Id, Worker), GenerationTaskStatus.Failed,
                "generation_failed", "broke", default, Worker));
        var after = await StateAsync(subject);

        Assert.Equal(GenerationTaskStatus.Failed, after.Status);
        Assert.Equal("Reserve,Release", after.Ledger);
        Assert.Equal(100, after.Balance);
        Assert.Equal("Failed", after.Runs);
        Assert.Equal(1, after.Deliveries);
        // Refused from a terminal state: another end, a success, a requeue, a cancel as if queued.
        await using (var db = await NewDbAsync())
        {
            Assert.False(await Transitions.EndAsync(db, task, TaskTransitions.HeldBy(db, task.Id, Worker), GenerationTaskStatus.Canceled, "canceled", "x", default));
            Assert.False(await Transitions.SucceedAsync(db, task, Worker, [], 1, null, default));
            Assert.False(await Transitions.RequeueAsync(db, task, TaskTransitions.HeldBy(db, task.Id, Worker), Requeue.LeaseExpired, default));
            Assert.False(await Transitions.EndAsync(db, task, TaskTransitions.StillQueued(db, task.Id), GenerationTaskStatus.Canceled, "canceled", "x", default));
        }
        Assert.Equal(after, await StateAsync(subject));
        Assert.Equal([TaskEventKind.Started, TaskEventKind.Failed], subject.Events);
    }

    [Fact]
    public async Task Cancel_of_a_queued_task_releases_once_and_a_claim_or_success_after_it_is_refused()
    {
        using var subject = await SubmitAsync();
        var task = await factory.Services.LoadTaskAsync(subject.TaskId);

        await using (var db = await NewDbAsync())
            Assert.True(await Transitions.EndAsync(db, task, TaskTransitions.StillQueued(db, task.Id), GenerationTaskStatus.Canceled,
                TaskErrors.Canceled, TaskTransitions.Messages.CanceledBeforeStart, default));
        var after = await StateAsync(subject);
        await using (var db = await NewDbAsync())
        {
            Assert.Null(await Transitions.ClaimAsync(db, Worker, TimeSpan.FromMinutes(1), null, default));
            Assert.False(await Transitions.SucceedAsync(db, task, Worker, [], 1, null, default));
        }

        Assert.Equal(GenerationTaskStatus.Canceled, after.Status);
        Assert.Equal("Reserve,Release", after.Ledger);
        Assert.Equal("", after.Runs);
        Assert.Equal(1, after.Deliveries);
        Assert.Equal(after, await StateAsync(subject));
        Assert.Equal([TaskEventKind.Canceled], subject.Events);
    }

    [Fact]
    public async Task Cancel_of_a_queued_task_is_refused_once_a_worker_claimed_it()
    {
        using var subject = await SubmitAsync();
        var queued = await factory.Services.LoadTaskAsync(subject.TaskId);
        await ClaimAsync(subject);
        var before = await StateAsync(subject);

        await using (var db = await NewDbAsync())
            Assert.False(await Transitions.EndAsync(db, queued, TaskTransitions.StillQueued(db, queued.Id), GenerationTaskStatus.Canceled,
                TaskErrors.Canceled, TaskTransitions.Messages.CanceledBeforeStart, default));

        Assert.Equal(before, await StateAsync(subject));
        Assert.Equal([TaskEventKind.Started], subject.Events);
    }

    [Theory]
    [InlineData(TaskAttemptOutcome.Retried)]
    [InlineData(TaskAttemptOutcome.Released)]
    [InlineData(TaskAttemptOutcome.LeaseExpired)]
    [InlineData(TaskAttemptOutcome.Orphaned)]
    public async Task Requeue_puts_a_running_task_back_with_its_run_ended_and_no_credit_moved(TaskAttemptOutcome why)
    {
        using var subject = await SubmitAsync();
        var task = await ClaimAsync(subject);
        var requeue = why == TaskAttemptOutcome.Retried ? Requeue.Retry(TimeSpan.FromMinutes(5), "provider_timeout", "slow") : new Requeue(why);

        await using (var db = await NewDbAsync())
            Assert.True(await Transitions.RequeueAsync(db, task, TaskTransitions.HeldBy(db, task.Id, Worker), requeue, default));
        var after = await StateAsync(subject);
        var stored = await factory.Services.LoadTaskAsync(task.Id);
        // Another worker's requeue of the same run is refused: the task is no longer held.
        await using (var db = await NewDbAsync())
            Assert.False(await Transitions.RequeueAsync(db, task, TaskTransitions.HeldBy(db, task.Id, Worker), requeue, default));

        Assert.Equal(GenerationTaskStatus.Queued, after.Status);
        Assert.Null(stored.WorkerName);
        Assert.Equal("Reserve", after.Ledger);
        Assert.Equal(why.ToString(), after.Runs);
        Assert.Equal(0, after.Deliveries);
        // Only a run handed back at shutdown does not count; only a retry waits and keeps its error.
        Assert.Equal(why == TaskAttemptOutcome.Released ? 0 : 1, stored.Attempts);
        Assert.Equal(why == TaskAttemptOutcome.Retried, stored.NotBefore > DateTime.UtcNow);
        Assert.Equal(why == TaskAttemptOutcome.Retried ? "provider_timeout" : null, stored.ErrorCode);
        Assert.Equal(after, await StateAsync(subject));
        Assert.Equal([TaskEventKind.Started, TaskEventKind.Queued], subject.Events);
    }

    [Fact]
    public async Task A_running_task_whose_cancel_was_accepted_is_neither_retried_nor_completed_but_ends_canceled()
    {
        using var subject = await SubmitAsync();
        var task = await ClaimAsync(subject);
        await using (var db = await NewDbAsync())
            await db.Tasks.Where(t => t.Id == task.Id).ExecuteUpdateAsync(s => s.SetProperty(t => t.CancelRequested, true));

        await using (var db = await NewDbAsync())
        {
            Assert.False(await Transitions.RequeueAsync(db, task, TaskTransitions.HeldBy(db, task.Id, Worker), Requeue.Retry(TimeSpan.Zero, "x", "y"), default));
            Assert.False(await Transitions.SucceedAsync(db, task, Worker, [], 1, null, default));
            Assert.True(await Transitions.EndAsync(db, task, TaskTransitions.HeldBy(db, task.Id, Worker), GenerationTaskStatus.Canceled,
                TaskErrors.Canceled, TaskTransitions.Messages.CanceledWhileRunning, default, Worker));
        }

        var after = await StateAsync(subject);
        Assert.Equal(GenerationTaskStatus.Canceled, after.Status);
        Assert.Equal("Reserve,Release", after.Ledger);
        Assert.Equal("Canceled", after.Runs);
        Assert.Equal([TaskEventKind.Started, TaskEventKind.Canceled], subject.Events);
    }

    [Fact]
    public async Task A_worker_that_no_longer_holds_the_task_cannot_move_it()
    {
        using var subject = await SubmitAsync();
        var task = await ClaimAsync(subject);
        var before = await StateAsync(subject);

        await using (var db = await NewDbAsync())
        {
            Assert.False(await Transitions.SucceedAsync(db, task, "someone-else", [], 1, null, default));
            Assert.False(await Transitions.EndAsync(db, task, TaskTransitions.HeldBy(db, task.Id, "someone-else"), GenerationTaskStatus.Failed, "x", "y", default));
            Assert.False(await Transitions.RequeueAsync(db, task, TaskTransitions.HeldBy(db, task.Id, "someone-else"), Requeue.Released, default));
        }

        Assert.Equal(before, await StateAsync(subject));
        Assert.Equal([TaskEventKind.Started], subject.Events);
    }

    [Fact]
    public async Task Ending_as_anything_but_failed_or_canceled_is_a_programming_error()
    {
        using var subject = await SubmitAsync();
        var task = await ClaimAsync(subject);
        await using var db = await NewDbAsync();
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            Transitions.EndAsync(db, task, TaskTransitions.HeldBy(db, task.Id, Worker), GenerationTaskStatus.Succeeded, "x", "y", default));
    }
}
