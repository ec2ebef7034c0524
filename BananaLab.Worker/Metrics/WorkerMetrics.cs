using BananaLab.Core.Tasks;
using BananaLab.Worker.Queue;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Prometheus;

namespace BananaLab.Worker.Metrics;

/// <summary>
/// What this process's worker did, labelled by model and worker: generation time of succeeded tasks,
/// finished runs by outcome, and the tasks running now. Only this worker's own events count (in a
/// cluster every node sees every task's events), so each task is in exactly one process's series.
/// </summary>
public sealed class WorkerMetrics(NodeMetrics metrics, TaskNotifier notifier, RunningTasks running, IOptions<WorkerOptions> options)
    : IHostedService
{
    private readonly Histogram _generationSeconds = metrics.Factory.CreateHistogram("bananalab_generation_seconds",
        "Model compute time of succeeded tasks run by this worker.",
        new HistogramConfiguration { LabelNames = ["model", "worker"], Buckets = Histogram.ExponentialBuckets(0.05, 2, 14) });
    private readonly Counter _finished = metrics.Factory.CreateCounter("bananalab_worker_tasks_finished_total",
        "Runs this worker ended, by outcome (succeeded, failed, canceled; a retried failure counts once per attempt only when final).",
        ["model", "worker", "outcome"]);
    private readonly Gauge _running = metrics.Factory.CreateGauge("bananalab_worker_running_tasks", "Tasks this worker runs now.", ["worker"]);
    private IDisposable? _subscription;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var worker = options.Value.Name;
        metrics.Registry.AddBeforeCollectCallback(() => _running.WithLabels(worker).Set(running.Count));
        _subscription = notifier.SubscribeAll(e =>
        {
            if (e.WorkerName != worker || e.ModelId is not { } model) return;
            if (e is { Kind: TaskEventKind.Succeeded, ComputeMs: { } ms }) _generationSeconds.WithLabels(model, worker).Observe(ms / 1000.0);
            if (e.Kind is TaskEventKind.Succeeded or TaskEventKind.Failed or TaskEventKind.Canceled)
                _finished.WithLabels(model, worker, e.Kind.ToString().ToLowerInvariant()).Inc();
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _subscription?.Dispose();
        return Task.CompletedTask;
    }
}
