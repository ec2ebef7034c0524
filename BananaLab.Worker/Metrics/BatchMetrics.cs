using Prometheus;

namespace BananaLab.Worker.Metrics;

/// <summary>
/// Adaptive batching as Prometheus sees it: <c>bananalab_batch_size{model}</c>, the images of each local run, one task's
/// or several sharing the UNet calls (rows per call before guidance doubles them), and
/// <c>bananalab_batch_wait_seconds{model}</c>, how long the worker waited for more tasks before the claim.
/// </summary>
public sealed class BatchMetrics(NodeMetrics metrics)
{
    private readonly Histogram _size = metrics.Factory.CreateHistogram("bananalab_batch_size",
        "Images per local denoising run (UNet rows per call, before classifier-free guidance doubles them); several tasks share a run when batched.",
        new HistogramConfiguration { LabelNames = ["model"], Buckets = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64] });
    private readonly Histogram _wait = metrics.Factory.CreateHistogram("bananalab_batch_wait_seconds",
        "Time a worker waited for more tasks to join a batch before claiming (0 when it claimed at once).",
        new HistogramConfiguration { LabelNames = ["model"], Buckets = [0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1] });

    /// <summary>Records one claimed run of <paramref name="model"/>: its images and the wait before its claim.</summary>
    public void Observe(string model, int images, TimeSpan waited)
    {
        _size.WithLabels(model).Observe(images);
        _wait.WithLabels(model).Observe(waited.TotalSeconds);
    }
}
