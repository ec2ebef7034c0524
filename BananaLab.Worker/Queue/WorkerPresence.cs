using BananaLab.Core.Cluster;
using BananaLab.Core.Data;
using BananaLab.Core.Health;
using BananaLab.Core.Workers;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BananaLab.Worker.Queue;

/// <summary>
/// Every <c>Worker:RecoveryIntervalSeconds</c>: renews this worker's registration (the models it serves and how each fares, see
/// <see cref="WorkerDirectory"/>), so that web nodes refuse models no worker runs, then settles the queued tasks of models
/// that have gone unserved for <c>Worker:UnservedGraceSeconds</c> (<see cref="UnservedTasks"/>). One failed round is
/// logged and the next one tries again.
/// </summary>
public sealed class WorkerPresence(
    WorkerDirectory directory,
    LocalWorkerModels served,
    ModelCircuits circuits,
    UnservedTasks unserved,
    Readiness readiness,
    TimeProvider clock,
    IOptions<WorkerOptions> options,
    IOptions<ClusterOptions> cluster,
    ILogger<WorkerPresence> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var worker = options.Value;
        try
        {
            while (!readiness.DatabaseReady) await Task.Delay(20, stoppingToken);
            var startedAt = clock.GetUtcNow().UtcDateTime;
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(worker.RecoveryIntervalSeconds), clock);
            do
            {
                try
                {
                    await directory.RegisterAsync(worker.Name, cluster.Value.NodeName, served.Models, startedAt, worker.RegistrationLifetime,
                        stoppingToken, circuits.Current());
                    await unserved.SweepAsync(TimeSpan.FromSeconds(worker.UnservedGraceSeconds), stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogError(e, "Worker registration or the unserved-model check failed; will retry");
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
