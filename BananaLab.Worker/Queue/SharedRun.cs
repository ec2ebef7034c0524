using BananaLab.Core.Generation;
using BananaLab.Worker.Finishing;

namespace BananaLab.Worker.Queue;

/// <summary>
/// The tasks of one batched claim meeting at their generation: each task's own run (lease, heartbeat, progress,
/// settlement) reaches <see cref="JoinAsync"/> with its request, and once every member has joined or left the run starts
/// them together (<see cref="ImageFinisher.GenerateBatch"/>); each member then awaits its own outcome. A member that ends
/// before it joins (its model was removed, its run failed early) calls <see cref="Leave"/> so the others do not wait for it.
/// </summary>
internal sealed class SharedRun(ImageFinisher finisher, IBatchingImageGenerator generator, IReadOnlyCollection<Guid> taskIds)
{
    private readonly Lock _lock = new();
    private readonly List<(GenerationRequest, IGenerationProgress, IImageOutput, CancellationToken)> _joined = [];
    private readonly HashSet<Guid> _waitingFor = [.. taskIds];
    private readonly TaskCompletionSource<IReadOnlyList<Task<GenerationResult>>> _started =
        new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Joins the run with <paramref name="taskId"/>'s request; completes with that member's own result or failure.</summary>
    public async Task<GenerationResult> JoinAsync(Guid taskId, GenerationRequest request, IGenerationProgress progress, IImageOutput files,
        CancellationToken cancellationToken)
    {
        int index;
        bool last;
        lock (_lock)
        {
            if (!_waitingFor.Remove(taskId)) throw new InvalidOperationException($"Task {taskId} is not waiting to join this run.");
            index = _joined.Count;
            _joined.Add((request, progress, files, cancellationToken));
            last = _waitingFor.Count == 0;
        }
        if (last) Start();
        var members = await _started.Task;
        return await members[index];
    }

    /// <summary>Says that <paramref name="taskId"/> will not join (no effect once it has joined).</summary>
    public void Leave(Guid taskId)
    {
        bool start;
        lock (_lock)
        {
            if (!_waitingFor.Remove(taskId)) return;
            start = _waitingFor.Count == 0 && _joined.Count > 0;
        }
        if (start) Start();
    }

    private void Start()
    {
        try
        {
            _started.TrySetResult(finisher.GenerateBatch(generator, _joined));
        }
        catch (Exception e)
        {
            _started.TrySetException(e);
        }
    }
}
