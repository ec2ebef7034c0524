using BananaLab.Core.Cluster;
using BananaLab.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace BananaLab.Core.Health;

/// <summary>
/// What <c>/readyz</c> checks in every process, web node or worker: migrations ran and the worker (if this
/// process runs one) is up (<see cref="Readiness"/>), the database answers a query and, in a cluster, Redis
/// answers a ping. Each check names what it found, so an operator sees which dependency is missing. The
/// HTTP side (<c>/livez</c>, <c>/readyz</c>) is <c>BananaLab.Worker/Probes/ProbeEndpoints.cs</c>.
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
