using BananaLab.Core.Data;
using BananaLab.Core.Errors;
using BananaLab.Core.Tasks;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Core.Moderation;

/// <summary>
/// The review loop over the moderation log: a refused user asks for a review (once per decision), an admin marks a
/// decision correct or wrong, and the marked prompt decisions export as a labelled corpus (<see cref="LabelledPromptExport"/>)
/// to retrain the classifier on. Users only ever see the neutral message; categories and rules stay with the admins.
/// </summary>
public sealed class ModerationReviews(IDbContextFactory<BananaLabDbContext> dbFactory, IPromptModerator moderator, TimeProvider clock)
{
    public const int MaxNoteLength = 500;

    /// <summary>What "should have blocked" may name: the blocking categories, the minors rule's, and <c>other</c>.</summary>
    public static readonly string[] Categories = [.. ModerationRuleSet.BlockingCategories, ModerationRuleSet.MinorsSexual, LabelledPromptExport.OtherCategory];

    /// <summary>
    /// <paramref name="userId"/> asks for a review of one of their refusals. Errors: <c>decision_not_found</c> when there is
    /// no refusal of theirs with that id (someone else's and allowed ones included, so nothing leaks);
    /// <c>review_already_requested</c> when they asked before.
    /// </summary>
    public async Task<Outcome<ModerationDecisionRecord>> RequestAsync(Guid userId, long decisionId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var decisions = db.Set<ModerationDecisionRecord>().Where(r => r.Id == decisionId && r.UserId == userId && !r.Allowed);
        // One guarded update: of two racing clicks, one asks and the other is told it already did.
        if (await decisions.Where(r => r.ReviewRequestedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.ReviewRequestedAt, now), cancellationToken) == 0)
            return await decisions.AnyAsync(cancellationToken)
                ? new TaskError(ErrorTypes.ReviewAlreadyRequested, "You already asked for a review of this; an admin will look at it.")
                : new TaskError(ErrorTypes.DecisionNotFound, "There is no refused prompt of yours with this id.");
        return await decisions.AsNoTracking().SingleAsync(cancellationToken);
    }

    /// <summary>
    /// The studio's one click under a refused prompt, which it screened live without making a task: screens it again and
    /// stores the refusal with the request (and the prompt as typed, for the export). Asking again about the same prompt
    /// while the first request is open returns that one. Null when the prompt passes now: there is nothing to review.
    /// Errors: <c>prompt_required</c>, <c>prompt_too_long</c>.
    /// </summary>
    public async Task<Outcome<ModerationDecisionRecord?>> RequestForPromptAsync(Guid userId, string? prompt, string? negativePrompt,
        CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(prompt)) return TaskErrors.PromptRequired();
        if (prompt.Length > SubmissionValidator.MaxPromptLength || negativePrompt?.Length > SubmissionValidator.MaxPromptLength)
            return TaskErrors.PromptTooLong(SubmissionValidator.MaxPromptLength);
        var decision = await moderator.ScreenAsync(new ModerationRequest(userId, prompt, negativePrompt), cancellationToken);
        if (decision.Allowed) return new Outcome<ModerationDecisionRecord?>(null, null);

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var open = await db.Set<ModerationDecisionRecord>().AsNoTracking()
            .Where(r => r.UserId == userId && r.Prompt == prompt && r.ReviewRequestedAt != null && r.ReviewVerdict == null)
            .OrderByDescending(r => r.Id).FirstOrDefaultAsync(cancellationToken);
        if (open is not null) return open;

        var now = clock.GetUtcNow().UtcDateTime;
        var record = ModerationDecisionRecord.From(decision, userId, taskId: null, "prompt", "studio", now);
        record.Prompt = prompt;
        record.ReviewRequestedAt = now;
        db.Add(record);
        await db.SaveChangesAsync(cancellationToken);
        return record;
    }

    /// <summary>
    /// An admin marks a decision (or changes an earlier mark); who and when are recorded. <paramref name="category"/> is for
    /// "should have blocked" only (one of <see cref="Categories"/>; <c>other</c> when none). Errors: <c>decision_not_found</c>;
    /// <c>invalid_review</c> for a verdict that contradicts the decision, a category with another verdict or outside the
    /// list, or a note over <see cref="MaxNoteLength"/> characters. Nothing changes on an error.
    /// </summary>
    public async Task<Outcome<ModerationDecisionRecord>> MarkAsync(long decisionId, ModerationReviewVerdict verdict, string? category,
        string? note, Guid reviewerId, CancellationToken cancellationToken)
    {
        category = string.IsNullOrWhiteSpace(category) ? null : category.Trim();
        note = string.IsNullOrWhiteSpace(note) ? null : note.Trim();
        if (note?.Length > MaxNoteLength) return Invalid("note", $"The note is longer than {MaxNoteLength} characters.");
        if (category is not null && verdict != ModerationReviewVerdict.ShouldHaveBlocked)
            return Invalid("category", "A category is chosen only for 'should have blocked'; the decision's own category is kept otherwise.");
        if (category is not null && !Categories.Contains(category))
            return Invalid("category", $"Unknown category '{category}'; use one of {string.Join(", ", Categories)}.");

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var record = await db.Set<ModerationDecisionRecord>().SingleOrDefaultAsync(r => r.Id == decisionId, cancellationToken);
        if (record is null) return new TaskError(ErrorTypes.DecisionNotFound, "There is no moderation decision with this id.");
        if (verdict == ModerationReviewVerdict.ShouldHavePassed && record.Allowed)
            return Invalid("verdict", "This decision allowed the prompt; mark it 'correct' or 'should have blocked'.");
        if (verdict == ModerationReviewVerdict.ShouldHaveBlocked && !record.Allowed)
            return Invalid("verdict", "This decision blocked the prompt; mark it 'correct' or 'should have passed'.");

        record.ReviewVerdict = verdict;
        record.ReviewCategory = verdict == ModerationReviewVerdict.ShouldHaveBlocked ? category ?? LabelledPromptExport.OtherCategory : null;
        record.ReviewNote = note;
        record.ReviewedBy = reviewerId;
        record.ReviewedAt = clock.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(cancellationToken);
        return record;
    }

    /// <summary>Review requests no admin has marked yet: the moderation page's badge.</summary>
    public async Task<int> OpenRequestCountAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Set<ModerationDecisionRecord>().InReviewState(ModerationReviewState.Requested).CountAsync(cancellationToken);
    }

    /// <summary>
    /// Every marked prompt decision as a labelled row of the corpus format, oldest decision first; a prompt marked more than
    /// once (asked twice, say) appears once, with its latest mark. The prompt is the task's, or the studio request's as typed.
    /// </summary>
    public async Task<IReadOnlyList<LabelledPrompt>> LabelledPromptsAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var marked = await (
                from d in db.Set<ModerationDecisionRecord>().AsNoTracking()
                where d.Subject == "prompt" && d.ReviewVerdict != null
                join t in db.Tasks.AsNoTracking() on d.TaskId equals t.Id into tasks
                from t in tasks.DefaultIfEmpty()
                select new { d.Id, d.Allowed, d.Categories, d.ReviewVerdict, d.ReviewCategory, d.ReviewedAt, Prompt = t == null ? d.Prompt : t.Prompt })
            .ToListAsync(cancellationToken);
        return marked
            .Where(m => !string.IsNullOrWhiteSpace(m.Prompt))
            .Select(m => (m.Id, m.ReviewedAt, Row: LabelledPromptExport.Label(m.Prompt!, m.Allowed, m.Categories, m.ReviewVerdict!.Value, m.ReviewCategory)))
            .GroupBy(m => m.Row.Prompt, StringComparer.Ordinal)
            .Select(g => g.OrderByDescending(m => m.ReviewedAt).ThenByDescending(m => m.Id).First())
            .OrderBy(m => m.Id)
            .Select(m => m.Row)
            .ToList();
    }

    private static TaskError Invalid(string field, string message) => new(ErrorTypes.InvalidReview, message) { Field = field };
}

/// <summary>The names the API and the pages use for verdicts and review states.</summary>
public static class ModerationReviewNames
{
    public static readonly IReadOnlyDictionary<string, ModerationReviewVerdict> Verdicts = new Dictionary<string, ModerationReviewVerdict>
    {
        ["correct"] = ModerationReviewVerdict.Correct,
        ["should_have_passed"] = ModerationReviewVerdict.ShouldHavePassed,
        ["should_have_blocked"] = ModerationReviewVerdict.ShouldHaveBlocked,
    };

    public static readonly IReadOnlyDictionary<string, ModerationReviewState> States = new Dictionary<string, ModerationReviewState>
    {
        ["unreviewed"] = ModerationReviewState.Unreviewed,
        ["requested"] = ModerationReviewState.Requested,
        ["wrong"] = ModerationReviewState.MarkedWrong,
        ["correct"] = ModerationReviewState.MarkedCorrect,
    };

    public static string Name(ModerationReviewVerdict verdict) => Verdicts.First(v => v.Value == verdict).Key;
}

public static class ModerationReviewQueries
{
    /// <summary>Narrows decisions to one review state (<see cref="ModerationReviewState"/>); null keeps them all.</summary>
    public static IQueryable<ModerationDecisionRecord> InReviewState(this IQueryable<ModerationDecisionRecord> decisions, ModerationReviewState? state) =>
        state switch
        {
            ModerationReviewState.Unreviewed => decisions.Where(r => r.ReviewVerdict == null && r.ReviewRequestedAt == null),
            ModerationReviewState.Requested => decisions.Where(r => r.ReviewVerdict == null && r.ReviewRequestedAt != null),
            ModerationReviewState.MarkedWrong => decisions.Where(r =>
                r.ReviewVerdict == ModerationReviewVerdict.ShouldHavePassed || r.ReviewVerdict == ModerationReviewVerdict.ShouldHaveBlocked),
            ModerationReviewState.MarkedCorrect => decisions.Where(r => r.ReviewVerdict == ModerationReviewVerdict.Correct),
            _ => decisions,
        };
}
