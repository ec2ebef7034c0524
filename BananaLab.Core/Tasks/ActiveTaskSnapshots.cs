using System.Collections.Concurrent;

namespace BananaLab.Core.Tasks;

/// <summary>
/// Short-lived copies of queued and running tasks, so that many clients polling one task's status cost
/// one database read per <see cref="Lifetime"/> instead of one each. Any event for the task in this process
/// (started, re-queued, finished, canceled) drops its copy at once, progress is read live from the
/// <see cref="TaskNotifier"/>, and a change made by another process shows within <see cref="Lifetime"/>.
/// </summary>
public sealed class ActiveTaskSnapshots : IDisposable
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMilliseconds(250);
    private const int MaxEntries = 10_000;

    private readonly ConcurrentDictionary<Guid, Snapshot> _snapshots = new();
    private readonly TimeProvider _clock;
    private readonly IDisposable _subscription;
    private long _invalidations;

    private sealed record Snapshot(TaskSnapshot Task, int QueuePosition, int? QueuedEtaSeconds, long TakenAt);

    public ActiveTaskSnapshots(TaskNotifier notifier, TimeProvider clock)
    {
        _clock = clock;
        _subscription = notifier.SubscribeAll(taskEvent =>
        {
            if (taskEvent.Kind != TaskEventKind.Progress) Forget(taskEvent.TaskId);
        });
    }

    /// <summary>The task as read less than <see cref="Lifetime"/> ago (immutable: every reader gets the same one).</summary>
    public bool TryGet(Guid taskId, out TaskSnapshot task, out int queuePosition) => TryGet(taskId, out task, out queuePosition, out _);

    /// <summary>As <see cref="TryGet(Guid, out TaskSnapshot, out int)"/>, with the ETA computed when a queued task was read.</summary>
    public bool TryGet(Guid taskId, out TaskSnapshot task, out int queuePosition, out int? queuedEtaSeconds)
    {
        (task, queuePosition, queuedEtaSeconds) = (null!, 0, null);
        if (!_snapshots.TryGetValue(taskId, out var snapshot)) return false;
        if (_clock.GetElapsedTime(snapshot.TakenAt) >= Lifetime)
        {
            _snapshots.TryRemove(KeyValuePair.Create(taskId, snapshot));
            return false;
        }
        (task, queuePosition, queuedEtaSeconds) = (snapshot.Task, snapshot.QueuePosition, snapshot.QueuedEtaSeconds);
        return true;
    }

    /// <summary>Take this before reading a task from the database, and hand it to <see cref="Remember"/>.</summary>
    public long Stamp() => Interlocked.Read(ref _invalidations);

    /// <summary>
    /// Keeps a copy of a task read from the database, unless any task changed while it was being read
    /// (<paramref name="readStamp"/> is then stale): a copy must never outlive the event that ended it.
    /// </summary>
    public void Remember(TaskSnapshot task, int queuePosition, long readStamp, int? queuedEtaSeconds = null)
    {
        if (task.IsTerminal) return;
        if (_snapshots.Count >= MaxEntries) _snapshots.Clear();
        _snapshots[task.Id] = new Snapshot(task, queuePosition, queuedEtaSeconds, _clock.GetTimestamp());
        // An event that arrived during the read (or this write) may have missed the copy: drop it again.
        if (Interlocked.Read(ref _invalidations) != readStamp) _snapshots.TryRemove(task.Id, out _);
    }

    public void Forget(Guid taskId)
    {
        Interlocked.Increment(ref _invalidations);
        _snapshots.TryRemove(taskId, out _);
    }

    public void Dispose() => _subscription.Dispose();
}
