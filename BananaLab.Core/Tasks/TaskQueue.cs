using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using BananaLab.Core.Generation;
using BananaLab.Core.Webhooks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace BananaLab.Core.Tasks;

/// <summary>
/// The worker's side of the task engine: claim under a lease, renew, and settle every run exactly once
/// (success captures the reservation; failure, cancel or giving up releases it).
/// </summary>
public sealed class TaskQueue(
    IDbContextFactory<BananaLabDbContext> dbFactory,
    IDatabaseProvider database,
    CreditLedger ledger,
    WebhookOutbox webhooks,
    TaskNotifier notifier,
    TimeProvider clock,
    ILogger<TaskQueue> logger)
{
    /// <summary>Claims the oldest claimable task (of <paramref name="modelIds"/> only, when given) for this worker.</summary>
    public async Task<GenerationTask?> ClaimAsync(string workerName, TimeSpan lease, CancellationToken cancellationToken,
        IReadOnlyList<string>? modelIds = null)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        // The claim and the record of this run commit together: every run a task had is in TaskAttempts.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var task = await database.ClaimNextTaskAsync(db, workerName, now, now + lease, modelIds, cancellationToken);
        if (task is null) return null;
        db.TaskAttempts.Add(new TaskAttempt { TaskId = task.Id, Number = task.Attempts, WorkerName = workerName, StartedAt = now });
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        notifier.Publish(new TaskEvent(task.Id, task.UserId, TaskEventKind.Started, task.Status, 0, ModelId: task.ModelId, WorkerName: workerName));
        return task;
    }

    /// <summary>Extends the lease; returns false when this worker no longer owns the task, and whether a cancel was asked.</summary>
    public async Task<(bool Owned, bool CancelRequested)> RenewLeaseAsync(Guid taskId, string workerName, TimeSpan lease,
        CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var until = clock.GetUtcNow().UtcDateTime + lease;
        var owned = await OwnedBy(db, taskId, workerName)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.LeaseExpiresAt, until), cancellationToken) == 1;
        var cancel = owned && await db.Tasks.Where(t => t.Id == taskId).Select(t => t.CancelRequested).SingleAsync(cancellationToken);
        return (owned, cancel);
    }

    public async Task SaveProgressAsync(Guid taskId, string workerName, int percent, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await OwnedBy(db, taskId, workerName).ExecuteUpdateAsync(s => s.SetProperty(t => t.ProgressPercent, percent), cancellationToken);
    }

    /// <summary>
    /// Stores the images and charges the reservation in one transaction. False when the lease was lost. The run's
    /// <paramref name="timing"/>, when measured, travels on the succeeded event for <see cref="GenerationTimings"/>.
    /// </summary>
    public async Task<bool> CompleteAsync(GenerationTask task, string workerName, IReadOnlyList<TaskImage> images,
        long computeMs, CancellationToken cancellationToken, RunTiming? timing = null)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        var total = (long)(now - task.CreatedAt).TotalMilliseconds;
        // A cancel that was answered 200 has set CancelRequested: success is decided in this one statement, never after it.
        var updated = await OwnedBy(db, task.Id, workerName).Where(t => !t.CancelRequested).ExecuteUpdateAsync(s => s
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
            if (await OwnedBy(db, task.Id, workerName).AnyAsync(t => t.CancelRequested, cancellationToken))
            {
                logger.LogInformation("Task {TaskId}: canceled as it finished; the result is discarded and the credits released", task.Id);
                await SettleUnsuccessfulAsync(db, task, OwnedBy(db, task.Id, workerName), GenerationTaskStatus.Canceled, TaskErrors.Canceled,
                    "Canceled while running; the credits were returned.", cancellationToken, workerName);
                return false;
            }
            logger.LogWarning("Task {TaskId}: {Worker} lost its lease before completing; the result is discarded", task.Id, workerName);
            return false;
        }
        db.TaskImages.AddRange(images);
        await db.SaveChangesAsync(cancellationToken);
        await EndAttemptAsync(db, task.Id, TaskAttemptOutcome.Succeeded, null, now, cancellationToken);
        await webhooks.EnqueueAsync(db, task, GenerationTaskStatus.Succeeded, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        notifier.Publish(new TaskEvent(task.Id, task.UserId, TaskEventKind.Succeeded, GenerationTaskStatus.Succeeded, 100,
            ModelId: task.ModelId, ComputeMs: computeMs, WorkerName: workerName, Timing: timing));
        return true;
    }

    /// <summary>
    /// Ends a run that did not produce images. A transient failure with attempts left goes back to the
    /// queue after a backoff; anything else fails (or cancels) the task and releases its credits.
    /// </summary>
    public async Task FailAsync(GenerationTask task, string workerName, string code, string message, bool transient,
        int maxAttempts, TimeSpan retryBaseDelay, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        var attempts = await db.Tasks.Where(t => t.Id == task.Id).Select(t => t.Attempts).SingleAsync(cancellationToken);
        if (transient && attempts < maxAttempts)
        {
            var delay = retryBaseDelay * Math.Pow(2, attempts - 1);
            // A task whose cancel was accepted is not retried: it falls through to be settled as canceled.
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var requeued = await OwnedBy(db, task.Id, workerName).Where(t => !t.CancelRequested).ExecuteUpdateAsync(s => s
                .SetProperty(t => t.Status, GenerationTaskStatus.Queued)
                .SetProperty(t => t.WorkerName, (string?)null)
                .SetProperty(t => t.LeaseExpiresAt, (DateTime?)null)
                .SetProperty(t => t.NotBefore, now + delay)
                .SetProperty(t => t.ProgressPercent, 0)
                .SetProperty(t => t.ErrorCode, code)
                .SetProperty(t => t.ErrorMessage, message), cancellationToken);
            if (requeued == 1)
            {
                await EndAttemptAsync(db, task.Id, TaskAttemptOutcome.Retried, code, now, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                logger.LogWarning("Task {TaskId} attempt {Attempt} failed ({Code}); retrying in {Delay}", task.Id, attempts, code, delay);
                notifier.Publish(new TaskEvent(task.Id, task.UserId, TaskEventKind.Queued, GenerationTaskStatus.Queued, 0));
                return;
            }
            await transaction.RollbackAsync(cancellationToken);
        }

        var canceled = code == TaskErrors.Canceled || await db.Tasks.AnyAsync(t => t.Id == task.Id && t.CancelRequested, cancellationToken);
        if (canceled && code != TaskErrors.Canceled) (code, message) = (TaskErrors.Canceled, "Canceled while running; the credits were returned.");
        var status = canceled ? GenerationTaskStatus.Canceled : GenerationTaskStatus.Failed;
        await SettleUnsuccessfulAsync(db, task, OwnedBy(db, task.Id, workerName), status, code, message, cancellationToken, workerName);
    }

    /// <summary>Gives a task back to the queue untouched when its worker shuts down gracefully.</summary>
    public async Task ReleaseToQueueAsync(Guid taskId, string workerName, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var released = await OwnedBy(db, taskId, workerName).ExecuteUpdateAsync(s => s
            .SetProperty(t => t.Status, GenerationTaskStatus.Queued)
            .SetProperty(t => t.WorkerName, (string?)null)
            .SetProperty(t => t.LeaseExpiresAt, (DateTime?)null)
            .SetProperty(t => t.ProgressPercent, 0)
            .SetProperty(t => t.Attempts, t => t.Attempts - 1), cancellationToken);
        if (released == 1) await EndAttemptAsync(db, taskId, TaskAttemptOutcome.Released, null, clock.GetUtcNow().UtcDateTime, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// Puts tasks whose worker vanished (lease expired: a crashed or killed process) back in the queue,
    /// or fails them once they have used all their attempts. Returns how many were recovered.
    /// Tasks held by <paramref name="orphanedBy"/> count as expired at once: a worker that just
    /// started under that name cannot be running them.
    /// </summary>
    public async Task<int> RecoverExpiredLeasesAsync(int maxAttempts, CancellationToken cancellationToken, string? orphanedBy = null)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        var expired = await db.Tasks.AsNoTracking()
            .Where(t => t.Status == GenerationTaskStatus.Running && (t.LeaseExpiresAt < now || t.WorkerName == orphanedBy))
            .ToListAsync(cancellationToken);
        foreach (var task in expired)
        {
            var stillExpired = db.Tasks.Where(t => t.Id == task.Id && t.Status == GenerationTaskStatus.Running
                && t.WorkerName == task.WorkerName && t.LeaseExpiresAt == task.LeaseExpiresAt);
            // A worker that restarted under its old name takes back what its previous life held, lease or not: say which.
            var orphaned = task.WorkerName == orphanedBy && task.LeaseExpiresAt >= now;
            var outcome = orphaned ? TaskAttemptOutcome.Orphaned : TaskAttemptOutcome.LeaseExpired;
            if (task.CancelRequested || task.Attempts >= maxAttempts)
            {
                var (status, code, message) = task.CancelRequested
                    ? (GenerationTaskStatus.Canceled, TaskErrors.Canceled, "Canceled while running; the credits were returned.")
                    : (GenerationTaskStatus.Failed, TaskErrors.LeaseExpired, "The worker running this task stopped responding; the credits were returned.");
                await SettleUnsuccessfulAsync(db, task, stillExpired, status, code, message, cancellationToken, attemptOutcome: outcome);
                continue;
            }
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var requeued = await stillExpired.Where(t => !t.CancelRequested).ExecuteUpdateAsync(s => s
                .SetProperty(t => t.Status, GenerationTaskStatus.Queued)
                .SetProperty(t => t.WorkerName, (string?)null)
                .SetProperty(t => t.LeaseExpiresAt, (DateTime?)null)
                .SetProperty(t => t.ProgressPercent, 0), cancellationToken);
            if (requeued == 1) await EndAttemptAsync(db, task.Id, outcome, null, now, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            if (requeued == 1)
            {
                if (orphaned)
                    logger.LogWarning("Task {TaskId}: left running by a previous run of {Worker}, which restarted; re-queued", task.Id, task.WorkerName);
                else
                    logger.LogWarning("Task {TaskId}: the lease of {Worker} expired at {LeaseExpiresAt:u}; re-queued", task.Id, task.WorkerName, task.LeaseExpiresAt);
                notifier.Publish(new TaskEvent(task.Id, task.UserId, TaskEventKind.Queued, GenerationTaskStatus.Queued, 0));
            }
        }
        return expired.Count;
    }

    /// <summary>
    /// Fails a task that is still waiting in the queue and releases its credits, through the same settlement as a failed
    /// run; a task claimed or canceled meanwhile is left alone. For tasks of a model no worker serves (the workers' sweep).
    /// </summary>
    public async Task FailQueuedAsync(GenerationTask task, string code, string message, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var stillQueued = db.Tasks.Where(t => t.Id == task.Id && t.Status == GenerationTaskStatus.Queued);
        await SettleUnsuccessfulAsync(db, task, stillQueued, GenerationTaskStatus.Failed, code, message, cancellationToken);
    }

    private async Task SettleUnsuccessfulAsync(BananaLabDbContext db, GenerationTask task, IQueryable<GenerationTask> guard,
        GenerationTaskStatus status, string code, string message, CancellationToken cancellationToken, string? workerName = null,
        TaskAttemptOutcome? attemptOutcome = null)
    {
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
            return;
        }
        await EndAttemptAsync(db, task.Id,
            attemptOutcome ?? (status == GenerationTaskStatus.Canceled ? TaskAttemptOutcome.Canceled : TaskAttemptOutcome.Failed), code, now, cancellationToken);
        await webhooks.EnqueueAsync(db, task, status, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        var kind = status == GenerationTaskStatus.Canceled ? TaskEventKind.Canceled : TaskEventKind.Failed;
        notifier.Publish(new TaskEvent(task.Id, task.UserId, kind, status, task.ProgressPercent, ErrorCode: code, ErrorMessage: message,
            ModelId: task.ModelId, WorkerName: workerName));
    }

    /// <summary>Closes the task's open run (there is at most one), in the caller's transaction. A task canceled while queued has none.</summary>
    private static Task EndAttemptAsync(BananaLabDbContext db, Guid taskId, TaskAttemptOutcome outcome, string? errorCode, DateTime now,
        CancellationToken cancellationToken) =>
        db.TaskAttempts.Where(a => a.TaskId == taskId && a.EndedAt == null).ExecuteUpdateAsync(s => s
            .SetProperty(a => a.EndedAt, now)
            .SetProperty(a => a.Outcome, outcome)
            .SetProperty(a => a.ErrorCode, errorCode), cancellationToken);

    private static IQueryable<GenerationTask> OwnedBy(BananaLabDbContext db, Guid taskId, string workerName) =>
        db.Tasks.Where(t => t.Id == taskId && t.Status == GenerationTaskStatus.Running && t.WorkerName == workerName);
}
