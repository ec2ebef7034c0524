using System.Security.Claims;
using BananaLab.Core.Errors;
using BananaLab.Core.Moderation;
using BananaLab.Core.Tasks;
using BananaLab.Web.Api.Errors;
using BananaLab.Web.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BananaLab.Web.Api.Admin;

public sealed record ModerationDecisionResponse(long Id, Guid UserId, Guid? TaskId, string Subject, bool Allowed, string[] Categories,
    string[] MatchedRules, string? NormalizedText, string? Note, long LatencyMicroseconds, string Source, DateTime CreatedAt)
{
    public static ModerationDecisionResponse From(ModerationDecisionRecord r) => new(r.Id, r.UserId, r.TaskId, r.Subject, r.Allowed,
        Split(r.Categories), Split(r.MatchedRules), r.NormalizedText, r.Note, r.LatencyMicroseconds, r.Source, r.CreatedAt);

    private static string[] Split(string value) => value.Length == 0 ? [] : value.Split(',');
}

public sealed record ModerationDecisionPage(IReadOnlyList<ModerationDecisionResponse> Items, int Total, int Page, int PageSize);

public sealed record ModerationTermBody(string? Category, string? Term, bool? Blocks, string? Reason);

/// <summary>Admins only: the moderation audit trail and the admin term list (changes apply without a restart).</summary>
public static class ModerationAdminApi
{
    public static IEndpointRouteBuilder MapModerationAdminApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/admin/moderation").RequireAuthorization(AdminPolicy.Name).WithTags("Admin: moderation")
            .ProducesErrors(ErrorKind.Forbidden);
        group.MapGet("/decisions", ListDecisions).ProducesErrors(ErrorKind.InvalidRequest);
        group.MapGet("/tasks/{id:guid}", TaskDecisions);
        group.MapGet("/terms", ListTerms);
        group.MapPost("/terms", AddTerm).ProducesErrors(ErrorKind.InvalidRequest, ErrorKind.InvalidField, ErrorKind.UnsupportedMediaType, ErrorKind.TooLarge);
        group.MapDelete("/terms/{id:long}", WithdrawTerm).ProducesErrors(ErrorKind.NotFound);
        return routes;
    }

    /// <summary>Screening decisions, newest first (only refusals with <c>blocked=true</c>), a page at a time.</summary>
    public static async Task<Ok<ModerationDecisionPage>> ListDecisions(ModerationLog log, bool? blocked, int? page, int? pageSize,
        CancellationToken cancellationToken)
    {
        var size = Math.Clamp(pageSize ?? 50, 1, 200);
        var (items, total) = await log.ListAsync(blocked ?? false, page ?? 1, size, cancellationToken);
        return TypedResults.Ok(new ModerationDecisionPage(items.Select(ModerationDecisionResponse.From).ToList(), total, Math.Max(1, page ?? 1), size));
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
