using BananaLab.Core.Data;
using BananaLab.Core.Tasks;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Core.Webhooks;

/// <summary>
/// Writes webhook deliveries in the same transaction that gives a task its final state, so a crash can
/// never lose or invent an event; <see cref="WebhookSignal"/> then wakes the dispatcher.
/// </summary>
public sealed class WebhookOutbox(WebhookSignal signal)
{
    public async Task EnqueueAsync(BananaLabDbContext db, GenerationTask task, GenerationTaskStatus status, DateTime now,
        CancellationToken cancellationToken)
    {
        var eventType = "task." + status.ToString().ToLowerInvariant();
        var accountUrl = await db.Users.Where(u => u.Id == task.UserId).Select(u => u.WebhookUrl).SingleOrDefaultAsync(cancellationToken);
        var added = false;
        if (task.WebhookUrl is { } taskUrl && task.WebhookFormat == WebhookFormat.Event) added |= Add(db, task, taskUrl, eventType, now);
        if (accountUrl is not null && accountUrl != task.WebhookUrl) added |= Add(db, task, accountUrl, eventType, now);

        // fastDeploy calls its webhook once, with the whole batch's result, when the last item ends.
        if (task is { WebhookFormat: WebhookFormat.FastDeploy, WebhookUrl: { } batchUrl, BatchId: { } batchId }
            && !await db.Tasks.AnyAsync(t => t.BatchId == batchId && t.Id != task.Id
                && (t.Status == GenerationTaskStatus.Queued || t.Status == GenerationTaskStatus.Running), cancellationToken))
        {
            db.Add(new WebhookDelivery
            {
                UserId = task.UserId, BatchId = batchId, Url = batchUrl, EventType = "fastdeploy.result", CreatedAt = now, NextAttemptAt = now,
            });
            added = true;
        }
        if (added)
        {
            await db.SaveChangesAsync(cancellationToken);
            signal.Notify();
        }
    }

    private static bool Add(BananaLabDbContext db, GenerationTask task, string url, string eventType, DateTime now)
    {
        db.Add(new WebhookDelivery
        {
            UserId = task.UserId, TaskId = task.Id, Url = url, EventType = eventType, CreatedAt = now, NextAttemptAt = now,
        });
        return true;
    }
}

/// <summary>Wakes the dispatcher when a delivery is queued (same shape as the task queue's signal).</summary>
public sealed class WebhookSignal
{
    private readonly TaskQueueSignal _inner = new();
    public void Notify() => _inner.Notify();
    public Task WaitAsync(TimeSpan pollInterval, CancellationToken cancellationToken) => _inner.WaitAsync(pollInterval, cancellationToken);
}
