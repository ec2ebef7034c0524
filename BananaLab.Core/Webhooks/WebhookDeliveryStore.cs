using BananaLab.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace BananaLab.Core.Webhooks;

/// <summary>The dispatcher's view of the outbox: claim due deliveries, record each attempt, read the log.</summary>
public sealed class WebhookDeliveryStore(IDbContextFactory<BananaLabDbContext> dbFactory, IOptions<WebhookOptions> options, TimeProvider clock)
{
    /// <summary>The origin of the request that created the task (<see cref="Tasks.GenerationTask.Origin"/>), or null.</summary>
    public async Task<string?> TaskOriginAsync(Guid taskId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Tasks.Where(t => t.Id == taskId).Select(t => t.Origin).SingleOrDefaultAsync(cancellationToken);
    }

    /// <summary>
    /// Due deliveries, each pushed out of reach of other dispatchers for the length of one attempt. Deliveries older
    /// than <c>Webhooks:MaxAgeHours</c> are ended as failed first, so none is attempted past its age whatever happened
    /// to its earlier attempts.
    /// </summary>
    public async Task<IReadOnlyList<WebhookDelivery>> ClaimDueAsync(int max, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var hold = now.AddSeconds(options.Value.TimeoutSeconds * 3);
        var bornAfter = now.AddHours(-options.Value.MaxAgeHours);
        var gaveUp = $"Gave up: not delivered within {options.Value.MaxAgeHours} hours.";
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.Set<WebhookDelivery>()
            .Where(d => d.Status == WebhookDeliveryStatus.Pending && d.NextAttemptAt <= now && d.CreatedAt <= bornAfter)
            .ExecuteUpdateAsync(s => s
                .SetProperty(d => d.Status, WebhookDeliveryStatus.Failed)
                .SetProperty(d => d.LastError, d => d.LastError ?? gaveUp), cancellationToken);
        var due = await db.Set<WebhookDelivery>().AsNoTracking()
            .Where(d => d.Status == WebhookDeliveryStatus.Pending && d.NextAttemptAt <= now && d.CreatedAt > bornAfter)
            .OrderBy(d => d.NextAttemptAt).Take(max).ToListAsync(cancellationToken);
        var claimed = new List<WebhookDelivery>(due.Count);
        foreach (var delivery in due)
        {
            var won = await db.Set<WebhookDelivery>()
                .Where(d => d.Id == delivery.Id && d.Status == WebhookDeliveryStatus.Pending && d.NextAttemptAt == delivery.NextAttemptAt)
                .ExecuteUpdateAsync(s => s.SetProperty(d => d.NextAttemptAt, hold), cancellationToken) == 1;
            if (won) claimed.Add(delivery);
        }
        return claimed;
    }

    /// <summary>Records one attempt: delivered on a 2xx, else retried with exponential backoff until too old.</summary>
    public async Task RecordAttemptAsync(WebhookDelivery delivery, int? statusCode, string? error, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var attempts = delivery.Attempts + 1;
        var delivered = statusCode is >= 200 and < 300;
        var delay = TimeSpan.FromSeconds(Math.Min(3600, options.Value.BaseDelaySeconds * Math.Pow(2, attempts - 1)));
        var expired = now + delay > delivery.CreatedAt.AddHours(options.Value.MaxAgeHours);
        var status = delivered ? WebhookDeliveryStatus.Delivered : expired ? WebhookDeliveryStatus.Failed : WebhookDeliveryStatus.Pending;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.Set<WebhookDelivery>().Where(d => d.Id == delivery.Id).ExecuteUpdateAsync(s => s
            .SetProperty(d => d.Attempts, attempts)
            .SetProperty(d => d.Status, status)
            .SetProperty(d => d.LastStatusCode, statusCode)
            .SetProperty(d => d.LastError, error == null ? null : error.Length > 500 ? error.Substring(0, 500) : error)
            .SetProperty(d => d.DeliveredAt, delivered ? now : null)
            .SetProperty(d => d.NextAttemptAt, now + delay), cancellationToken);
    }

    public async Task<IReadOnlyList<WebhookDelivery>> ForTaskAsync(Guid taskId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Set<WebhookDelivery>().AsNoTracking()
            .Where(d => d.TaskId == taskId || (d.BatchId != null && db.Tasks.Any(t => t.Id == taskId && t.BatchId == d.BatchId)))
            .OrderBy(d => d.Id).ToListAsync(cancellationToken);
    }
}
