using System.Security.Claims;
using BananaLab.Core.Credits;
using BananaLab.Web.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BananaLab.Web.Api.Credits;

public sealed record CreditEntryResponse(long Id, string Kind, int Amount, int Credits, int BalanceAfter, Guid? TaskId,
    string? Reason, DateTime CreatedAt);

public sealed record CreditsResponse(int Balance, IReadOnlyList<CreditEntryResponse> Recent);

public static class CreditsApi
{
    public static IEndpointRouteBuilder MapCreditsApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGroup("/api/v1").RequireAuthorization().WithTags("Credits").MapGet("/credits", GetCredits);
        return routes;
    }

    public static async Task<Ok<CreditsResponse>> GetCredits(ClaimsPrincipal caller, CreditLedger ledger,
        CancellationToken cancellationToken)
    {
        var userId = caller.UserId();
        var balance = await ledger.GetBalanceAsync(userId, cancellationToken);
        var entries = await ledger.GetEntriesAsync(userId, 0, 50, cancellationToken);
        return TypedResults.Ok(new CreditsResponse(balance, entries.Select(e => new CreditEntryResponse(e.Id,
            e.Kind.ToString().ToLowerInvariant(), e.Amount, e.Credits, e.BalanceAfter, e.TaskId, e.Reason, e.CreatedAt)).ToList()));
    }
}
