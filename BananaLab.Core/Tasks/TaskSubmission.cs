using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using BananaLab.Core.Generation;
using BananaLab.Core.Idempotency;
using BananaLab.Core.Moderation;
using BananaLab.Core.Storage;
using BananaLab.Core.Webhooks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace BananaLab.Core.Tasks;

/// <summary>
/// The one submission path behind every entry point: validate (<see cref="SubmissionValidator"/>) → check that a worker
/// can run the model → moderate the prompt and the reference image → reserve credits and insert the tasks in one
/// transaction, grouped with concurrent submissions (<see cref="SubmitGroupCommit"/>) → wake the worker. A batch is all or nothing; a synchronous call's retry attaches to its first task.
/// </summary>
public sealed class TaskSubmission(
    IDbContextFactory<BananaLabDbContext> dbFactory,
    SubmissionValidator validator,
    GenerationOffers offers,
    IPromptModerator moderator,
    IImageModerator imageModerator,
    SubmitGroupCommit groupCommit,
    ImageStore imageStore,
    TaskReader reader,
    IdempotencyStore idempotency,
    ISubmissionOrigin origin,
    TimeProvider clock,
    ILogger<TaskSubmission> logger)
{
    /// <summary>A validated, moderated item of a batch, not yet written: its task, its reference and the moderation decisions.</summary>
    private sealed record PreparedTask(GenerationTask Task, CheckedReference? Reference, IReadOnlyList<ModerationDecisionRecord> Decisions)
    {
        public bool Blocked => Task.Status == GenerationTaskStatus.Blocked;
    }

    /// <summary>
    /// Submits several tasks all or nothing: every item is validated and moderated first, then all reservations and
    /// tasks are written in one transaction. Errors name the failing item ("Item 2: …") when there is more than one.
    /// A blocked item is stored for the moderation review (never queued, never charged) and nothing else is submitted.
    /// </summary>
    /// <param name="alwaysBatch">Give the tasks a batch id even when there is one item (dialects that answer per batch).</param>
    /// <param name="idempotencyRecordId">The request's <c>Idempotency-Key</c> claim, linked to the task in its transaction.</param>
    /// <param name="comparison">The items are one comparison: each task also stores the batch id as its <c>ComparisonId</c>.</param>
    public async Task<Outcome<SubmittedBatch>> SubmitBatchAsync(Guid userId, IReadOnlyList<SubmitTaskRequest> requests,
        CancellationToken cancellationToken, bool alwaysBatch = false, long? idempotencyRecordId = null, bool comparison = false)
    {
        if (requests.Count == 0) return TaskErrors.InvalidRequest("Send at least one item.");
        TaskError ForItem(int index, TaskError error) =>
            requests.Count == 1 ? error : error with { Message = $"Item {index + 1}: {error.Message}" };

        var now = clock.GetUtcNow().UtcDateTime;
        Guid? batchId = requests.Count > 1 || alwaysBatch || comparison ? Guid.CreateVersion7() : null;
        var prepared = new List<PreparedTask>(requests.Count);
        for (var i = 0; i < requests.Count; i++)
        {
            var item = await PrepareAsync(userId, requests[i], i, batchId, comparison ? batchId : null, now, cancellationToken);
            if (!item.Succeeded) return ForItem(i, item.Error!);
            prepared.Add(item.Value!);
        }

        var blockedAt = prepared.FindIndex(p => p.Blocked);
        if (blockedAt >= 0)
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            if (await RecordBlockedAsync(db, userId, prepared[blockedAt], prepared, cancellationToken) is not { } decisionId)
                return TaskErrors.UserDisabled();
            return ForItem(blockedAt, TaskErrors.ModerationBlocked() with { ModerationDecisionId = decisionId });
        }

        var committed = await ReserveAndInsertAsync(userId, prepared, batchId, idempotencyRecordId, cancellationToken);
        if (committed.Refused is { } refused) return refused;

        var views = prepared.Select((item, i) =>
            new TaskView(TaskSnapshot.Of(item.Task), committed.Standings[i].Position, committed.Standings[i].EtaSeconds)).ToList();
        return new SubmittedBatch(batchId, views);
    }

    /// <summary>One item: validated, its model available, its prompt and reference moderated, made into a task (blocked if refused).</summary>
    private async Task<Outcome<PreparedTask>> PrepareAsync(Guid userId, SubmitTaskRequest request, int index, Guid? batchId, Guid? comparisonId,
        DateTime now, CancellationToken cancellationToken)
    {
        var validated = validator.Validate(request);
        if (!validated.Succeeded) return validated.Error!;
        var (quote, model, reference, format, fit) = validated.Value!;
        if (await offers.CheckAvailableAsync(model, cancellationToken) is { } unavailable) return unavailable;
        var parameters = offers.Parameters(model, request);

        var taskId = Guid.CreateVersion7();
        var decisions = new List<ModerationDecisionRecord>(2);
        var decision = await moderator.ScreenAsync(new ModerationRequest(userId, request.Prompt!, request.NegativePrompt), cancellationToken);
        decisions.Add(ModerationDecisionRecord.From(decision, userId, taskId, "prompt", request.Source, now));
        if (decision.Allowed && reference is not null)
        {
            var imageDecision = await imageModerator.CheckAsync(reference.Data, cancellationToken);
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
            ReferenceFit = fit,
            Status = GenerationTaskStatus.Queued,
            CreatedAt = now,
            Source = request.Source,
            BatchId = batchId,
            BatchIndex = index,
            BatchKey = request.BatchKey,
            ComparisonId = comparisonId,
            WebhookUrl = request.WebhookUrl,
            WebhookFormat = request.WebhookFormat,
            Origin = origin.Current,
            CreditsReserved = quote.Total,
        };
        if (!decision.Allowed)
        {
            task.Status = GenerationTaskStatus.Blocked;
            task.CreditsReserved = 0;
            task.FinishedAt = now;
            task.ErrorCode = TaskErrors.ModerationBlocked().Code;
            task.ErrorMessage = TaskErrors.ModerationBlocked().Message;
            logger.LogInformation("Task {TaskId} blocked by moderation: {Rules}", task.Id, string.Join(", ", decision.MatchedRules));
        }
        return new PreparedTask(task, reference, decisions);
    }

    /// <summary>
    /// Stores the blocked items with their decisions, for the admin's moderation review; the rest of the batch is not
    /// submitted. The id of <paramref name="first"/>'s refusing decision (the one its user may ask to have reviewed); null
    /// (nothing stored) when the account is disabled or gone.
    /// </summary>
    private static async Task<long?> RecordBlockedAsync(BananaLabDbContext db, Guid userId, PreparedTask first,
        IReadOnlyList<PreparedTask> prepared, CancellationToken cancellationToken)
    {
        if (!await db.Users.AnyAsync(u => u.Id == userId && !u.Disabled, cancellationToken)) return null;
        var blocked = prepared.Where(p => p.Blocked).ToList();
        db.Tasks.AddRange(blocked.Select(p => p.Task));
        db.AddRange(blocked.SelectMany(p => p.Decisions));
        await db.SaveChangesAsync(cancellationToken);
        return first.Decisions.Last(d => !d.Allowed).Id;
    }

    /// <summary>
    /// Saves the reference files, then has <see cref="SubmitGroupCommit"/> reserve every item's credits and insert the
    /// tasks, their moderation decisions and the idempotency link, all or nothing, in the next group's transaction. The
    /// places in line when committed; otherwise the refusal, or the exception, with nothing written and the reference
    /// files removed again. A cancel after the commit does not undo it, so a retry with the same <c>Idempotency-Key</c>
    /// finds the task instead of charging a second one.
    /// </summary>
    private async Task<SubmissionCommit> ReserveAndInsertAsync(Guid userId, IReadOnlyList<PreparedTask> prepared,
        Guid? batchId, long? idempotencyRecordId, CancellationToken cancellationToken)
    {
        var savedReferences = new List<string>();
        try
        {
            foreach (var item in prepared)
                if (item.Reference is { } reference)
                {
                    item.Task.ReferenceImagePath = await imageStore.SaveReferenceAsync(item.Task.Id, reference.Header, reference.Data, cancellationToken);
                    savedReferences.Add(item.Task.ReferenceImagePath);
                    if (reference.Mask is { } mask)
                        savedReferences.Add(await imageStore.SaveMaskAsync(item.Task.ReferenceImagePath, mask, cancellationToken));
                }

            var committed = await groupCommit.CommitAsync(new PendingSubmission(userId, [.. prepared.Select(p => p.Task)],
                [.. prepared.SelectMany(p => p.Decisions)], idempotencyRecordId, batchId ?? prepared[0].Task.Id, cancellationToken));
            if (committed.Refused is not null) savedReferences.ForEach(imageStore.DeleteQuietly);
            return committed;
        }
        catch
        {
            savedReferences.ForEach(imageStore.DeleteQuietly);
            throw;
        }
    }

    /// <summary>
    /// A synchronous call (submit, then wait for the result in the same request): submits the batch, or attaches to the
    /// tasks of an identical earlier call that is a retry (see <see cref="IsRetryOf"/>), then waits up to
    /// <see cref="SynchronousSubmission.Wait"/> for every task to end. The tasks as they are when the wait ends; when
    /// all have ended, the call is recorded as delivered. The record lives in the database, so a retry sent to another
    /// node attaches too.
    /// </summary>
    /// <param name="alwaysBatch">Give the tasks a batch id even when there is one item.</param>
    public async Task<Outcome<SubmittedBatch>> RunBatchSynchronousAsync(Guid userId, IReadOnlyList<SubmitTaskRequest> requests,
        SynchronousSubmission submission, CancellationToken cancellationToken, bool alwaysBatch = false)
    {
        var (submitted, recordId) = await SubmitOrAttachAsync(userId, requests, submission, cancellationToken, alwaysBatch);
        if (!submitted.Succeeded) return submitted;

        var waited = System.Diagnostics.Stopwatch.StartNew();
        var views = new List<TaskView>(submitted.Value!.Tasks.Count);
        foreach (var view in submitted.Value.Tasks)
            views.Add(await reader.WaitAsync(view.Id, userId, submission.Wait - waited.Elapsed, cancellationToken) ?? view);
        // Only now has a caller the result; a wait that ended first, a dropped client or a crash leaves the record
        // undelivered, so the SDK's retry of it attaches instead of buying the images again.
        if (recordId is { } id && views.All(v => v.Task.IsTerminal)) await idempotency.MarkDeliveredAsync(id, CancellationToken.None);
        return submitted.Value with { Tasks = views };
    }

    /// <summary>Submits the batch, or finds the tasks of an identical earlier call this one is a retry of; with the call's record.</summary>
    private async Task<(Outcome<SubmittedBatch> Outcome, long? RecordId)> SubmitOrAttachAsync(Guid userId,
        IReadOnlyList<SubmitTaskRequest> requests, SynchronousSubmission submission, CancellationToken cancellationToken, bool alwaysBatch)
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
                    if (!outcome.Succeeded)
                    {
                        await idempotency.ForgetRecentAsync(fresh.RecordId, CancellationToken.None);
                        return (outcome, null);
                    }
                    await idempotency.RecordTaskAsync(fresh.RecordId, outcome.Value!.BatchId ?? outcome.Value.Tasks[0].Id, CancellationToken.None);
                    return (outcome, fresh.RecordId);
                case RecentSubmissionClaim.Existing existing:
                    var first = await FindSubmittedAsync(existing.TaskId, userId, cancellationToken);
                    if (first is not null && IsRetryOf(first, existing.Delivered, submission))
                    {
                        await idempotency.RefreshRecentAsync(existing.RecordId, CancellationToken.None);
                        logger.LogInformation("Task {TaskId}: an identical {Dialect} call was attached to it instead of charging again",
                            existing.TaskId, submission.Dialect);
                        return (first, existing.RecordId);
                    }
                    await idempotency.ForgetRecentAsync(existing.RecordId, cancellationToken);
                    break;
                default:
                    // The identical call is between its claim and its insert (milliseconds): wait for its task.
                    await Task.Delay(TimeSpan.FromMilliseconds(50), clock, cancellationToken);
                    break;
            }
        }
        return (await SubmitBatchAsync(userId, requests, cancellationToken, alwaysBatch), null);
    }

    /// <summary>
    /// Whether an identical call is a retry of the earlier one: while its tasks still run, yes. Once they succeeded, only
    /// if no call has received them yet (<paramref name="delivered"/>: the earlier call's wait ended first and it answered
    /// "still generating", or its client dropped; the .NET OpenAI SDK retries such 504s without marking them), or the
    /// client marks it as a retry. Otherwise the caller asks for the same thing again on purpose and gets a new task. A
    /// failed one was refunded, so a retry of it is a new try.
    /// </summary>
    private static bool IsRetryOf(SubmittedBatch first, bool delivered, SynchronousSubmission submission)
    {
        if (first.Tasks.Any(t => !t.Task.IsTerminal)) return true;
        if (first.Tasks.Any(t => t.Task.Status != GenerationTaskStatus.Succeeded)) return false;
        return submission.MarkedRetry || !delivered;
    }

    /// <summary>What an earlier synchronous call submitted: one task by its id, or a batch by the batch id.</summary>
    private async Task<SubmittedBatch?> FindSubmittedAsync(Guid id, Guid userId, CancellationToken cancellationToken)
    {
        if (await reader.GetAsync(id, userId, cancellationToken) is { } view) return new SubmittedBatch(view.Task.BatchId, [view]);
        var batch = await reader.GetBatchAsync(id, userId, cancellationToken);
        return batch is null ? null : new SubmittedBatch(id, batch.Select(t => new TaskView(t, 0)).ToList());
    }
}
