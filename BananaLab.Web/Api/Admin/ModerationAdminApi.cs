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
        var group = routes.MapGroup("/api/v1/admin/moderation").RequireAuthorization(AdminPolicy.Name).WithTags("Admin: moderation");
        group.MapGet("/decisions", ListDecisions);
        group.MapGet("/tasks/{id:guid}", TaskDecisions);
        group.MapGet("/terms", ListTerms);
        group.MapPost("/terms", AddTerm);
        group.MapDelete("/terms/{id:long}", WithdrawTerm);
        return routes;
    }

    public static async Task<Ok<ModerationDecisionPage>> ListDecisions(ModerationLog log, bool? blocked, int? page, int? pageSize,
        CancellationToken cancellationToken)
    {
        var size = Math.Clamp(pageSize ?? 50, 1, 200);
        var (items, total) = await log.ListAsync(blocked ?? false, page ?? 1, size, cancellationToken);
        return TypedResults.Ok(new ModerationDecisionPage(items.Select(ModerationDecisionResponse.From).ToList(), total, Math.Max(1, page ?? 1), size));
    }

    public static async Task<Ok<ModerationDecisionResponse[]>> TaskDecisions(Guid id, ModerationLog log, CancellationToken cancellationToken) =>
        TypedResults.Ok((await log.ForTaskAsync(id, cancellationToken)).Select(ModerationDecisionResponse.From).ToArray());

    public static async Task<Ok<ModerationTerm[]>> ListTerms(ModerationTermsService terms, CancellationToken cancellationToken) =>
        TypedResults.Ok((await terms.ListAsync(cancellationToken)).ToArray());

    public static async Task<IResult> AddTerm(ModerationTermBody body, ClaimsPrincipal caller, ModerationTermsService terms,
        CancellationToken cancellationToken)
    {
        var error = await terms.AddAsync(body.Category ?? "custom", body.Term ?? "", body.Blocks ?? true, body.Reason ?? "", caller.UserId(), cancellationToken);
        return error is null ? TypedResults.NoContent() : ApiProblems.From(new TaskError(ErrorTypes.InvalidTerm, error));
    }

    public static async Task<IResult> WithdrawTerm(long id, ModerationTermsService terms, CancellationToken cancellationToken) =>
        await terms.WithdrawAsync(id, cancellationToken)
            ? TypedResults.NoContent()
            : ApiProblems.From(new TaskError(ErrorTypes.TermNotFound, "There is no such active term."));
}
