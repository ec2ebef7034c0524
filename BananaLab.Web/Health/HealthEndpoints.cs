using BananaLab.Core.Data;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace BananaLab.Web.Health;

/// <summary><c>/livez</c>: the process answers. <c>/readyz</c>: migrations ran and the worker is up.</summary>
public static class HealthEndpoints
{
    public static IHostApplicationBuilder AddBananaLabHealth(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHealthChecks().AddCheck<ReadinessCheck>("ready", tags: ["ready"]);
        return builder;
    }

    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapHealthChecks("/livez", new HealthCheckOptions { Predicate = _ => false });
        routes.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });
        return routes;
    }

    private sealed class ReadinessCheck(Readiness readiness) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(readiness.IsReady
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy(readiness.DatabaseReady ? "The worker is starting." : "The database is being prepared."));
    }
}
