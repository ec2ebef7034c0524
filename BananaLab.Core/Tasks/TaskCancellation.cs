using BananaLab.Core.Data;
using BananaLab.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace BananaLab.Core.Tasks;

/// <summary>What an owner (or an admin) ends: canceling a queued or running task, and deleting a finished one.</summary>
public sealed class TaskCancellation(
    IDbContextFactory<BananaLabDbContext> dbFactory,
    TaskTransitions transitions,
    TaskReader reader,
    FinishedTaskCache finished,
    ActiveTaskSnapshots activeTasks,
    RunningTasks runningTasks,
    ImageStore imageStore,
    TimeProvider clock,
    ILogger<TaskCancellation> logger)
{
    /// <summary>
    /// Cancels a task: a queued one ends at once with its credits returned (<see cref="TaskTransitions.EndAsync"/>); a
    /// running one is marked, its worker is told, and the worker's settlement then ends it canceled. Errors:
    /// <c>task_not_found</c> (none, or not the owner's), <c>not_cancelable</c> (already finished).
    /// </summary>
    public async Task<Outcome<TaskView>> CancelAsync(Guid taskId, Guid? ownerId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var task = await db.Tasks.AsNoTracking().SingleOrDefaultAsync(t => t.Id == taskId, cancellationToken);
        if (task is null || (ownerId is not null && task.UserId != ownerId)) return TaskErrors.TaskNotFound();

        if (task.Status == GenerationTaskStatus.Queued)
        {
            if (await transitions.EndAsync(db, task, TaskTransitions.StillQueued(db, taskId), GenerationTaskStatus.Canceled,
                    TaskErrors.Canceled, TaskTransitions.Messages.CanceledBeforeStart, cancellationToken))
                return (await reader.GetAsync(taskId, ownerId, cancellationToken))!;
            // The worker claimed it in between: cancel it as a running task.
            task = await db.Tasks.AsNoTracking().SingleAsync(t => t.Id == taskId, cancellationToken);
        }

        if (task.Status == GenerationTaskStatus.Running)
        {
            // The worker's settlement succeeds only where CancelRequested is still false (TaskQueue.CompleteAsync), so once
            // this row is marked the task can only end canceled, with its credits released; marked nothing = it already ended.
            var marked = await db.Tasks.Where(t => t.Id == taskId && t.Status == GenerationTaskStatus.Running)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.CancelRequested, true), CancellationToken.None);
            if (marked == 1)
            {
                activeTasks.Forget(taskId);
                runningTasks.Cancel(taskId);
                return (await reader.GetAsync(taskId, ownerId, CancellationToken.None))!;
            }
            task = await db.Tasks.AsNoTracking().SingleAsync(t => t.Id == taskId, CancellationToken.None);
            // Re-queued for a retry in between: cancel it as a queued task.
            if (task.Status == GenerationTaskStatus.Queued) return await CancelAsync(taskId, ownerId, cancellationToken);
        }
        return TaskErrors.NotCancelable(task.Status);
    }

    /// <summary>
    /// The owner deletes a finished task: its image and reference files are removed and it disappears from the
    /// owner's lists, every dialect and the studio. The task row and its ledger entries stay, as the record of
    /// what was charged, and admins see that the owner deleted it. Errors: <c>task_not_found</c> (someone
    /// else's, or already deleted), <c>not_deletable</c> (queued or running: cancel it first).
    /// </summary>
    public async Task<Outcome<TaskSnapshot>> DeleteAsync(Guid taskId, Guid ownerId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var task = await db.Tasks.AsNoTracking().Include(t => t.Images)
            .SingleOrDefaultAsync(t => t.Id == taskId && t.UserId == ownerId && t.DeletedAt == null, cancellationToken);
        if (task is null) return TaskErrors.TaskNotFound();
        if (!task.IsTerminal) return TaskErrors.NotDeletable(task.Status);

        var now = clock.GetUtcNow().UtcDateTime;
        // The row is marked first: a file removed under a reader is a 404 for a task it can no longer see.
        var marked = await db.Tasks.Where(t => t.Id == taskId && t.DeletedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.DeletedAt, now), cancellationToken);
        if (marked == 0) return TaskErrors.TaskNotFound();
        await finished.ForgetEverywhereAsync(taskId);

        imageStore.DeleteTaskFiles(task);
        logger.LogInformation("Task {TaskId} deleted by its owner {UserId}", taskId, ownerId);
        return TaskSnapshot.Of(task) with { DeletedAt = now };
    }
}
