using System.Collections.Concurrent;
using BananaLab.Core.Generation;

namespace BananaLab.Core.Tasks;

public enum TaskEventKind
{
    Queued,
    Started,
    Progress,
    Succeeded,
    Failed,
    Canceled,
}

/// <summary>
/// A change of one task. <see cref="ProgressPercent"/> is weighted by the phases' measured cost and is 100 only on
/// <see cref="TaskEventKind.Succeeded"/>. Progress events name their <see cref="ReportedPhase"/> (denoising step
/// <see cref="Step"/> of <see cref="TotalSteps"/>, or finishing image <see cref="Image"/> of <see cref="ImageCount"/>)
/// and the worker's <see cref="EtaSeconds"/> at that moment; a success carries the run's <see cref="Timing"/>.
/// </summary>
public sealed record TaskEvent(
    Guid TaskId,
    Guid UserId,
    TaskEventKind Kind,
    GenerationTaskStatus Status,
    int ProgressPercent,
    int Step = 0,
    int TotalSteps = 0,
    byte[]? PreviewPng = null,
    string? ErrorCode = null,
    string? ErrorMessage = null,
    string? ModelId = null,
    long? ComputeMs = null,
    string? WorkerName = null,
    GenerationPhase? ReportedPhase = null,
    int Image = 0,
    int ImageCount = 0,
    int? EtaSeconds = null,
    RunTiming? Timing = null)
{
    /// <summary>The reported phase, or the one the status implies (a task just claimed is denoising).</summary>
    public GenerationPhase Phase => ReportedPhase ?? TaskPhases.Of(Status);

    /// <summary>
    /// <paramref name="task"/> as this terminal event says it ended (status, percent, error), for a listener to show
    /// at once while it reads the stored result.
    /// </summary>
    public TaskSnapshot EndOf(TaskSnapshot task) => task with
    {
        Status = Status,
        ProgressPercent = Status == GenerationTaskStatus.Succeeded ? 100 : Math.Max(task.ProgressPercent, ProgressPercent),
        ErrorCode = ErrorCode ?? task.ErrorCode,
        ErrorMessage = ErrorCode is null ? task.ErrorMessage : ErrorMessage,
    };
}

/// <summary>
/// Pushes task events from the worker to whoever listens (Blazor circuits, the SignalR hub, long-polling
/// endpoints). Subscriptions are disposable; handlers run on the worker's thread and must marshal
/// (<c>InvokeAsync</c>) and return quickly. In a cluster, <see cref="Cluster.RedisTaskEventRelay"/>
/// sends what this process publishes to the other nodes and delivers theirs here.
/// </summary>
public sealed class TaskNotifier
{
    private readonly ConcurrentDictionary<Guid, ImmutableHandlers> _byTask = new();
    private ImmutableHandlers _all = ImmutableHandlers.Empty;
    private readonly ConcurrentDictionary<Guid, TaskEvent> _latestProgress = new();
    private volatile Action<TaskEvent>? _outbound;

    public IDisposable Subscribe(Guid taskId, Action<TaskEvent> handler)
    {
        _byTask.AddOrUpdate(taskId, _ => ImmutableHandlers.Empty.Add(handler), (_, list) => list.Add(handler));
        return new Subscription(() =>
        {
            while (_byTask.TryGetValue(taskId, out var list))
            {
                var updated = list.Remove(handler);
                if (updated.IsEmpty ? _byTask.TryRemove(new(taskId, list)) : _byTask.TryUpdate(taskId, updated, list)) break;
            }
        });
    }

    public IDisposable SubscribeAll(Action<TaskEvent> handler)
    {
        lock (this) _all = _all.Add(handler);
        return new Subscription(() => { lock (this) _all = _all.Remove(handler); });
    }

    /// <summary>The last progress event of a running task (with its preview), if any.</summary>
    public TaskEvent? LatestProgress(Guid taskId) => _latestProgress.GetValueOrDefault(taskId);

    /// <summary>Sends every event published in this process on to other nodes as well (one forwarder per process).</summary>
    public IDisposable ForwardTo(Action<TaskEvent> outbound)
    {
        if (Interlocked.CompareExchange(ref _outbound, outbound, null) is not null)
            throw new InvalidOperationException("Task events already have a forwarder.");
        return new Subscription(() => _outbound = null);
    }

    /// <summary>An event that happened in this process: delivered here and forwarded to the other nodes.</summary>
    public void Publish(TaskEvent taskEvent)
    {
        Deliver(taskEvent);
        try { _outbound?.Invoke(taskEvent); }
        catch { /* the forwarder logs its own failures; the local listeners already have the event */ }
    }

    /// <summary>An event another node published: delivered to this process's listeners only.</summary>
    public void DeliverRemote(TaskEvent taskEvent) => Deliver(taskEvent);

    private void Deliver(TaskEvent taskEvent)
    {
        if (taskEvent.Kind is TaskEventKind.Progress or TaskEventKind.Started)
            _latestProgress[taskEvent.TaskId] = taskEvent;
        else if (taskEvent.Kind is not TaskEventKind.Queued)
            _latestProgress.TryRemove(taskEvent.TaskId, out _);

        // Process-wide listeners first: they include the caches (ActiveTaskSnapshots, GenerationTimings) that a task's
        // own listeners read the moment they hear it ended; the other way round, a waiter could read the stale snapshot.
        _all.Invoke(taskEvent);
        if (_byTask.TryGetValue(taskEvent.TaskId, out var handlers)) handlers.Invoke(taskEvent);
    }

    private sealed class ImmutableHandlers(Action<TaskEvent>[] handlers)
    {
        public static readonly ImmutableHandlers Empty = new([]);
        public bool IsEmpty => handlers.Length == 0;
        public ImmutableHandlers Add(Action<TaskEvent> handler) => new([.. handlers, handler]);
        public ImmutableHandlers Remove(Action<TaskEvent> handler)
        {
            var index = Array.IndexOf(handlers, handler);
            return index < 0 ? this : new([.. handlers[..index], .. handlers[(index + 1)..]]);
        }

        public void Invoke(TaskEvent taskEvent)
        {
            foreach (var handler in handlers)
            {
                try { handler(taskEvent); }
                catch { /* a broken listener must never stop the worker or other listeners */ }
            }
        }
    }

    private sealed class Subscription(Action dispose) : IDisposable
    {
        private int _disposed;
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) dispose();
        }
    }
}
