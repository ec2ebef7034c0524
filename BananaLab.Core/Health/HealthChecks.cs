using BananaLab.Core.Catalog;
using BananaLab.Core.Cluster;
using BananaLab.Core.Data;
using BananaLab.Core.Workers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace BananaLab.Core.Health;

/// <summary>
/// What <c>/readyz</c> checks in every process, web node or worker: migrations ran and the worker (if this
/// process runs one) is up (<see cref="Readiness"/>), the database answers a query and, in a cluster, Redis
/// answers a ping; on a node that takes submissions, every catalog model can run (<c>models</c>, Degraded but
/// still ready when one cannot). Each check names what it found, so an operator sees which dependency is
/// missing. The HTTP side (<c>/livez</c>, <c>/readyz</c>) is <c>BananaLab.Worker/Probes/ProbeEndpoints.cs</c>.
/// </summary>
public static class HealthChecks
{
    /// <summary>The tag of the checks <c>/readyz</c> runs.</summary>
    public const string ReadyTag = "ready";

    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);

    public static IHostApplicationBuilder AddBananaLabHealth(this IHostApplicationBuilder builder)
    {
        var checks = builder.Services.AddHealthChecks()
            .AddCheck<StartupCheck>("startup", tags: [ReadyTag])
            .AddCheck<DatabaseCheck>("database", tags: [ReadyTag]);
        if (ClusterOptions.UsesRedis(builder.Configuration)) checks.AddCheck<RedisCheck>("redis", tags: [ReadyTag]);
        return builder;
    }

    /// <summary>
    /// The <c>models</c> check of a node that takes submissions: Degraded (still 200) naming each catalog model no worker can
    /// run, and why (see <see cref="ModelAvailability"/>). A worker process's probe leaves it out: its readiness is its own.
    /// </summary>
    public static IHostApplicationBuilder AddBananaLabModelsCheck(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHealthChecks().AddCheck<ModelsCheck>("models", tags: [ReadyTag]);
        return builder;
    }

    private sealed class StartupCheck(Readiness readiness) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(readiness.IsReady
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy(readiness.DatabaseReady ? "The worker is starting." : "The database is being prepared."));
    }

    private sealed class DatabaseCheck(IDbContextFactory<BananaLabDbContext> dbFactory, DatabaseOptions database) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(ProbeTimeout);
            try
            {
                await using var db = await dbFactory.CreateDbContextAsync(timeout.Token);
                return await db.Database.CanConnectAsync(timeout.Token)
                    ? HealthCheckResult.Healthy($"{database.Provider} answers.")
                    : HealthCheckResult.Unhealthy($"{database.Provider} cannot be reached.");
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return HealthCheckResult.Unhealthy($"{database.Provider} cannot be reached: {e.GetType().Name}.");
            }
        }
    }

    private sealed class ModelsCheck(ModelCatalog catalog, ModelAvailability availability) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            IReadOnlyList<ModelServing> models;
            try
            {
                models = await availability.OfAsync(catalog.All, cancellationToken).WaitAsync(ProbeTimeout, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // The database check says why; this one only cannot tell which models can run.
                return HealthCheckResult.Degraded($"The worker registrations could not be read: {e.GetType().Name}.");
            }
            static string Describe(IEnumerable<ModelServing> some) => string.Join(" ", some.Select(m => $"{m.ModelId}: {m.Reason}"));
            // A model switched off by the settings (a shipped remote model without its key) is not a fault: it is listed, not counted.
            var notConfigured = models.Where(m => m.NotConfigured).ToList();
            var unavailable = models.Where(m => !m.Available && !m.NotConfigured).ToList();
            var available = models.Where(m => m.Available).ToList();
            var off = notConfigured.Count == 0 ? "" : $" Not configured: {Describe(notConfigured)}";
            if (unavailable.Count == 0) return HealthCheckResult.Healthy(Describe(available) + off);
            return HealthCheckResult.Degraded($"Refused at submission: {Describe(unavailable)}" +
                                              (available.Count == 0 ? "" : $" Running: {Describe(available)}") + off);
        }
    }

    private sealed class RedisCheck(IConnectionMultiplexer redis) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            if (!redis.IsConnected) return HealthCheckResult.Unhealthy("Redis is not connected.");
            try
            {
                var latency = await redis.GetDatabase().PingAsync().WaitAsync(ProbeTimeout, cancellationToken);
                return HealthCheckResult.Healthy($"Redis answers in {latency.TotalMilliseconds:0.0} ms.");
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                return HealthCheckResult.Unhealthy($"Redis does not answer: {e.GetType().Name}.");
            }
        }
    }
}
