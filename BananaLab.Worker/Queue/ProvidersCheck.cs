using BananaLab.Core.Workers;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace BananaLab.Worker.Queue;

/// <summary>
/// The <c>providers</c> check of <c>/readyz</c> in a process that runs a worker: Degraded (still ready: the other models
/// run) naming each model whose circuit is open or switched off, with its last error; otherwise each model's tasks in
/// flight and last success.
/// </summary>
public sealed class ProvidersCheck(ModelCircuits circuits) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var models = circuits.Current();
        static string Describe(ModelHealth m) => m.Circuit switch
        {
            CircuitState.Off => $"{m.ModelId}: switched off ({m.LastErrorCode}: {m.LastError})",
            CircuitState.Open => $"{m.ModelId}: circuit open until {m.OpenUntil:HH:mm:ss} UTC ({m.LastErrorCode}: {m.LastError})",
            _ => $"{m.ModelId}: {m.InFlight} in flight, last success {(m.LastSuccessAt is { } at ? $"{at:HH:mm:ss} UTC" : "none yet")}",
        };
        var troubled = models.Where(m => m.Circuit != CircuitState.Closed).ToList();
        if (troubled.Count > 0) return Task.FromResult(HealthCheckResult.Degraded(string.Join("; ", troubled.Select(Describe))));
        return Task.FromResult(HealthCheckResult.Healthy(models.Count == 0 ? "No task has run yet." : string.Join("; ", models.Select(Describe))));
    }
}
