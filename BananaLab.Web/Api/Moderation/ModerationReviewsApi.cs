using System.Security.Claims;
using BananaLab.Core.Errors;
using BananaLab.Core.Moderation;
using BananaLab.Core.Tasks;
using BananaLab.Web.Api.Errors;
using BananaLab.Web.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BananaLab.Web.Api.Moderation;

/// <summary>Asks for a review of a refused prompt: <c>decisionId</c> as the <c>moderation_blocked</c> answer carried it.</summary>
public sealed record ReviewRequestBody(long? DecisionId);

/// <summary>The request, recorded; it says nothing about why the prompt was refused.</summary>
public sealed record ReviewRequestResponse(long DecisionId, string Status, DateTime RequestedAt);

/// <summary>
/// The native API's side of the moderation review loop: a refused caller asks an admin to look again, once per
/// refusal. Admins mark it under <c>/api/v1/admin/moderation</c>.
/// </summary>
public static class ModerationReviewsApi
{
    public static IEndpointRouteBuilder MapModerationReviewsApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/moderation").RequireAuthorization().WithTags("Moderation");
        group.MapPost("/reviews", RequestReview)
            .ProducesErrors(ErrorKind.InvalidRequest, ErrorKind.InvalidField, ErrorKind.NotFound, ErrorKind.Conflict, ErrorKind.UnsupportedMediaType,
                ErrorKind.TooLarge);
        return routes;
    }

    /// <summary>
    /// 201 when asked. Errors: <c>decision_not_found</c> (404) when the caller has no refusal with that id (someone else's
    /// included); <c>review_already_requested</c> (409) the second time.
    /// </summary>
    public static async Task<Results<Created<ReviewRequestResponse>, ProblemHttpResult>> RequestReview(ReviewRequestBody body, ClaimsPrincipal caller,
        ModerationReviews reviews, CancellationToken cancellationToken)
    {
        if (body.DecisionId is not { } decisionId)
            return ApiProblems.From(TaskErrors.InvalidRequest("Send the decisionId of the refused prompt; the moderation_blocked answer carries it.", "decisionId"));
        var requested = await reviews.RequestAsync(caller.UserId(), decisionId, cancellationToken);
        if (!requested.Succeeded) return ApiProblems.From(requested.Error!);
        return TypedResults.Created((string?)null,
            new ReviewRequestResponse(decisionId, "requested", requested.Value!.ReviewRequestedAt!.Value));
    }

    /// <summary>
    /// The members a native <c>moderation_blocked</c> answer adds, so its caller can ask for a review: <c>decisionId</c>.
    /// Other dialects keep their envelopes as they are.
    /// </summary>
    public static IReadOnlyDictionary<string, object?>? ReviewMembers(TaskError error) =>
        error.ModerationDecisionId is { } id ? new Dictionary<string, object?> { ["decisionId"] = id } : null;
}
