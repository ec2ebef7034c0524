namespace BananaLab.Core.Tasks;

/// <summary>
/// Wakes the idle claim loops the moment a task is queued, so claiming does not wait for a poll. Every loop waiting at
/// the time wakes: loops claim different models (each model pool of a worker has its own), so the one woken must not be
/// the only one that looks. A notice with no loop waiting is kept for the next one that waits.
/// </summary>
public sealed class TaskQueueSignal
{
    private readonly Lock _lock = new();
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _pending;

    public void Notify()
    {
        TaskCompletionSource woken;
        lock (_lock)
        {
            woken = _next;
            _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
            _pending = true;
        }
        woken.TrySetResult();
    }

    /// <summary>Waits for a wake-up or the poll interval, whichever comes first.</summary>
    public async Task WaitAsync(TimeSpan pollInterval, CancellationToken cancellationToken)
    {
        Task next;
        lock (_lock)
        {
            if (_pending)
            {
                _pending = false;
                return;
            }
            next = _next.Task;
        }
        try
        {
            await next.WaitAsync(pollInterval, cancellationToken);
        }
        catch (TimeoutException)
        {
        }
    }
}
