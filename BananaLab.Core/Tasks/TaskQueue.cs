using BananaLab.Core.Data;
using BananaLab.Core.Generation;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace BananaLab.Core.Tasks;

/// <summary>
/// The worker's side of the task engine: claim under a lease, renew it, save progress, and end every run exactly
/// once (success captures the reservation; failure, cancel or giving up releases it). Decides which transition a
/// run's end is; the transitions themselves, with their side effects, are <see cref="TaskTransitions"/>.
/// </summary>
public sealed class TaskQueue(
    IDbContextFactory<BananaLabDbContext> dbFactory,
    TaskTransitions transitions,
    TimeProvider clock,
    ILogger<TaskQueue> logger)
{
    /// <summary>Claims the oldest claimable task (of <paramref name="modelIds"/> only, when given) for this worker.</summary>
    public async Task<GenerationTask?> ClaimAsync(string workerName, TimeSpan lease, CancellationToken cancellationToken,
        IReadOnlyList<string>? modelIds = null)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await transitions.ClaimAsync(db, workerName, lease, modelIds, cancellationToken);
    }

    /// <summary>
    /// Claims the oldest claimable task and the queued tasks that may share its run (<see cref="BatchClaim"/>), oldest
    /// first, in one statement; empty when nothing is claimable.
    /// </summary>
    public async Task<IReadOnlyList<GenerationTask>> ClaimBatchAsync(string workerName, TimeSpan lease, BatchClaim batch,
        CancellationToken cancellationToken, IReadOnlyList<string>? modelIds = null)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await transitions.ClaimBatchAsync(db, workerName, lease, modelIds, batch, cancellationToken);
    }

    /// <summary>Extends the lease; returns false when this worker no longer owns the task, and whether a cancel was asked.</summary>
    public async Task<(bool Owned, bool CancelRequested)> RenewLeaseAsync(Guid taskId, string workerName, TimeSpan lease,
        CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var until = clock.GetUtcNow().UtcDateTime + lease;
        var owned = await TaskTransitions.HeldBy(db, taskId, workerName)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.LeaseExpiresAt, until), cancellationToken) == 1;
        var cancel = owned && await db.Tasks.Where(t => t.Id == taskId).Select(t => t.CancelRequested).SingleAsync(cancellationToken);
        return (owned, cancel);
    }

    public async Task SaveProgressAsync(Guid taskId, string workerName, int percent, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await TaskTransitions.HeldBy(db, taskId, workerName).ExecuteUpdateAsync(s => s.SetProperty(t => t.ProgressPercent, percent), cancellationToken);
    }

    /// <summary>
    /// Stores the images and charges the reservation in one transaction. False when the lease was lost, or when a
    /// cancel was accepted meanwhile (the task then ends canceled, with its credits released). The run's
    /// <paramref name="timing"/>, when measured, travels on the succeeded event for <see cref="GenerationTimings"/>.
    /// </summary>
    public async Task<bool> CompleteAsync(GenerationTask task, string workerName, IReadOnlyList<TaskImage> images,
        long computeMs, CancellationToken cancellationToken, RunTiming? timing = null)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (await transitions.SucceedAsync(db, task, workerName, images, computeMs, timing, cancellationToken)) return true;
        if (await TaskTransitions.HeldBy(db, task.Id, workerName).AnyAsync(t => t.CancelRequested, cancellationToken))
        {
            logger.LogInformation("Task {TaskId}: canceled as it finished; the result is discarded and the credits released", task.Id);
            await transitions.EndAsync(db, task, TaskTransitions.HeldBy(db, task.Id, workerName), GenerationTaskStatus.Canceled,
                TaskErrors.Canceled, TaskTransitions.Messages.CanceledWhileRunning, cancellationToken, workerName);
            return false;
        }
        logger.LogWarning("Task {TaskId}: {Worker} lost its lease before completing; the result is discarded", task.Id, workerName);
        return false;
    }

    /// <summary>
    /// Ends a run that did not produce images. A transient failure with attempts left goes back to the queue after an
    /// exponential backoff, or after <paramref name="retryAfter"/> when the provider asked for longer; anything else fails
    /// (or cancels) the task and releases its credits.
    /// </summary>
    public async Task FailAsync(GenerationTask task, string workerName, string code, string message, bool transient,
        int maxAttempts, TimeSpan retryBaseDelay, CancellationToken cancellationToken, TimeSpan? retryAfter = null)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var attempts = await db.Tasks.Where(t => t.Id == task.Id).Select(t => t.Attempts).SingleAsync(cancellationToken);
        if (transient && attempts < maxAttempts)
        {
            var backoff = retryBaseDelay * Math.Pow(2, attempts - 1);
            var delay = retryAfter > backoff ? retryAfter.Value : backoff;
            // A task whose cancel was accepted is not retried: it falls through to be settled as canceled.
            if (await transitions.RequeueAsync(db, task, TaskTransitions.HeldBy(db, task.Id, workerName), Requeue.Retry(delay, code, message),
                    cancellationToken))
            {
                logger.LogWarning("Task {TaskId} attempt {Attempt} failed ({Code}); retrying in {Delay}", task.Id, attempts, code, delay);
                return;
            }
        }

        var canceled = code == TaskErrors.Canceled || await db.Tasks.AnyAsync(t => t.Id == task.Id && t.CancelRequested, cancellationToken);
        if (canceled && code != TaskErrors.Canceled) (code, message) = (TaskErrors.Canceled, TaskTransitions.Messages.CanceledWhileRunning);
        var status = canceled ? GenerationTaskStatus.Canceled : GenerationTaskStatus.Failed;
        await transitions.EndAsync(db, task, TaskTransitions.HeldBy(db, task.Id, workerName), status, code, message, cancellationToken, workerName);
    }

    /// <summary>Gives a task back to the queue untouched when its worker shuts down gracefully (the run does not count as an attempt).</summary>
    public async Task ReleaseToQueueAsync(GenerationTask task, string workerName, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await transitions.RequeueAsync(db, task, TaskTransitions.HeldBy(db, task.Id, workerName), Requeue.Released, cancellationToken);
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
            var why = orphaned ? Requeue.Orphaned : Requeue.LeaseExpired;
            if (task.CancelRequested || task.Attempts >= maxAttempts)
            {
                var (status, code, message) = task.CancelRequested
                    ? (GenerationTaskStatus.Canceled, TaskErrors.Canceled, TaskTransitions.Messages.CanceledWhileRunning)
                    : (GenerationTaskStatus.Failed, TaskErrors.LeaseExpired, TaskTransitions.Messages.WorkerStoppedResponding);
                await transitions.EndAsync(db, task, stillExpired, status, code, message, cancellationToken, runOutcome: why.Outcome);
                continue;
            }
            if (!await transitions.RequeueAsync(db, task, stillExpired, why, cancellationToken)) continue;
            if (orphaned)
                logger.LogWarning("Task {TaskId}: left running by a previous run of {Worker}, which restarted; re-queued", task.Id, task.WorkerName);
            else
                logger.LogWarning("Task {TaskId}: the lease of {Worker} expired at {LeaseExpiresAt:u}; re-queued", task.Id, task.WorkerName, task.LeaseExpiresAt);
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
        await transitions.EndAsync(db, task, TaskTransitions.StillQueued(db, task.Id), GenerationTaskStatus.Failed, code, message, cancellationToken);
    }
}
