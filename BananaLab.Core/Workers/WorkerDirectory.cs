using BananaLab.Core.Data;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Core.Workers;

/// <summary>
/// The workers of the installation and the models each serves, as they register in the shared database (the
/// <c>Workers</c> table): every worker, in a web host or a process of its own, renews its row while it runs. Reads are
/// kept for <see cref="CacheFor"/>, so submissions on a web node do not query it each time.
/// </summary>
public sealed class WorkerDirectory(IDbContextFactory<BananaLabDbContext> dbFactory, TimeProvider clock)
{
    /// <summary>How long a read of the table serves before the next one.</summary>
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(2);

    /// <summary>How long after it expired a worker's row is deleted (a worker renamed or retired for good).</summary>
    public static readonly TimeSpan ForgetAfter = TimeSpan.FromDays(1);

    private volatile Snapshot? _cached;

    /// <summary>
    /// Creates or renews this worker's row: it serves <paramref name="modelIds"/> for <paramref name="lifetime"/> from now,
    /// with <paramref name="health"/> as it is now.
    /// </summary>
    public async Task RegisterAsync(string workerName, string nodeName, IEnumerable<string> modelIds, DateTime startedAt, TimeSpan lifetime,
        CancellationToken cancellationToken, IEnumerable<ModelHealth>? health = null)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var models = WorkerRegistration.ToJson(modelIds);
        var healthJson = ModelHealth.ToJson(health ?? []);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var renewed = await db.Workers.Where(w => w.Name == workerName).ExecuteUpdateAsync(s => s
            .SetProperty(w => w.NodeName, nodeName)
            .SetProperty(w => w.Models, models)
            .SetProperty(w => w.Health, healthJson)
            .SetProperty(w => w.StartedAt, startedAt)
            .SetProperty(w => w.SeenAt, now)
            .SetProperty(w => w.ExpiresAt, now + lifetime), cancellationToken);
        if (renewed == 0)
        {
            db.Workers.Add(new WorkerRegistration
            {
                Name = workerName, NodeName = nodeName, Models = models, Health = healthJson, StartedAt = startedAt, SeenAt = now, ExpiresAt = now + lifetime,
            });
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException)
            {
                // A process of the same name inserted it at the same instant; the next renewal updates it.
            }
        }
        var forgotten = now - ForgetAfter;
        await db.Workers.Where(w => w.ExpiresAt < forgotten).ExecuteDeleteAsync(cancellationToken);
        _cached = null;
    }

    /// <summary>The registrations that have not expired, and whether any worker ever registered (or did within a day).</summary>
    public async Task<WorkerRoster> ReadAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (_cached is { } cached && now - cached.ReadAt < CacheFor) return cached.Roster;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = await db.Workers.AsNoTracking().ToListAsync(cancellationToken);
        var roster = new WorkerRoster(rows.Where(w => w.ExpiresAt > now).OrderBy(w => w.Name, StringComparer.Ordinal).ToList(), rows.Count > 0);
        _cached = new Snapshot(now, roster);
        return roster;
    }

    private sealed record Snapshot(DateTime ReadAt, WorkerRoster Roster);
}

/// <summary>Live worker registrations, and whether the table had any row at all.</summary>
public sealed record WorkerRoster(IReadOnlyList<WorkerRegistration> Live, bool AnyRegistered)
{
    /// <summary>How <paramref name="modelId"/> fares on each live worker that reported it.</summary>
    public IReadOnlyList<(string Worker, ModelHealth Health)> HealthOf(string modelId) =>
        Health.Where(h => string.Equals(h.Health.ModelId, modelId, StringComparison.OrdinalIgnoreCase)).ToList();

    /// <summary>Every live worker's reports, read from their JSON once per roster (a submission asks for them per model).</summary>
    private IReadOnlyList<(string Worker, ModelHealth Health)> Health =>
        field ??= Live.SelectMany(w => w.ReadHealth().Select(h => (w.Name, h))).ToList();

    /// <summary>The live workers that serve <paramref name="modelId"/>.</summary>
    public IReadOnlyList<string> Serving(string modelId) =>
        Live.Where(w => w.ModelIds.Contains(modelId, StringComparer.OrdinalIgnoreCase)).Select(w => w.Name).ToList();
}
