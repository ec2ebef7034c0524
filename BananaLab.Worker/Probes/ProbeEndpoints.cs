using System.Text.Json;
using BananaLab.Core.Health;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace BananaLab.Worker.Probes;

/// <summary>
/// Kubernetes-style probes over HTTP, the same on a web node (beside its pages) and on a worker process (on
/// <c>Worker:MetricsPort</c>, see <see cref="WorkerProbeServer"/>). <c>/livez</c>: the process answers.
/// <c>/readyz</c>: 200 when every check of <see cref="HealthChecks"/> passes, else 503, with a JSON body
/// <c>{"status":"Healthy","checks":{"database":{"status":"Healthy","description":"Postgres answers."},…}}</c>.
/// </summary>
public static class ProbeEndpoints
{
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapHealthChecks("/livez", new HealthCheckOptions { Predicate = _ => false });
        routes.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(HealthChecks.ReadyTag),
            ResponseWriter = WriteReportAsync,
        });
        return routes;
    }

    private static Task WriteReportAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return JsonSerializer.SerializeAsync(context.Response.Body, new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        }, cancellationToken: context.RequestAborted);
    }
}
