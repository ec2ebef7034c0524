using BananaLab.Core.Catalog;
using BananaLab.Core.Data;
using BananaLab.Core.Tasks;
using BananaLab.Core.Workers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace BananaLab.Worker.Queue;

/// <summary>
/// Settles queued tasks that no worker will ever claim: those of a model no running worker serves (its provider has no
/// generator anywhere, no worker lists it, or it left the catalog). Lease recovery only sees running tasks, so these used to
/// wait forever with their credits reserved. A model must stay unserved for the whole grace period, as this worker saw it
/// from one check to the next, before its tasks fail (<c>generator_unavailable</c>, credits released through
/// <see cref="TaskQueue.FailQueuedAsync"/>): a worker restarting, or one still loading, is not a reason to fail anything.
/// </summary>
public sealed class UnservedTasks(
    IDbContextFactory<BananaLabDbContext> dbFactory,
    ModelCatalog catalog,
    ModelAvailability availability,
    TaskQueue queue,
    TimeProvider clock,
    ILogger<UnservedTasks> logger)
{
    /// <summary>Since when each model with queued tasks has been seen without a worker, by this process.</summary>
    private readonly Dictionary<string, DateTime> _unservedSince = new(StringComparer.Ordinal);

    /// <summary>One check; returns how many queued tasks were handed to settlement.</summary>
    public async Task<int> SweepAsync(TimeSpan grace, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        List<string> waiting;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
            waiting = await db.Tasks.Where(t => t.Status == GenerationTaskStatus.Queued).Select(t => t.ModelId).Distinct().ToListAsync(cancellationToken);
        foreach (var gone in _unservedSince.Keys.Except(waiting).ToList()) _unservedSince.Remove(gone);

        var settled = 0;
        foreach (var modelId in waiting)
        {
            var model = catalog.Find(modelId);
            var serving = model is null ? null : await availability.OfAsync(model, cancellationToken);
            if (serving is { Available: true })
            {
                _unservedSince.Remove(modelId);
                continue;
            }
            var since = _unservedSince.TryGetValue(modelId, out var first) ? first : _unservedSince[modelId] = now;
            if (now - since < grace) continue;

            var reason = serving?.Reason ?? "it is no longer in the catalog.";
            var message = $"No worker could run the model '{modelId}' for {Minutes(now - since)}: {reason} The credits were returned.";
            List<GenerationTask> tasks;
            await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
                tasks = await db.Tasks.AsNoTracking().Where(t => t.ModelId == modelId && t.Status == GenerationTaskStatus.Queued)
                    .ToListAsync(cancellationToken);
            foreach (var task in tasks) await queue.FailQueuedAsync(task, TaskErrors.GeneratorUnavailable, message, cancellationToken);
            settled += tasks.Count;
            logger.LogWarning("Failed {Count} queued task(s) of {Model}: no worker served it for {Grace}: {Reason}", tasks.Count, modelId, grace, reason);
        }
        return settled;
    }

    private static string Minutes(TimeSpan span) =>
        span.TotalMinutes >= 2 ? $"{(int)span.TotalMinutes} minutes" : $"{(int)Math.Max(1, span.TotalSeconds)} seconds";
}
