using BananaLab.Core.Generation;
using BananaLab.Core.Tasks;

namespace BananaLab.Web.Pages.Studio;

/// <summary>
/// One submitted task as the studio shows it: queue position, progress, the latest preview and, at the
/// end, the stored task with its images. Everything arrives from the <see cref="TaskNotifier"/> (pushed by
/// the worker, never polled). Notifier handlers run on the worker's thread, so every change is applied
/// through <paramref name="dispatch"/> (the component's <c>InvokeAsync</c>) and then reported by <see cref="Changed"/>.
/// </summary>
public sealed class TaskRun : IDisposable
{
    private readonly TaskService _tasks;
    private readonly Guid _ownerId;
    private readonly Func<Func<Task>, Task> _dispatch;
    private readonly IDisposable _taskEvents;
    private IDisposable? _queueEvents;
    private int _queueRefreshPending;

    public TaskRun(TaskView submitted, Guid ownerId, TaskService tasks, TaskNotifier notifier, Func<Func<Task>, Task> dispatch)
    {
        Task = submitted.Task;
        Status = submitted.Task.Status;
        QueuePosition = submitted.QueuePosition;
        ProgressPercent = submitted.Task.ProgressPercent;
        Phase = submitted.Phase;
        EtaSeconds = submitted.EtaSeconds;
        _ownerId = ownerId;
        _tasks = tasks;
        _dispatch = dispatch;
        _taskEvents = notifier.Subscribe(Task.Id, OnTaskEvent);
        // Another task starting moves this one up the queue: recount then.
        if (Status == GenerationTaskStatus.Queued) _queueEvents = notifier.SubscribeAll(OnAnyTaskEvent);
        // The worker may have finished before we subscribed.
        if (notifier.LatestProgress(Task.Id) is { } latest) Apply(latest);
        _ = _dispatch(() => ReloadAsync());
    }

    /// <summary>The stored task as last read (shared with other readers: never modified here).</summary>
    public TaskSnapshot Task { get; private set; }
    /// <summary>The newest status: from pushed events, or from the store when that is further along.</summary>
    public GenerationTaskStatus Status { get; private set; }
    public int QueuePosition { get; private set; }
    public int ProgressPercent { get; private set; }
    public int Step { get; private set; }
    public int TotalSteps { get; private set; }
    /// <summary>queued → denoising → upscaling → encoding → done, as last pushed or read.</summary>
    public GenerationPhase Phase { get; private set; }
    /// <summary>The image being upscaled or encoded (0-based) and how many there are; 0 of 0 before finishing starts.</summary>
    public int Image { get; private set; }
    public int ImageCount { get; private set; }
    /// <summary>Expected whole seconds until the images are stored (see <see cref="TaskEta"/>); null when unknown or finished.</summary>
    public int? EtaSeconds { get; private set; }
    public string? PreviewDataUrl { get; private set; }
    public bool CancelRequested { get; set; }

    public bool IsFinished => Stage(Status) == 2;

    /// <summary>Asks to cancel the task (its credits are released); the reason it cannot be, or null. The end arrives as an event.</summary>
    public async Task<string?> CancelAsync()
    {
        CancelRequested = true;
        var outcome = await _tasks.CancelAsync(Task.Id, _ownerId, CancellationToken.None);
        if (outcome.Error is null) return null;
        CancelRequested = false;
        return outcome.Error.Message;
    }

    public event Action? Changed;

    private void OnTaskEvent(TaskEvent taskEvent) => _ = _dispatch(async () =>
    {
        var wasFinished = IsFinished;
        Apply(taskEvent);
        if (!wasFinished && IsFinished)
        {
            // The event is the truth: show the end now, then read the stored result (images, charge, error).
            Task = taskEvent.EndOf(Task);
            Changed?.Invoke();
            await ReloadAsync(finished: true);
        }
        Changed?.Invoke();
    });

    private void Apply(TaskEvent taskEvent)
    {
        if (IsFinished) return;
        Status = taskEvent.Status;
        if (Status != GenerationTaskStatus.Queued) StopWatchingQueue();
        ProgressPercent = Math.Max(ProgressPercent, taskEvent.ProgressPercent);
        if (taskEvent.TotalSteps > 0) (Step, TotalSteps) = (taskEvent.Step, taskEvent.TotalSteps);
        (Phase, Image, ImageCount, EtaSeconds) = (taskEvent.Phase, taskEvent.Image, taskEvent.ImageCount, taskEvent.EtaSeconds);
        if (taskEvent.PreviewPng is { Length: > 0 } preview) PreviewDataUrl = "data:image/png;base64," + Convert.ToBase64String(preview);
    }

    private void OnAnyTaskEvent(TaskEvent taskEvent)
    {
        if (taskEvent.Kind != TaskEventKind.Started || taskEvent.TaskId == Task.Id) return;
        // Coalesce bursts of starts into one recount.
        if (Interlocked.Exchange(ref _queueRefreshPending, 1) == 1) return;
        _ = _dispatch(async () =>
        {
            Interlocked.Exchange(ref _queueRefreshPending, 0);
            await ReloadAsync();
            Changed?.Invoke();
        });
    }

    /// <summary>
    /// Re-reads the stored task (queue position, final state, images). After the end was heard
    /// (<paramref name="finished"/>), reads until the store says so too, whatever a cache still holds.
    /// </summary>
    private async Task ReloadAsync(bool finished = false)
    {
        var view = finished
            ? await _tasks.GetFinishedAsync(Task.Id, _ownerId, CancellationToken.None)
            : await _tasks.GetAsync(Task.Id, _ownerId, CancellationToken.None);
        if (view is null) return;
        // Never step back: a pushed event may have overtaken this read.
        if (Stage(view.Task.Status) >= Stage(Status))
        {
            Task = view.Task;
            Status = view.Task.Status;
            ProgressPercent = Status == GenerationTaskStatus.Succeeded ? 100 : Math.Max(ProgressPercent, view.Task.ProgressPercent);
            // A read without a live report says "denoising" for any running task: keep a later pushed phase.
            if (view.Phase > Phase || Status != GenerationTaskStatus.Running) Phase = view.Phase;
            EtaSeconds = IsFinished ? null : view.EtaSeconds ?? EtaSeconds;
        }
        QueuePosition = view.QueuePosition;
        if (Status != GenerationTaskStatus.Queued) StopWatchingQueue();
        if (IsFinished) _taskEvents.Dispose();
        Changed?.Invoke();
    }

    private static int Stage(GenerationTaskStatus status) => status switch
    {
        GenerationTaskStatus.Queued => 0,
        GenerationTaskStatus.Running => 1,
        _ => 2,
    };

    private void StopWatchingQueue()
    {
        _queueEvents?.Dispose();
        _queueEvents = null;
    }

    public void Dispose()
    {
        _taskEvents.Dispose();
        StopWatchingQueue();
    }
}
