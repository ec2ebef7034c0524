using BananaLab.Core.Generation;

namespace BananaLab.Core.Tasks;

/// <summary>
/// A task's expected seconds until its images are stored, from the models' measured run times
/// (<see cref="GenerationTimings"/>):
/// <list type="bullet">
/// <item>Running: the run's estimate less what its latest report says is done (<see cref="RunEstimate.SecondsLeftAt(GenerationProgress)"/>).</item>
/// <item>Queued: the work ahead of it (what the running tasks have left, plus the whole estimate of every task
/// queued before it), shared out over as many workers as there are running tasks (with a queue waiting, every
/// free worker slot is taken, so the running count is the rate the queue drains at; at least one), plus its own run.</item>
/// <item>Finished: none.</item>
/// </list>
/// Null whenever a model involved has not finished a run yet: an ETA is only given from measurements.
/// </summary>
public static class TaskEta
{
    /// <param name="own">The queued task's own estimate; null when its model is unmeasured.</param>
    /// <param name="ahead">The estimates of the tasks queued before it (null entries: unmeasured models).</param>
    /// <param name="runningSecondsLeft">Seconds left of each running task (null entries: unknown).</param>
    public static int? ForQueued(RunEstimate? own, IEnumerable<RunEstimate?> ahead, IReadOnlyCollection<double?> runningSecondsLeft)
    {
        if (own is not { Measured: true }) return null;
        var work = 0.0;
        foreach (var left in runningSecondsLeft)
        {
            if (left is null) return null;
            work += left.Value;
        }
        foreach (var estimate in ahead)
        {
            if (estimate is not { Measured: true }) return null;
            work += estimate.TotalSeconds;
        }
        var workers = Math.Max(1, runningSecondsLeft.Count);
        return (int)Math.Ceiling(work / workers + own.TotalSeconds);
    }
}
