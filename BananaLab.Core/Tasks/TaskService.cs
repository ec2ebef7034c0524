using BananaLab.Core.Catalog;
using BananaLab.Core.Cluster;
using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using BananaLab.Core.Generation;
using BananaLab.Core.Idempotency;
using BananaLab.Core.Images;
using BananaLab.Core.Moderation;
using BananaLab.Core.Storage;
using BananaLab.Core.Users;
using BananaLab.Core.Webhooks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BananaLab.Core.Tasks;

/// <summary>
/// The one task engine behind every entry point: validate → moderate → price → reserve credits and
/// insert the task in one transaction → wake the worker. Also reads, cancels and serves tasks.
/// </summary>
public sealed class TaskService(
    IDbContextFactory<BananaLabDbContext> dbFactory,
    ModelCatalog catalog,
    GenerationOffers offers,
    IPromptModerator moderator,
    IImageModerator imageModerator,
    CreditLedger ledger,
    ImageStore imageStore,
    TaskNotifier notifier,
    ActiveTaskSnapshots activeTasks,
    TaskQueueSignal queueSignal,
    RunningTasks runningTasks,
    TaskTransitions transitions,
    OutboundAddressPolicy outboundAddresses,
    IOptions<StorageOptions> storage,
    IClusterBroadcast broadcast,
    TimeProvider clock,
    GenerationTimings timings,
    IdempotencyStore idempotency,
    ILogger<TaskService> logger)
{
    public const int MaxPromptLength = 4000;
    private const int MaxCachedFinishedTasks = 10_000;
    /// <summary>Cluster topic: a task was deleted, so every node forgets its cached copy.</summary>
    public const string TaskDeletedTopic = "tasks:deleted";
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, TaskSnapshot> _finished =
        ForgetDeletedTasks(broadcast, new());

    private static System.Collections.Concurrent.ConcurrentDictionary<Guid, TaskSnapshot> ForgetDeletedTasks(
        IClusterBroadcast broadcast, System.Collections.Concurrent.ConcurrentDictionary<Guid, TaskSnapshot> cache)
    {
        broadcast.Subscribe(TaskDeletedTopic, message =>
        {
            if (Guid.TryParse(message, out var taskId)) cache.TryRemove(taskId, out _);
        });
        return cache;
    }

    /// <summary>The credit cost of a request, exactly as <see cref="SubmitAsync"/> would reserve it.</summary>
    public Outcome<PriceQuote> Quote(string? modelId, string? size, int? imageCount, string? aspectRatio = null,
        int? width = null, int? height = null)
    {
        if (string.IsNullOrWhiteSpace(modelId)) return TaskErrors.ModelRequired();
        var model = catalog.Find(modelId);
        if (model is null) return TaskErrors.ModelNotFound(modelId);

        SizeTier tier;
        int pixelWidth, pixelHeight;
        if (width is not null || height is not null)
        {
            if (width is null || height is null)
                return TaskErrors.InvalidSize("Give both width and height, or neither.");
            if (width < SizeTiers.MinEdge || width > SizeTiers.MaxEdge || height < SizeTiers.MinEdge || height > SizeTiers.MaxEdge)
                return TaskErrors.InvalidSize($"Width and height must be between {SizeTiers.MinEdge} and {SizeTiers.MaxEdge} pixels.");
            (pixelWidth, pixelHeight) = (width.Value, height.Value);
            tier = SizeTiers.Covering(pixelWidth, pixelHeight);
        }
        else
        {
            if (!SizeTiers.TryParse(string.IsNullOrWhiteSpace(size) ? "1K" : size, out tier))
                return TaskErrors.InvalidSize($"'{size}' is not a size; use 1K, 2K or 4K.");
            if (!AspectRatio.TryParse(aspectRatio, out var ratio)) return TaskErrors.InvalidAspectRatio(aspectRatio!);
            (pixelWidth, pixelHeight) = SizeTiers.PixelSize(tier, ratio);
        }
        if (!model.Offers(tier))
            return TaskErrors.SizeNotOffered(model.Id, tier.Label(), model.OfferedTiers.Select(t => t.Label()));

        var count = imageCount ?? 1;
        if (count < 1 || count > model.MaxImages) return TaskErrors.CountOutOfRange(model.MaxImages);
        if (offers.CheckQuote(model, width is not null || height is not null, aspectRatio, count) is { } refused) return refused;
        return new PriceQuote(model.Id, tier, pixelWidth, pixelHeight, count, model.PriceOf(tier));
    }

    /// <param name="idempotencyRecordId">The request's <c>Idempotency-Key</c> claim, linked to the task in its transaction.</param>
    public async Task<Outcome<TaskView>> SubmitAsync(Guid userId, SubmitTaskRequest request, CancellationToken cancellationToken,
        long? idempotencyRecordId = null)
    {
        var submitted = await SubmitBatchAsync(userId, [request], cancellationToken, idempotencyRecordId: idempotencyRecordId);
        return submitted.Succeeded ? submitted.Value!.Tasks[0] : submitted.Error!;
    }

    /// <summary>
    /// Submits a task for a synchronous call (submit, then wait for the result in the same request). A retry of an
    /// identical call within its window attaches to the first call's task instead of charging a second one (see
    /// <see cref="IsRetryOf"/>). The record lives in the database, so a retry sent to another node attaches too.
    /// </summary>
    public async Task<Outcome<TaskView>> SubmitSynchronousAsync(Guid userId, SubmitTaskRequest request, SynchronousSubmission submission,
        CancellationToken cancellationToken)
    {
        var submitted = await SubmitBatchSynchronousAsync(userId, [request], submission, cancellationToken);
        return submitted.Succeeded ? submitted.Value!.Tasks[0] : submitted.Error!;
    }

    /// <summary><see cref="SubmitSynchronousAsync"/> for a call that submits a batch (always given a batch id).</summary>
    public async Task<Outcome<SubmittedBatch>> SubmitBatchSynchronousAsync(Guid userId, IReadOnlyList<SubmitTaskRequest> requests,
        SynchronousSubmission submission, CancellationToken cancellationToken, bool alwaysBatch = false)
    {
        for (var round = 0; round < 100; round++)
        {
            switch (await idempotency.ClaimRecentAsync(userId, submission, cancellationToken))
            {
                case RecentSubmissionClaim.Fresh fresh:
                    Outcome<SubmittedBatch> outcome;
                    try
                    {
                        outcome = await SubmitBatchAsync(userId, requests, cancellationToken, alwaysBatch);
                    }
                    catch
                    {
                        await idempotency.ForgetRecentAsync(fresh.RecordId, CancellationToken.None);
                        throw;
                    }
                    if (outcome.Succeeded)
                        await idempotency.RecordTaskAsync(fresh.RecordId, outcome.Value!.BatchId ?? outcome.Value.Tasks[0].Id, CancellationToken.None);
                    else await idempotency.ForgetRecentAsync(fresh.RecordId, CancellationToken.None);
                    return outcome;
                case RecentSubmissionClaim.Existing existing:
                    var first = await FindSubmittedAsync(existing.TaskId, userId, cancellationToken);
                    if (first is not null && IsRetryOf(first, existing.Since, submission))
                    {
                        await idempotency.RefreshRecentAsync(existing.RecordId, CancellationToken.None);
                        logger.LogInformation("Task {TaskId}: an identical {Dialect} call was attached to it instead of charging again",
                            existing.TaskId, submission.Dialect);
                        return first;
                    }
                    await idempotency.ForgetRecentAsync(existing.RecordId, cancellationToken);
                    break;
                default:
                    // The identical call is between its claim and its insert (milliseconds): wait for its task.
                    await Task.Delay(TimeSpan.FromMilliseconds(50), clock, cancellationToken);
                    break;
            }
        }
        return await SubmitBatchAsync(userId, requests, cancellationToken, alwaysBatch);
    }

    /// <summary>
    /// Whether an identical call is a retry of the earlier one: while its tasks still run, yes. Once they succeeded, only
    /// if the client marks it as a retry, or they finished after the earlier call's wait ended (so that call answered
    /// "still generating" and never delivered the images; the .NET OpenAI SDK retries such 504s without marking them).
    /// Otherwise the caller asks for the same thing again on purpose and gets a new task. A failed one was refunded,
    /// so a retry of it is a new try.
    /// </summary>
    private static bool IsRetryOf(SubmittedBatch first, DateTime since, SynchronousSubmission submission)
    {
        if (first.Tasks.Any(t => !t.Task.IsTerminal)) return true;
        if (first.Tasks.Any(t => t.Task.Status != GenerationTaskStatus.Succeeded)) return false;
        return submission.MarkedRetry || first.Tasks.Max(t => t.Task.FinishedAt) > since + submission.Wait;
    }

    /// <summary>What an earlier synchronous call submitted: one task by its id, or a batch by the batch id.</summary>
    private async Task<SubmittedBatch?> FindSubmittedAsync(Guid id, Guid userId, CancellationToken cancellationToken)
    {
        if (await GetAsync(id, userId, cancellationToken) is { } view) return new SubmittedBatch(view.Task.BatchId, [view]);
        var batch = await GetBatchAsync(id, userId, cancellationToken);
        return batch is null ? null : new SubmittedBatch(id, batch.Select(t => new TaskView(t, 0)).ToList());
    }

    /// <summary>
    /// Submits several tasks all or nothing: every item is validated and moderated first, then all
    /// reservations and tasks are written in one transaction. Errors name the failing item.
    /// </summary>
    public async Task<Outcome<SubmittedBatch>> SubmitBatchAsync(Guid userId, IReadOnlyList<SubmitTaskRequest> requests,
        CancellationToken cancellationToken, bool alwaysBatch = false, long? idempotencyRecordId = null)
    {
        if (requests.Count == 0) return TaskErrors.InvalidRequest("Send at least one item.");
        TaskError ForItem(int index, TaskError error) =>
            requests.Count == 1 ? error : error with { Message = $"Item {index + 1}: {error.Message}" };

        var now = clock.GetUtcNow().UtcDateTime;
        Guid? batchId = requests.Count > 1 || alwaysBatch ? Guid.CreateVersion7() : null;
        var prepared = new List<(GenerationTask Task, (ImageHeader Header, byte[] Data)? Reference)>(requests.Count);
        var decisions = new List<ModerationDecisionRecord>(requests.Count);
        var blocked = new List<GenerationTask>();
        for (var i = 0; i < requests.Count; i++)
        {
            var request = requests[i];
            var validated = Validate(request);
            if (!validated.Succeeded) return ForItem(i, validated.Error!);
            var (quote, model, reference, format) = validated.Value!;
            if (await offers.CheckAvailableAsync(model, cancellationToken) is { } unavailable) return ForItem(i, unavailable);
            var parameters = offers.Parameters(model, request);
            var decision = await moderator.ScreenAsync(new ModerationRequest(userId, request.Prompt!, request.NegativePrompt), cancellationToken);
            var taskId = Guid.CreateVersion7();
            decisions.Add(ModerationDecisionRecord.From(decision, userId, taskId, "prompt", request.Source, now));
            if (decision.Allowed && reference is { } upload)
            {
                var imageDecision = await imageModerator.CheckAsync(upload.Data, cancellationToken);
                decisions.Add(ModerationDecisionRecord.From(imageDecision, userId, taskId, "reference_image", request.Source, now));
                decision = imageDecision.Allowed ? decision : imageDecision;
            }
            var task = new GenerationTask
            {
                Id = taskId,
                UserId = userId,
                ModelId = model.Id,
                Provider = model.Provider,
                Prompt = request.Prompt!.Trim(),
                NegativePrompt = string.IsNullOrWhiteSpace(request.NegativePrompt) ? null : request.NegativePrompt.Trim(),
                SizeTier = quote.Tier,
                Width = quote.Width,
                Height = quote.Height,
                ImageCount = quote.ImageCount,
                Seed = parameters.Seed,
                Steps = parameters.Steps,
                Guidance = parameters.Guidance,
                OutputFormat = format,
                ReferenceStrength = reference is null ? null : request.ReferenceStrength ?? 0.75,
                Status = GenerationTaskStatus.Queued,
                CreatedAt = now,
                Source = request.Source,
                BatchId = batchId,
                BatchIndex = i,
                BatchKey = request.BatchKey,
                WebhookUrl = request.WebhookUrl,
                WebhookFormat = request.WebhookFormat,
                CreditsReserved = quote.Total,
            };
            if (!decision.Allowed)
            {
                task.Status = GenerationTaskStatus.Blocked;
                task.CreditsReserved = 0;
                task.FinishedAt = now;
                task.ErrorCode = TaskErrors.ModerationBlocked().Code;
                task.ErrorMessage = TaskErrors.ModerationBlocked().Message;
                blocked.Add(task);
                logger.LogInformation("Task {TaskId} blocked by moderation: {Rules}", task.Id, string.Join(", ", decision.MatchedRules));
            }
            prepared.Add((task, reference));
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (blocked.Count > 0)
        {
            // Kept for the admin's moderation review; never queued, never charged; the rest of the batch is not submitted.
            if (!await db.Users.AnyAsync(u => u.Id == userId && !u.Disabled, cancellationToken)) return TaskErrors.UserDisabled();
            db.Tasks.AddRange(blocked);
            db.AddRange(decisions.Where(d => blocked.Any(t => t.Id == d.TaskId)));
            await db.SaveChangesAsync(cancellationToken);
            return ForItem(prepared.FindIndex(p => p.Task.Status == GenerationTaskStatus.Blocked), TaskErrors.ModerationBlocked());
        }

        var savedReferences = new List<string>();
        try
        {
            foreach (var (task, reference) in prepared)
                if (reference is { } r)
                {
                    task.ReferenceImagePath = await imageStore.SaveReferenceAsync(task.Id, r.Header, r.Data, cancellationToken);
                    savedReferences.Add(task.ReferenceImagePath);
                }

            // From here the request is decided: a client that drops the connection must not cancel (roll back) it half
            // way, nor make it throw after the commit, or a retry with the same Idempotency-Key would charge a second task.
            var decided = CancellationToken.None;
            await using var transaction = await db.Database.BeginTransactionAsync(decided);
            foreach (var (task, _) in prepared)
            {
                if (await ledger.ReserveAsync(db, userId, task.Id, task.CreditsReserved, decided)) continue;
                await transaction.RollbackAsync(decided);
                savedReferences.ForEach(imageStore.DeleteQuietly);
                var user = await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == userId, decided);
                return user is null || user.Disabled
                    ? TaskErrors.UserDisabled()
                    : TaskErrors.InsufficientCredits(prepared.Sum(p => p.Task.CreditsReserved), user.CreditBalance);
            }
            db.Tasks.AddRange(prepared.Select(p => p.Task));
            db.AddRange(decisions);
            await db.SaveChangesAsync(decided);
            if (idempotencyRecordId is { } recordId)
                await IdempotencyStore.LinkTaskAsync(db, recordId, batchId ?? prepared[0].Task.Id, decided);
            await transaction.CommitAsync(decided);
        }
        catch
        {
            savedReferences.ForEach(imageStore.DeleteQuietly);
            throw;
        }

        queueSignal.Notify();
        foreach (var (task, _) in prepared) notifier.Publish(new TaskEvent(task.Id, userId, TaskEventKind.Queued, task.Status, 0));
        var views = new List<TaskView>(prepared.Count);
        foreach (var (task, _) in prepared)
        {
            var (position, eta) = await QueueStandingAsync(db, task, CancellationToken.None);
            views.Add(new TaskView(TaskSnapshot.Of(task), position, eta));
        }
        return new SubmittedBatch(batchId, views);
    }

    /// <summary>The tasks of a batch in submission order, checked against their owner.</summary>
    public async Task<IReadOnlyList<TaskSnapshot>?> GetBatchAsync(Guid batchId, Guid ownerId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var tasks = await db.Tasks.AsNoTracking().Include(t => t.Images.OrderBy(i => i.Index))
            .Where(t => t.BatchId == batchId && t.UserId == ownerId).OrderBy(t => t.BatchIndex).ToListAsync(cancellationToken);
        return tasks.Count == 0 ? null : [.. tasks.Select(TaskSnapshot.Of)];
    }

    private Outcome<(PriceQuote Quote, ModelDefinition Model, (ImageHeader Header, byte[] Data)? Reference, OutputFormat Format)> Validate(
        SubmitTaskRequest request)
    {
        var priced = Quote(request.ModelId, request.Size, request.ImageCount, request.AspectRatio, request.Width, request.Height);
        if (!priced.Succeeded) return priced.Error!;
        var quote = priced.Value!;
        var model = catalog.Find(quote.ModelId)!;

        if (!PromptText.HasVisibleText(request.Prompt)) return TaskErrors.PromptRequired();
        if (request.Prompt.Length > MaxPromptLength || request.NegativePrompt?.Length > MaxPromptLength)
            return TaskErrors.PromptTooLong(MaxPromptLength);
        if (offers.CheckParameters(model, request) is { } notTaken) return notTaken;
        if (request.Steps is { } steps && (steps < 1 || steps > model.MaxSteps)) return TaskErrors.InvalidSteps(model.MaxSteps);
        if (request.Guidance is { } guidance && (double.IsNaN(guidance) || guidance < 0 || guidance > 30)) return TaskErrors.InvalidGuidance();
        if (request.Seed is { } seed && (seed < 0 || seed > uint.MaxValue)) return TaskErrors.InvalidSeed();
        if (!OutputFormats.TryParse(request.OutputFormat, out var format)) return TaskErrors.InvalidOutputFormat(request.OutputFormat!);
        if (request.ReferenceStrength is { } strength && (double.IsNaN(strength) || strength < 0 || strength > 1))
            return TaskErrors.InvalidStrength();
        if (request.WebhookUrl is not null && !outboundAddresses.TryValidateUrl(request.WebhookUrl, out var webhookError))
            return TaskErrors.InvalidWebhookUrl(webhookError);

        (ImageHeader, byte[])? reference = null;
        if (request.ReferenceImage is { } upload)
        {
            if (upload.Data.Length == 0) return TaskErrors.ReferenceImageMissing();
            var limits = storage.Value;
            if (upload.Data.Length > limits.MaxReferenceImageBytes)
                return TaskErrors.ReferenceImageUnreadable($"the file is larger than {limits.MaxReferenceImageBytes / (1024 * 1024)} MB.");
            if (!ImageHeader.TryRead(upload.Data, out var header, out var error)) return TaskErrors.ReferenceImageUnreadable(error);
            if (header!.Pixels > limits.MaxReferenceImagePixels)
                return TaskErrors.ReferenceImageUnreadable($"{header.Width}×{header.Height} is more than {limits.MaxReferenceImagePixels:N0} pixels.");
            reference = (header, upload.Data);
        }
        return (quote, model, reference, format);
    }

    /// <summary>A task by id; with an owner given, someone else's task is reported as not found.</summary>
    public async Task<TaskView?> GetAsync(Guid taskId, Guid? ownerId, CancellationToken cancellationToken)
    {
        // A finished task never changes again, so clients polling it need no database round trip.
        if (_finished.TryGetValue(taskId, out var finished))
            return ownerId is null || (finished.UserId == ownerId && finished.DeletedAt is null) ? new TaskView(finished, 0) : null;
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
            if (_finished.Count >= MaxCachedFinishedTasks) _finished.Clear();
            _finished[task.Id] = task;
            return new TaskView(task, 0);
        }
        var (queuePosition, eta) = await QueueStandingAsync(db, stored, cancellationToken);
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

    public async Task<Outcome<TaskView>> CancelAsync(Guid taskId, Guid? ownerId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var task = await db.Tasks.AsNoTracking().SingleOrDefaultAsync(t => t.Id == taskId, cancellationToken);
        if (task is null || (ownerId is not null && task.UserId != ownerId)) return TaskErrors.TaskNotFound();

        if (task.Status == GenerationTaskStatus.Queued)
        {
            if (await transitions.EndAsync(db, task, TaskTransitions.StillQueued(db, taskId), GenerationTaskStatus.Canceled,
                    TaskErrors.Canceled, TaskTransitions.Messages.CanceledBeforeStart, cancellationToken))
                return (await GetAsync(taskId, ownerId, cancellationToken))!;
            // The worker claimed it in between: cancel it as a running task.
            task = await db.Tasks.AsNoTracking().SingleAsync(t => t.Id == taskId, cancellationToken);
        }

        if (task.Status == GenerationTaskStatus.Running)
        {
            // The worker's settlement succeeds only where CancelRequested is still false (TaskQueue.CompleteAsync), so once
            // this row is marked the task can only end canceled, with its credits released; marked nothing = it already ended.
            var marked = await db.Tasks.Where(t => t.Id == taskId && t.Status == GenerationTaskStatus.Running)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.CancelRequested, true), CancellationToken.None);
            if (marked == 1)
            {
                activeTasks.Forget(taskId);
                runningTasks.Cancel(taskId);
                return (await GetAsync(taskId, ownerId, CancellationToken.None))!;
            }
            task = await db.Tasks.AsNoTracking().SingleAsync(t => t.Id == taskId, CancellationToken.None);
            // Re-queued for a retry in between: cancel it as a queued task.
            if (task.Status == GenerationTaskStatus.Queued) return await CancelAsync(taskId, ownerId, cancellationToken);
        }
        return TaskErrors.NotCancelable(task.Status);
    }

    /// <summary>
    /// The owner deletes a finished task: its image and reference files are removed and it disappears from the
    /// owner's lists, every dialect and the studio. The task row and its ledger entries stay, as the record of
    /// what was charged, and admins see that the owner deleted it. Errors: <c>task_not_found</c> (someone
    /// else's, or already deleted), <c>not_deletable</c> (queued or running: cancel it first).
    /// </summary>
    public async Task<Outcome<TaskSnapshot>> DeleteAsync(Guid taskId, Guid ownerId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var task = await db.Tasks.AsNoTracking().Include(t => t.Images)
            .SingleOrDefaultAsync(t => t.Id == taskId && t.UserId == ownerId && t.DeletedAt == null, cancellationToken);
        if (task is null) return TaskErrors.TaskNotFound();
        if (!task.IsTerminal) return TaskErrors.NotDeletable(task.Status);

        var now = clock.GetUtcNow().UtcDateTime;
        // The row is marked first: a file removed under a reader is a 404 for a task it can no longer see.
        var marked = await db.Tasks.Where(t => t.Id == taskId && t.DeletedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.DeletedAt, now), cancellationToken);
        if (marked == 0) return TaskErrors.TaskNotFound();
        _finished.TryRemove(taskId, out _);
        await broadcast.PublishAsync(TaskDeletedTopic, taskId.ToString());

        imageStore.DeleteTaskFiles(task);
        logger.LogInformation("Task {TaskId} deleted by its owner {UserId}", taskId, ownerId);
        return TaskSnapshot.Of(task) with { DeletedAt = now };
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
    private async Task<(int Position, int? EtaSeconds)> QueueStandingAsync(BananaLabDbContext db, GenerationTask task,
        CancellationToken cancellationToken)
    {
        if (task.Status != GenerationTaskStatus.Queued) return (0, null);
        var queuedUpTo = db.Tasks.Where(t => t.Status == GenerationTaskStatus.Queued && t.CreatedAt <= task.CreatedAt);
        var own = timings.Estimate(task.ModelId, RunShape.Of(task));
        // Before the model's first measured run there is no ETA to give: only count.
        if (own is null) return (await queuedUpTo.CountAsync(cancellationToken), null);

        var ahead = await queuedUpTo.Where(t => t.Id != task.Id)
            .GroupBy(t => new { t.ModelId, t.Steps, t.ImageCount, t.Width, t.Height, HasReference = t.ReferenceImagePath != null, t.ReferenceStrength })
            .Select(g => new { g.Key, Count = g.Count() })
            .ToListAsync(cancellationToken);
        var running = await db.Tasks.AsNoTracking().Where(t => t.Status == GenerationTaskStatus.Running)
            .Select(t => new { t.Id, t.ModelId, t.Steps, t.ImageCount, t.Width, t.Height, HasReference = t.ReferenceImagePath != null,
                t.ReferenceStrength, t.ProgressPercent })
            .ToListAsync(cancellationToken);

        var aheadEstimates = ahead.SelectMany(g => Enumerable.Repeat(timings.Estimate(g.Key.ModelId,
            RunShape.Of(g.Key.Steps, g.Key.ImageCount, g.Key.Width, g.Key.Height, g.Key.HasReference, g.Key.ReferenceStrength)), g.Count));
        var runningLeft = running.Select(r => RunningSecondsLeft(r.Id, r.ModelId,
            RunShape.Of(r.Steps, r.ImageCount, r.Width, r.Height, r.HasReference, r.ReferenceStrength), r.ProgressPercent)).ToList();
        return (ahead.Sum(g => g.Count) + 1, TaskEta.ForQueued(own, aheadEstimates, runningLeft));
    }
}
