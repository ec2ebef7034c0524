using BananaLab.Core.Data;
using BananaLab.Core.Tasks;
using Microsoft.EntityFrameworkCore;
using BananaLab.Worker.Metrics;
using Prometheus;

namespace BananaLab.Web.Metrics;

public sealed class MetricsOptions
{
    public const string Section = "Metrics";

    /// <summary>Require an API key for <c>/metrics</c> (off by default, as Prometheus scrapers usually send none).</summary>
    public bool RequireApiKey { get; set; }
}

/// <summary>
/// The web node's collectors, in the node's registry (<see cref="NodeMetrics"/>: every series is
/// labelled <c>node</c>). The worker's own series (generation time, finished runs) join the same
/// registry when this node runs a worker.
/// </summary>
public sealed class BananaLabMetrics
{
    public BananaLabMetrics(NodeMetrics node)
    {
        Registry = node.Registry;
        Factory = node.Factory;
        QueueDepth = Factory.CreateGauge("bananalab_queue_depth", "Queued tasks per model (whole database).", ["model"]);
        TasksByStatus = Factory.CreateGauge("bananalab_tasks", "Tasks in the database by status.", ["status"]);
        RunningByWorker = Factory.CreateGauge("bananalab_running_tasks", "Tasks running now, by the worker that holds them (whole database).", ["worker"]);
        CreditsCharged = Factory.CreateCounter("bananalab_credits_charged_total", "Credits captured for succeeded tasks (whole database).");
    }

    public CollectorRegistry Registry { get; }
    public IMetricFactory Factory { get; }
    public Gauge QueueDepth { get; }
    public Gauge TasksByStatus { get; }
    public Gauge RunningByWorker { get; }
    public Counter CreditsCharged { get; }
}

/// <summary>
/// <c>/metrics</c> in Prometheus text: requests and latency per route (prometheus-net's HTTP metrics),
/// queue depth per model, tasks by status, generation time and credits charged.
/// </summary>
public static class MetricsEndpoints
{
    public static IHostApplicationBuilder AddBananaLabMetrics(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<MetricsOptions>().Bind(builder.Configuration.GetSection(MetricsOptions.Section));
        builder.Services.AddSingleton<BananaLabMetrics>();
        return builder;
    }

    /// <summary>Counts and times every request by route; goes right after routing.</summary>
    public static WebApplication UseBananaLabHttpMetrics(this WebApplication app)
    {
        var metrics = app.Services.GetRequiredService<BananaLabMetrics>();
        app.UseHttpMetrics(options => options.SetMetricFactory(metrics.Factory));
        return app;
    }

    public static WebApplication MapBananaLabMetrics(this WebApplication app)
    {
        var metrics = app.Services.GetRequiredService<BananaLabMetrics>();
        var dbFactory = app.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>();
        metrics.Registry.AddBeforeCollectCallback(cancellationToken => RefreshFromDatabaseAsync(metrics, dbFactory, cancellationToken));
        var endpoint = app.MapMetrics("/metrics", metrics.Registry);
        if (app.Configuration.GetValue<bool>($"{MetricsOptions.Section}:{nameof(MetricsOptions.RequireApiKey)}")) endpoint.RequireAuthorization();
        return app;
    }

    private static async Task RefreshFromDatabaseAsync(BananaLabMetrics metrics, IDbContextFactory<BananaLabDbContext> dbFactory,
        CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var byStatus = await db.Tasks.GroupBy(t => t.Status).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        foreach (var status in Enum.GetValues<GenerationTaskStatus>())
            metrics.TasksByStatus.WithLabels(status.ToString().ToLowerInvariant()).Set(byStatus.FirstOrDefault(s => s.Key == status)?.Count ?? 0);

        var running = await db.Tasks.Where(t => t.Status == GenerationTaskStatus.Running && t.WorkerName != null)
            .GroupBy(t => t.WorkerName!).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        SetAll(metrics.RunningByWorker, running.ToDictionary(r => r.Key, r => r.Count));

        var queued = await db.Tasks.Where(t => t.Status == GenerationTaskStatus.Queued)
            .GroupBy(t => t.ModelId).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        SetAll(metrics.QueueDepth, queued.ToDictionary(q => q.Key, q => q.Count));

        // The database total only grows, so it can drive a counter that survives restarts.
        metrics.CreditsCharged.IncTo(await db.Tasks.SumAsync(t => (long)t.CreditsCharged, cancellationToken));
    }

    /// <summary>Sets a one-label gauge to these counts, and to 0 for labels seen before that are gone now.</summary>
    private static void SetAll(Gauge gauge, IReadOnlyDictionary<string, int> counts)
    {
        foreach (var label in gauge.GetAllLabelValues().Select(l => l[0]).Except(counts.Keys).ToList())
            gauge.WithLabels(label).Set(0);
        foreach (var (label, count) in counts) gauge.WithLabels(label).Set(count);
    }
}
