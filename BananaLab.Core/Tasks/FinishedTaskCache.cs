using System.Collections.Concurrent;
using BananaLab.Core.Cluster;

namespace BananaLab.Core.Tasks;

/// <summary>
/// Finished tasks as last read: a task that succeeded, failed or was canceled never changes again, so clients
/// polling it need no database round trip. The one exception is a delete, which every node hears on
/// <see cref="TaskDeletedTopic"/> and drops its copy. At most <see cref="MaxEntries"/> tasks; when full it starts over.
/// </summary>
public sealed class FinishedTaskCache
{
    /// <summary>Cluster topic: a task was deleted (message: its id), so every node forgets its copy.</summary>
    public const string TaskDeletedTopic = "tasks:deleted";
    private const int MaxEntries = 10_000;

    private readonly ConcurrentDictionary<Guid, TaskSnapshot> _tasks = new();
    private readonly IClusterBroadcast _broadcast;

    public FinishedTaskCache(IClusterBroadcast broadcast)
    {
        _broadcast = broadcast;
        broadcast.Subscribe(TaskDeletedTopic, message =>
        {
            if (Guid.TryParse(message, out var taskId)) _tasks.TryRemove(taskId, out _);
        });
    }

    public bool TryGet(Guid taskId, out TaskSnapshot task) => _tasks.TryGetValue(taskId, out task!);

    /// <summary>Keeps a finished task; one still queued or running is not kept.</summary>
    public void Remember(TaskSnapshot task)
    {
        if (!task.IsTerminal) return;
        if (_tasks.Count >= MaxEntries) _tasks.Clear();
        _tasks[task.Id] = task;
    }

    /// <summary>Drops the task here at once and tells the other nodes to drop theirs.</summary>
    public async Task ForgetEverywhereAsync(Guid taskId)
    {
        _tasks.TryRemove(taskId, out _);
        await _broadcast.PublishAsync(TaskDeletedTopic, taskId.ToString());
    }
}
