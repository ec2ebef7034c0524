using BananaLab.Core.Tasks;

namespace BananaLab.Worker.Queue;

/// <summary>
/// How long a worker with a free slot waits before it claims, so that tasks arriving close together share a run: the
/// adaptive part of adaptive batching (BentoML's dispatcher, docs.bentoml.com "Adaptive batching": batch up to a maximum
/// size and a maximum latency, adapting the wait to the traffic). It learns the time between submissions from the
/// claimed tasks' creation times (an exponential moving average), so it sees the whole cluster's traffic, not only this
/// node's. No wait when submissions are further apart than <c>Worker:MaxBatchDelayMs</c> (a lone client must not pay for
/// batching), when traffic has paused, or when the last claim was already full (a backlog fills a batch by itself); while
/// tasks stream in, the time the missing images are expected to take to arrive, at most <c>MaxBatchDelayMs</c>.
/// Not thread-safe: one per claim loop.
/// </summary>
public sealed class AdaptiveBatchWindow(int maxImages, TimeSpan maxDelay, TimeProvider clock)
{
    /// <summary>Weight of the newest gap in the moving average.</summary>
    private const double Smoothing = 0.2;

    private double _secondsBetween = double.NaN;
    private DateTime _lastArrival;
    private int _lastImages;

    /// <summary>The mean time between submissions seen so far; null before two have been seen.</summary>
    public TimeSpan? MeanInterval => double.IsNaN(_secondsBetween) ? null : TimeSpan.FromSeconds(_secondsBetween);

    /// <summary>Learns from a claim's tasks (oldest first); an empty claim is a queue found empty.</summary>
    public void Observe(IReadOnlyList<GenerationTask> claimed)
    {
        _lastImages = claimed.Sum(t => t.ImageCount);
        foreach (var task in claimed)
        {
            if (task.CreatedAt <= _lastArrival) continue;
            if (_lastArrival != default)
            {
                var gap = (task.CreatedAt - _lastArrival).TotalSeconds;
                _secondsBetween = double.IsNaN(_secondsBetween) ? gap : Smoothing * gap + (1 - Smoothing) * _secondsBetween;
            }
            _lastArrival = task.CreatedAt;
        }
    }

    /// <summary>How long to wait before the next claim: zero, or up to the maximum delay while tasks stream in.</summary>
    public TimeSpan NextDelay()
    {
        if (maxImages <= 1 || maxDelay <= TimeSpan.Zero || double.IsNaN(_secondsBetween)) return TimeSpan.Zero;
        var interval = TimeSpan.FromSeconds(_secondsBetween);
        if (interval >= maxDelay || _lastImages >= maxImages) return TimeSpan.Zero;
        // Traffic paused: the next task is not part of the stream the average describes.
        if (clock.GetUtcNow().UtcDateTime - _lastArrival > 10 * interval + maxDelay) return TimeSpan.Zero;
        var missing = Math.Max(1, maxImages - Math.Max(1, _lastImages));
        var expected = interval * missing;
        return expected < maxDelay ? expected : maxDelay;
    }
}
