using BananaLab.Core.Data;
using BananaLab.Core.Generation;
using BananaLab.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Core.Tasks;

/// <summary>
/// Reading and waiting: a task by id (from <see cref="FinishedTaskCache"/>, <see cref="ActiveTaskSnapshots"/> or the
/// database, with live progress, phase and ETA from the <see cref="TaskNotifier"/>), pages of tasks, batches, images,
/// a long-poll until a task ends, and a queued task's place in line. Changes nothing.
/// </summary>
public sealed class TaskReader(
    IDbContextFactory<BananaLabDbContext> dbFactory,
    FinishedTaskCache finished,
    ActiveTaskSnapshots activeTasks,
    TaskNotifier notifier,
    GenerationTimings timings,
    ImageStore imageStore,
    TimeProvider clock)
{
    /// <summary>A task by id; with an owner given, someone else's task is reported as not found.</summary>
    public async Task<TaskView?> GetAsync(Guid taskId, Guid? ownerId, CancellationToken cancellationToken)
    {
        if (finished.TryGet(taskId, out var done))
            return ownerId is null || (done.UserId == ownerId && done.DeletedAt is null) ? new TaskView(done, 0) : null;
        // Nor does one that is waiting or running, for a quarter of a second (see ActiveTaskSnapshots).
        if (activeTasks.TryGet(taskId, out var active, out var position, out var queuedEta))
            return ownerId is null || active.UserId == ownerId ? Live(active, position, queuedEta) : null;

        var readStamp = activeTasks.Stamp();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var stored = await db.Tasks.AsNoTracking().Include(t => t.Images.OrderBy(i => i.Index))
            .SingleOrDefaultAsync(t => t.Id == taskId, cancellationToken);
        if (stored is null || (ownerId is not null && (stored.UserId != ownerId || stored.DeletedAt is not null))) return null;
        var task = TaskSnapshot.Of(stored);
        if (task.IsTerminal)
        {
            finished.Remember(task);
            return new TaskView(task, 0);
        }
        var (queuePosition, eta) = await StandingAsync(db, stored, cancellationToken);
        activeTasks.Remember(task, queuePosition, readStamp, eta);
        return Live(task, queuePosition, eta);
    }

    /// <summary>
    /// A waiting or running task with what is known live: the database holds progress as of the last heartbeat, while
    /// the worker's latest report (in this process, or relayed) has the current percent, phase and seconds left.
    /// </summary>
    private TaskView Live(TaskSnapshot task, int queuePosition, int? queuedEtaSeconds)
    {
        if (task.Status != GenerationTaskStatus.Running)
            return new TaskView(task, queuePosition, task.Status == GenerationTaskStatus.Queued ? queuedEtaSeconds : null);
        var live = notifier.LatestProgress(task.Id);
        if (live is not null && live.ProgressPercent > task.ProgressPercent) task = task with { ProgressPercent = live.ProgressPercent };
        var secondsLeft = RunningSecondsLeft(task.Id, task.ModelId, RunShape.Of(task), task.ProgressPercent);
        return new TaskView(task, 0, secondsLeft is null ? null : (int)Math.Ceiling(secondsLeft.Value), live?.Phase);
    }

    /// <summary>Seconds left of a running task: its worker's latest estimate, else the model's estimate less the stored percent.</summary>
    private double? RunningSecondsLeft(Guid taskId, string modelId, RunShape shape, int percent) =>
        notifier.LatestProgress(taskId)?.EtaSeconds ?? timings.Estimate(modelId, shape)?.SecondsLeftAt(percent);

    /// <summary>
    /// A page of tasks, newest first. With an owner given only that owner's tasks are listed;
    /// without one (admins) <see cref="TaskQuery.UserId"/> may narrow it.
    /// </summary>
    public async Task<TaskPage> ListAsync(Guid? ownerId, TaskQuery query, CancellationToken cancellationToken)
    {
        var page = Math.Max(1, query.Page);
        var pageSize = Math.Clamp(query.PageSize, 1, TaskQuery.MaxPageSize);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var tasks = db.Tasks.AsNoTracking();
        if ((ownerId ?? query.UserId) is { } userId) tasks = tasks.Where(t => t.UserId == userId);
        // An owner no longer sees what they deleted; admins do (marked as deleted).
        if (ownerId is not null) tasks = tasks.Where(t => t.DeletedAt == null);
        if (query.Status is { } status) tasks = tasks.Where(t => t.Status == status);
        if (!string.IsNullOrWhiteSpace(query.ModelId)) tasks = tasks.Where(t => t.ModelId == query.ModelId);
        if (query.CreatedFrom is { } from) tasks = tasks.Where(t => t.CreatedAt >= from);
        if (query.CreatedTo is { } to) tasks = tasks.Where(t => t.CreatedAt < to);
        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            var pattern = LikePatterns.Containing(db.Database, query.Search);
            tasks = tasks.Where(t => EF.Functions.Like(t.Prompt.ToLower(), pattern, LikePatterns.Escape));
        }
        var total = await tasks.CountAsync(cancellationToken);
        var items = await tasks.OrderByDescending(t => t.CreatedAt).ThenByDescending(t => t.Id)
            .Skip(Paging.Offset(page, pageSize)).Take(pageSize)
            .Include(t => t.Images.OrderBy(i => i.Index))
            .ToListAsync(cancellationToken);
        return new TaskPage([.. items.Select(TaskSnapshot.Of)], total, page, pageSize);
    }

    /// <summary>
    /// The stored result of a task whose end a listener has just heard: its images, charge, timings and error.
    /// The event is the truth; a read may lag behind it (a copy cached by <see cref="ActiveTaskSnapshots"/>, or
    /// another node's commit not yet seen), so a read that still finds the task unfinished is retried, for up
    /// to about eight seconds. Null when the task is gone (deleted, not the owner's) or never reads as finished.
    /// </summary>
    public async Task<TaskView?> GetFinishedAsync(Guid taskId, Guid? ownerId, CancellationToken cancellationToken)
    {
        foreach (var delayMs in FinishedReadDelaysMs)
        {
            if (delayMs > 0) await Task.Delay(TimeSpan.FromMilliseconds(delayMs), clock, cancellationToken);
            var view = await GetAsync(taskId, ownerId, cancellationToken);
            if (view is null || view.Task.IsTerminal) return view;
        }
        return null;
    }

    /// <summary>Waits before each read of <see cref="GetFinishedAsync"/>; the second already outlives a cached copy.</summary>
    private static readonly int[] FinishedReadDelaysMs = [0, 300, 600, 1200, 2400, 4000];

    /// <summary>Waits until the task is terminal or the timeout passes, then returns it (for long-polling dialects).</summary>
    public async Task<TaskView?> WaitAsync(Guid taskId, Guid? ownerId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = notifier.Subscribe(taskId, e =>
        {
            if (e.Kind is TaskEventKind.Succeeded or TaskEventKind.Failed or TaskEventKind.Canceled) finished.TrySetResult();
        });
        var view = await GetAsync(taskId, ownerId, cancellationToken);
        if (view is null || view.Task.IsTerminal || timeout <= TimeSpan.Zero) return view;
        try
        {
            await finished.Task.WaitAsync(timeout, clock, cancellationToken);
        }
        catch (TimeoutException)
        {
        }
        return await GetAsync(taskId, ownerId, cancellationToken);
    }

    /// <summary>The tasks of a batch in submission order, checked against their owner.</summary>
    public async Task<IReadOnlyList<TaskSnapshot>?> GetBatchAsync(Guid batchId, Guid ownerId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var tasks = await db.Tasks.AsNoTracking().Include(t => t.Images.OrderBy(i => i.Index))
            .Where(t => t.BatchId == batchId && t.UserId == ownerId).OrderBy(t => t.BatchIndex).ToListAsync(cancellationToken);
        return tasks.Count == 0 ? null : [.. tasks.Select(TaskSnapshot.Of)];
    }

    /// <summary>An output image's record and absolute file path, checked against its owner.</summary>
    public async Task<(TaskImage Image, string FullPath)?> GetImageAsync(Guid taskId, int index, Guid? ownerId,
        CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var image = await (from i in db.TaskImages.AsNoTracking()
                           join t in db.Tasks on i.TaskId equals t.Id
                           where i.TaskId == taskId && i.Index == index && t.DeletedAt == null && (ownerId == null || t.UserId == ownerId)
                           select i).SingleOrDefaultAsync(cancellationToken);
        return image is null ? null : (image, imageStore.FullPath(image.FilePath));
    }

    /// <summary>A queued task's place in line (1 = next) and its <see cref="TaskEta.ForQueued"/> ETA; (0, null) otherwise.</summary>
    internal async Task<(int Position, int? EtaSeconds)> StandingAsync(BananaLabDbContext db, GenerationTask task,
        CancellationToken cancellationToken) => (await StandingsAsync(db, [task], cancellationToken))[0];

    /// <summary>
    /// Several tasks' places in line (1 = next) and <see cref="TaskEta.ForQueued"/> ETAs, in the order given; (0, null) for
    /// a task that is not queued. Two reads whatever their number (three with an ETA to give): everything queued before the
    /// earliest of them, summed in the database, and the few queued from the earliest to the latest (these tasks and any
    /// submitted in the same moments), row by row. A place counts every task queued no later than it, as one task's read does.
    /// </summary>
    internal async Task<IReadOnlyList<(int Position, int? EtaSeconds)>> StandingsAsync(BananaLabDbContext db,
        IReadOnlyList<GenerationTask> tasks, CancellationToken cancellationToken)
    {
        var standings = new (int Position, int? EtaSeconds)[tasks.Count];
        var queued = tasks.Where(t => t.Status == GenerationTaskStatus.Queued).ToList();
        if (queued.Count == 0) return standings;
        var (first, last) = (queued.Min(t => t.CreatedAt), queued.Max(t => t.CreatedAt));
        var window = await db.Tasks.AsNoTracking()
            .Where(t => t.Status == GenerationTaskStatus.Queued && t.CreatedAt >= first && t.CreatedAt <= last)
            .Select(t => new { t.Id, t.CreatedAt, t.ModelId, t.Steps, t.ImageCount, t.Width, t.Height,
                HasReference = t.ReferenceImagePath != null, t.ReferenceStrength })
            .ToListAsync(cancellationToken);
        var earlier = db.Tasks.Where(t => t.Status == GenerationTaskStatus.Queued && t.CreatedAt < first);
        var own = queued.ToDictionary(t => t.Id, t => timings.Estimate(t.ModelId, RunShape.Of(t)));

        // Before a model's first measured run there is no ETA to give: only count.
        int earlierCount;
        var earlierEstimates = new List<RunEstimate?>();
        var runningLeft = new List<double?>();
        if (own.Values.All(e => e is null))
        {
            earlierCount = await earlier.CountAsync(cancellationToken);
        }
        else
        {
            var groups = await earlier
                .GroupBy(t => new { t.ModelId, t.Steps, t.ImageCount, t.Width, t.Height, HasReference = t.ReferenceImagePath != null, t.ReferenceStrength })
                .Select(g => new { g.Key, Count = g.Count() })
                .ToListAsync(cancellationToken);
            earlierCount = groups.Sum(g => g.Count);
            earlierEstimates.AddRange(groups.SelectMany(g => Enumerable.Repeat(timings.Estimate(g.Key.ModelId,
                RunShape.Of(g.Key.Steps, g.Key.ImageCount, g.Key.Width, g.Key.Height, g.Key.HasReference, g.Key.ReferenceStrength)), g.Count)));
            var running = await db.Tasks.AsNoTracking().Where(t => t.Status == GenerationTaskStatus.Running)
                .Select(t => new { t.Id, t.ModelId, t.Steps, t.ImageCount, t.Width, t.Height, HasReference = t.ReferenceImagePath != null,
                    t.ReferenceStrength, t.ProgressPercent })
                .ToListAsync(cancellationToken);
            runningLeft.AddRange(running.Select(r => RunningSecondsLeft(r.Id, r.ModelId,
                RunShape.Of(r.Steps, r.ImageCount, r.Width, r.Height, r.HasReference, r.ReferenceStrength), r.ProgressPercent)));
        }

        for (var i = 0; i < tasks.Count; i++)
        {
            var task = tasks[i];
            if (task.Status != GenerationTaskStatus.Queued) continue;
            var ahead = window.Where(w => w.CreatedAt <= task.CreatedAt && w.Id != task.Id).ToList();
            var estimate = own[task.Id];
            standings[i] = (earlierCount + ahead.Count + 1, estimate is null ? null : TaskEta.ForQueued(estimate,
                earlierEstimates.Concat(ahead.Select(a => timings.Estimate(a.ModelId,
                    RunShape.Of(a.Steps, a.ImageCount, a.Width, a.Height, a.HasReference, a.ReferenceStrength)))), runningLeft));
        }
        return standings;
    }
}
