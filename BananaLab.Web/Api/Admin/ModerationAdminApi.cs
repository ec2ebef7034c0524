using System.Security.Claims;
using BananaLab.Core.Errors;
using BananaLab.Core.Moderation;
using BananaLab.Core.Tasks;
using BananaLab.Web.Api.Errors;
using BananaLab.Web.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BananaLab.Web.Api.Admin;

/// <summary>A screening decision as admins read it, with its review: requested when, the verdict (<c>correct</c>,
/// <c>should_have_passed</c>, <c>should_have_blocked</c>), its category and note, who marked it and when.</summary>
public sealed record ModerationDecisionResponse(long Id, Guid UserId, Guid? TaskId, string Subject, bool Allowed, string[] Categories,
    string[] MatchedRules, string? NormalizedText, string? Note, long LatencyMicroseconds, string Source, DateTime CreatedAt,
    DateTime? ReviewRequestedAt, string? ReviewVerdict, string? ReviewCategory, string? ReviewNote, Guid? ReviewedBy, DateTime? ReviewedAt)
{
    public static ModerationDecisionResponse From(ModerationDecisionRecord r) => new(r.Id, r.UserId, r.TaskId, r.Subject, r.Allowed,
        Split(r.Categories), Split(r.MatchedRules), r.NormalizedText, r.Note, r.LatencyMicroseconds, r.Source, r.CreatedAt,
        r.ReviewRequestedAt, r.ReviewVerdict is { } verdict ? ModerationReviewNames.Name(verdict) : null, r.ReviewCategory, r.ReviewNote,
        r.ReviewedBy, r.ReviewedAt);

    private static string[] Split(string value) => value.Length == 0 ? [] : value.Split(',');
}

public sealed record ModerationDecisionPage(IReadOnlyList<ModerationDecisionResponse> Items, int Total, int Page, int PageSize);

public sealed record ModerationTermBody(string? Category, string? Term, bool? Blocks, string? Reason);

/// <summary>A mark: <c>verdict</c> (<c>correct</c>, <c>should_have_passed</c>, <c>should_have_blocked</c>), the category for
/// <c>should_have_blocked</c> (optional, <c>other</c> when none), an optional note (≤ 500 characters).</summary>
public sealed record ModerationReviewBody(string? Verdict, string? Category, string? Note);

/// <summary>Admins only: the moderation audit trail and the admin term list (changes apply without a restart).</summary>
public static class ModerationAdminApi
{
    public static IEndpointRouteBuilder MapModerationAdminApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/admin/moderation").RequireAuthorization(AdminPolicy.Name).WithTags("Admin: moderation")
            .ProducesErrors(ErrorKind.Forbidden);
        group.MapGet("/decisions", ListDecisions).ProducesErrors(ErrorKind.InvalidRequest);
        group.MapPut("/decisions/{id:long}/review", MarkDecision)
            .ProducesErrors(ErrorKind.InvalidRequest, ErrorKind.InvalidField, ErrorKind.NotFound, ErrorKind.UnsupportedMediaType, ErrorKind.TooLarge);
        group.MapGet("/reviews.tsv", ExportReviews).Produces<string>(StatusCodes.Status200OK, LabelledTsvType);
        group.MapGet("/tasks/{id:guid}", TaskDecisions);
        group.MapGet("/terms", ListTerms);
        group.MapPost("/terms", AddTerm).ProducesErrors(ErrorKind.InvalidRequest, ErrorKind.InvalidField, ErrorKind.UnsupportedMediaType, ErrorKind.TooLarge);
        group.MapDelete("/terms/{id:long}", WithdrawTerm).ProducesErrors(ErrorKind.NotFound);
        return routes;
    }

    public const string LabelledTsvType = "text/tab-separated-values";

    /// <summary>
    /// Screening decisions, newest first (only refusals with <c>blocked=true</c>; one review state with <c>review</c>:
    /// <c>unreviewed</c>, <c>requested</c>, <c>wrong</c>, <c>correct</c>), a page at a time.
    /// </summary>
    public static async Task<Results<Ok<ModerationDecisionPage>, ProblemHttpResult>> ListDecisions(ModerationLog log, bool? blocked,
        string? review, int? page, int? pageSize, CancellationToken cancellationToken)
    {
        ModerationReviewState? state = null;
        if (!string.IsNullOrEmpty(review))
        {
            if (!ModerationReviewNames.States.TryGetValue(review, out var parsed))
                return ApiProblems.From(TaskErrors.InvalidRequest(
                    $"'{review}' is not a review state; use {string.Join(", ", ModerationReviewNames.States.Keys)}.", "review"));
            state = parsed;
        }
        var size = Math.Clamp(pageSize ?? 50, 1, 200);
        var (items, total) = await log.ListAsync(blocked ?? false, page ?? 1, size, cancellationToken, state);
        return TypedResults.Ok(new ModerationDecisionPage(items.Select(ModerationDecisionResponse.From).ToList(), total, Math.Max(1, page ?? 1), size));
    }

    /// <summary>Marks a decision (or changes its mark), recording the admin and the time; 200 with the decision.</summary>
    public static async Task<Results<Ok<ModerationDecisionResponse>, ProblemHttpResult>> MarkDecision(long id, ModerationReviewBody body,
        ClaimsPrincipal caller, ModerationReviews reviews, CancellationToken cancellationToken)
    {
        if (body.Verdict is null || !ModerationReviewNames.Verdicts.TryGetValue(body.Verdict, out var verdict))
            return ApiProblems.From(new TaskError(ErrorTypes.InvalidReview,
                $"Send a verdict: {string.Join(", ", ModerationReviewNames.Verdicts.Keys)}.") { Field = "verdict" });
        var marked = await reviews.MarkAsync(id, verdict, body.Category, body.Note, caller.UserId(), cancellationToken);
        return marked.Succeeded ? TypedResults.Ok(ModerationDecisionResponse.From(marked.Value!)) : ApiProblems.From(marked.Error!);
    }

    /// <summary>
    /// Every reviewed prompt decision as labelled TSV in the corpus format of <c>tools/moderation-eval/corpus.tsv</c>
    /// (<c>label	category	lang	prompt</c>), ready for <c>sh tools/moderation-classifier/train.sh export.tsv</c>.
    /// </summary>
    public static async Task ExportReviews(HttpContext context, ModerationReviews reviews, CancellationToken cancellationToken)
    {
        var rows = await reviews.LabelledPromptsAsync(cancellationToken);
        context.Response.ContentType = LabelledTsvType + "; charset=utf-8";
        context.Response.Headers.ContentDisposition = "attachment; filename=\"moderation-reviews.tsv\"";
        await using var writer = new StreamWriter(context.Response.Body, new System.Text.UTF8Encoding(false));
        await LabelledPromptExport.WriteTsvAsync(rows, writer, cancellationToken);
    }

    /// <summary>Every screening of one task: its prompt, reference image and outputs.</summary>
    public static async Task<Ok<ModerationDecisionResponse[]>> TaskDecisions(Guid id, ModerationLog log, CancellationToken cancellationToken) =>
        TypedResults.Ok((await log.ForTaskAsync(id, cancellationToken)).Select(ModerationDecisionResponse.From).ToArray());

    /// <summary>The terms admins added or switched off, withdrawn ones included.</summary>
    public static async Task<Ok<ModerationTerm[]>> ListTerms(ModerationTermsService terms, CancellationToken cancellationToken) =>
        TypedResults.Ok((await terms.ListAsync(cancellationToken)).ToArray());

    /// <summary>Adds a blocking term (or switches a built-in one off, <c>blocks</c> false) with a reason; effective at once.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> AddTerm(ModerationTermBody body, ClaimsPrincipal caller,
        ModerationTermsService terms, CancellationToken cancellationToken)
    {
        var error = await terms.AddAsync(body.Category ?? "custom", body.Term ?? "", body.Blocks ?? true, body.Reason ?? "", caller.UserId(), cancellationToken);
        return error is null ? TypedResults.NoContent() : ApiProblems.From(new TaskError(ErrorTypes.InvalidTerm, error));
    }

    /// <summary>Withdraws an admin term; it stays in the list for the audit trail.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> WithdrawTerm(long id, ModerationTermsService terms,
        CancellationToken cancellationToken) =>
        await terms.WithdrawAsync(id, cancellationToken)
            ? TypedResults.NoContent()
            : ApiProblems.From(new TaskError(ErrorTypes.TermNotFound, "There is no such active term."));
}
