using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using BananaLab.Core.Generation;
using BananaLab.Core.Webhooks;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Core.Tasks;

/// <summary>
/// Every change of a task's status after submission, each written once with what goes with it: the run's
/// record (<see cref="TaskAttempt"/>), the credit capture or release, the webhook outbox row and the event.
/// <code>
///   Queued ──claim──▶ Running ──succeed──▶ Succeeded            (capture)
///     │                 ├──end──────────▶ Failed | Canceled     (release)
///     │                 └──requeue──────▶ Queued                (retry, release at shutdown, lease expiry, restart)
///     └──end (cancel)─────────────────────▶ Canceled            (release)
/// </code>
/// (Submission inserts a task as Queued, or as Blocked when moderation refuses it; see <c>TaskService</c>.)
/// Each transition is guarded: it changes the row only if the row is still in the state the transition leaves
/// (and, for a running task, still held by the caller's worker), in one statement inside one transaction with
/// its side effects. Of two racing callers exactly one wins, and the other changes nothing and gets false.
/// Callers pass a fresh context per transition; the engine-specific claim statement is
/// <see cref="IDatabaseProvider.ClaimNextTasksAsync"/>.
/// </summary>
public sealed class TaskTransitions(
    IDatabaseProvider database,
    CreditLedger ledger,
    WebhookOutbox webhooks,
    TaskNotifier notifier,
    TimeProvider clock)
{
    /// <summary>What the user reads when a task ends without images; one wording wherever it happens.</summary>
    public static class Messages
    {
        public const string CanceledBeforeStart = "Canceled before it started; the credits were returned.";
        public const string CanceledWhileRunning = "Canceled while running; the credits were returned.";
        public const string WorkerStoppedResponding = "The worker running this task stopped responding; the credits were returned.";
    }

    /// <summary>The rows a running task's worker may change: the task, still running, still held by <paramref name="workerName"/>.</summary>
    public static IQueryable<GenerationTask> HeldBy(BananaLabDbContext db, Guid taskId, string workerName) =>
        db.Tasks.Where(t => t.Id == taskId && t.Status == GenerationTaskStatus.Running && t.WorkerName == workerName);

    /// <summary>The task, only while it is still queued.</summary>
    public static IQueryable<GenerationTask> StillQueued(BananaLabDbContext db, Guid taskId) =>
        db.Tasks.Where(t => t.Id == taskId && t.Status == GenerationTaskStatus.Queued);

    /// <summary>
    /// Queued → Running: the oldest claimable task (of <paramref name="modelIds"/> only, when given) for this worker,
    /// under a lease until now + <paramref name="lease"/>, with the run recorded in the same transaction. Null when
    /// nothing is claimable. Publishes <see cref="TaskEventKind.Started"/>.
    /// </summary>
    public async Task<GenerationTask?> ClaimAsync(BananaLabDbContext db, string workerName, TimeSpan lease,
        IReadOnlyList<string>? modelIds, CancellationToken cancellationToken) =>
        (await ClaimBatchAsync(db, workerName, lease, modelIds, BatchClaim.Single, cancellationToken)).FirstOrDefault();

    /// <summary>
    /// Queued → Running for the oldest claimable task and the tasks that may share its run (<see cref="BatchClaim"/>),
    /// oldest first, each under a lease until now + <paramref name="lease"/> with its run recorded, in one transaction.
    /// Empty when nothing is claimable. Publishes <see cref="TaskEventKind.Started"/> for each.
    /// </summary>
    public async Task<IReadOnlyList<GenerationTask>> ClaimBatchAsync(BananaLabDbContext db, string workerName, TimeSpan lease,
        IReadOnlyList<string>? modelIds, BatchClaim batch, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var tasks = await database.ClaimNextTasksAsync(db, workerName, now, now + lease, modelIds, batch, cancellationToken);
        if (tasks.Count == 0) return tasks;
        foreach (var task in tasks)
            db.TaskAttempts.Add(new TaskAttempt { TaskId = task.Id, Number = task.Attempts, WorkerName = workerName, StartedAt = now });
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        foreach (var task in tasks)
            notifier.Publish(new TaskEvent(task.Id, task.UserId, TaskEventKind.Started, task.Status, 0, ModelId: task.ModelId, WorkerName: workerName));
        return tasks;
    }

    /// <summary>
    /// Running → Succeeded, if <paramref name="workerName"/> still holds the task and no cancel was accepted: stores
    /// <paramref name="images"/>, captures the reservation, ends the run and queues the webhook, in one transaction;
    /// then publishes <see cref="TaskEventKind.Succeeded"/> (with <paramref name="timing"/>, when measured). False
    /// (nothing changed) when the guard fails.
    /// </summary>
    public async Task<bool> SucceedAsync(BananaLabDbContext db, GenerationTask task, string workerName, IReadOnlyList<TaskImage> images,
        long computeMs, RunTiming? timing, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        var total = (long)(now - task.CreatedAt).TotalMilliseconds;
        // A cancel that was answered 200 has set CancelRequested: success is decided in this one statement, never after it.
        var updated = await HeldBy(db, task.Id, workerName).Where(t => !t.CancelRequested).ExecuteUpdateAsync(s => s
            .SetProperty(t => t.Status, GenerationTaskStatus.Succeeded)
            .SetProperty(t => t.ProgressPercent, 100)
            .SetProperty(t => t.FinishedAt, now)
            .SetProperty(t => t.LeaseExpiresAt, (DateTime?)null)
            .SetProperty(t => t.CreditsCharged, task.CreditsReserved)
            .SetProperty(t => t.ComputeDurationMs, computeMs)
            .SetProperty(t => t.TotalDurationMs, total)
            .SetProperty(t => t.ErrorCode, (string?)null)
            .SetProperty(t => t.ErrorMessage, (string?)null), cancellationToken);
        if (updated != 1 || !await ledger.CaptureAsync(db, task.UserId, task.Id, task.CreditsReserved, cancellationToken))
        {
            await transaction.RollbackAsync(cancellationToken);
            return false;
        }
        db.TaskImages.AddRange(images);
        await db.SaveChangesAsync(cancellationToken);
        await EndRunAsync(db, task.Id, TaskAttemptOutcome.Succeeded, null, now, cancellationToken);
        await webhooks.EnqueueAsync(db, task, GenerationTaskStatus.Succeeded, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        notifier.Publish(new TaskEvent(task.Id, task.UserId, TaskEventKind.Succeeded, GenerationTaskStatus.Succeeded, 100,
            ModelId: task.ModelId, ComputeMs: computeMs, WorkerName: workerName, Timing: timing));
        return true;
    }

    /// <summary>
    /// Running or Queued → Failed or Canceled (<paramref name="status"/>), for the rows <paramref name="guard"/> still
    /// selects: records <paramref name="code"/> and <paramref name="message"/>, releases the reservation, ends the open
    /// run (as <paramref name="runOutcome"/>, or as the status says) and queues the webhook, in one transaction; then
    /// publishes <see cref="TaskEventKind.Failed"/> or <see cref="TaskEventKind.Canceled"/>. False when the guard fails.
    /// </summary>
    public async Task<bool> EndAsync(BananaLabDbContext db, GenerationTask task, IQueryable<GenerationTask> guard,
        GenerationTaskStatus status, string code, string message, CancellationToken cancellationToken,
        string? workerName = null, TaskAttemptOutcome? runOutcome = null)
    {
        if (status is not (GenerationTaskStatus.Failed or GenerationTaskStatus.Canceled))
            throw new ArgumentOutOfRangeException(nameof(status), status, "A task ends unsuccessfully as Failed or Canceled.");
        var now = clock.GetUtcNow().UtcDateTime;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var updated = await guard.ExecuteUpdateAsync(s => s
            .SetProperty(t => t.Status, status)
            .SetProperty(t => t.ProgressPercent, t => t.ProgressPercent > task.ProgressPercent ? t.ProgressPercent : task.ProgressPercent)
            .SetProperty(t => t.FinishedAt, now)
            .SetProperty(t => t.LeaseExpiresAt, (DateTime?)null)
            .SetProperty(t => t.TotalDurationMs, (long)(now - task.CreatedAt).TotalMilliseconds)
            .SetProperty(t => t.ErrorCode, code)
            .SetProperty(t => t.ErrorMessage, message), cancellationToken);
        if (updated != 1 || !await ledger.ReleaseAsync(db, task.UserId, task.Id, task.CreditsReserved, code, cancellationToken))
        {
            await transaction.RollbackAsync(cancellationToken);
            return false;
        }
        await EndRunAsync(db, task.Id,
            runOutcome ?? (status == GenerationTaskStatus.Canceled ? TaskAttemptOutcome.Canceled : TaskAttemptOutcome.Failed), code, now, cancellationToken);
        await webhooks.EnqueueAsync(db, task, status, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        var kind = status == GenerationTaskStatus.Canceled ? TaskEventKind.Canceled : TaskEventKind.Failed;
        notifier.Publish(new TaskEvent(task.Id, task.UserId, kind, status, task.ProgressPercent, ErrorCode: code, ErrorMessage: message,
            ModelId: task.ModelId, WorkerName: workerName));
        return true;
    }

    /// <summary>
    /// Running → Queued, for the rows <paramref name="guard"/> still selects and only if no cancel was accepted: the
    /// worker and lease are cleared and the progress reset, the open run ends as <paramref name="why"/>.Outcome, in one
    /// transaction; then publishes <see cref="TaskEventKind.Queued"/>. A retry waits until now + its delay and keeps its
    /// error; a run handed back at shutdown does not count as an attempt. False when the guard fails.
    /// </summary>
    public async Task<bool> RequeueAsync(BananaLabDbContext db, GenerationTask task, IQueryable<GenerationTask> guard, Requeue why,
        CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var notBefore = why.RetryDelay is { } delay ? now + delay : (DateTime?)null;
        var attemptsGiven = why.Outcome == TaskAttemptOutcome.Released ? 1 : 0;
        // A run handed back at shutdown goes back as it was, a pending cancel included (the next claim settles it);
        // every other requeue leaves a task whose cancel was accepted to be settled as canceled.
        var rows = why.Outcome == TaskAttemptOutcome.Released ? guard : guard.Where(t => !t.CancelRequested);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var requeued = await rows.ExecuteUpdateAsync(s => s
            .SetProperty(t => t.Status, GenerationTaskStatus.Queued)
            .SetProperty(t => t.WorkerName, (string?)null)
            .SetProperty(t => t.LeaseExpiresAt, (DateTime?)null)
            .SetProperty(t => t.ProgressPercent, 0)
            .SetProperty(t => t.NotBefore, t => notBefore ?? t.NotBefore)
            .SetProperty(t => t.ErrorCode, t => why.ErrorCode ?? t.ErrorCode)
            .SetProperty(t => t.ErrorMessage, t => why.ErrorMessage ?? t.ErrorMessage)
            .SetProperty(t => t.Attempts, t => t.Attempts - attemptsGiven), cancellationToken);
        if (requeued != 1)
        {
            await transaction.RollbackAsync(cancellationToken);
            return false;
        }
        await EndRunAsync(db, task.Id, why.Outcome, why.ErrorCode, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        notifier.Publish(new TaskEvent(task.Id, task.UserId, TaskEventKind.Queued, GenerationTaskStatus.Queued, 0));
        return true;
    }

    /// <summary>Closes the task's open run (there is at most one), in the caller's transaction. A task canceled while queued has none.</summary>
    private static Task EndRunAsync(BananaLabDbContext db, Guid taskId, TaskAttemptOutcome outcome, string? errorCode, DateTime now,
        CancellationToken cancellationToken) =>
        db.TaskAttempts.Where(a => a.TaskId == taskId && a.EndedAt == null).ExecuteUpdateAsync(s => s
            .SetProperty(a => a.EndedAt, now)
            .SetProperty(a => a.Outcome, outcome)
            .SetProperty(a => a.ErrorCode, errorCode), cancellationToken);
}

/// <summary>Why a running task goes back to the queue (<see cref="TaskTransitions.RequeueAsync"/>).</summary>
/// <param name="Outcome">How the run that ends here is recorded.</param>
/// <param name="RetryDelay">For a retry: how long to wait before the next claim.</param>
/// <param name="ErrorCode">For a retry: the failure that caused it, kept on the task until it ends.</param>
/// <param name="ErrorMessage">For a retry: that failure's message.</param>
public sealed record Requeue(TaskAttemptOutcome Outcome, TimeSpan? RetryDelay = null, string? ErrorCode = null, string? ErrorMessage = null)
{
    public static Requeue Retry(TimeSpan delay, string code, string message) => new(TaskAttemptOutcome.Retried, delay, code, message);
    public static readonly Requeue Released = new(TaskAttemptOutcome.Released);
    public static readonly Requeue LeaseExpired = new(TaskAttemptOutcome.LeaseExpired);
    public static readonly Requeue Orphaned = new(TaskAttemptOutcome.Orphaned);
}
