using System.Collections.Concurrent;

namespace BananaLab.Core.Tasks;

/// <summary>The tasks this process is running right now, so a cancel reaches the generator at once.</summary>
public sealed class RunningTasks
{
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> _running = new();

    public CancellationTokenSource Register(Guid taskId, CancellationToken stopping)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        _running[taskId] = source;
        return source;
    }

    public void Unregister(Guid taskId) => _running.TryRemove(taskId, out _);

    public bool Cancel(Guid taskId)
    {
        if (!_running.TryGetValue(taskId, out var source)) return false;
        try { source.Cancel(); } catch (ObjectDisposedException) { return false; }
        return true;
    }

    public int Count => _running.Count;
}
