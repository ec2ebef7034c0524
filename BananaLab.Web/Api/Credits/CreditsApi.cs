using System.Security.Claims;
using BananaLab.Core.Credits;
using BananaLab.Core.Errors;
using BananaLab.Core.Data;
using BananaLab.Web.Api.Errors;
using BananaLab.Web.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BananaLab.Web.Api.Credits;

public sealed record CreditEntryResponse(long Id, string Kind, int Amount, int Credits, int BalanceAfter, Guid? TaskId,
    string? Reason, DateTime CreatedAt);

public sealed record CreditsResponse(int Balance, IReadOnlyList<CreditEntryResponse> Recent);

public sealed record CreditLedgerResponse(IReadOnlyList<CreditEntryResponse> Entries, int Page, int PageSize);

public static class CreditsApi
{
    public static IEndpointRouteBuilder MapCreditsApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/credits").RequireAuthorization().WithTags("Credits");
        group.MapGet("/", GetCredits);
        group.MapGet("/ledger", GetLedger).ProducesErrors(ErrorKind.InvalidRequest);
        return routes;
    }

    /// <summary>The ledger, newest first, <paramref name="pageSize"/> entries a page.</summary>
    public static async Task<Ok<CreditLedgerResponse>> GetLedger(ClaimsPrincipal caller, CreditLedger ledger, int? page,
        int? pageSize, CancellationToken cancellationToken)
    {
        var size = Math.Clamp(pageSize ?? 50, 1, 200);
        var number = Math.Max(1, page ?? 1);
        var entries = await ledger.GetEntriesAsync(caller.UserId(), Paging.Offset(number, size), size, cancellationToken);
        return TypedResults.Ok(new CreditLedgerResponse(entries.Select(ToResponse).ToList(), number, size));
    }

    private static CreditEntryResponse ToResponse(CreditEntry e) =>
        new(e.Id, e.Kind.ToString().ToLowerInvariant(), e.Amount, e.Credits, e.BalanceAfter, e.TaskId, e.Reason, e.CreatedAt);

    /// <summary>The balance and the 50 newest ledger entries.</summary>
    public static async Task<Ok<CreditsResponse>> GetCredits(ClaimsPrincipal caller, CreditLedger ledger,
        CancellationToken cancellationToken)
    {
        var userId = caller.UserId();
        var balance = await ledger.GetBalanceAsync(userId, cancellationToken);
        var entries = await ledger.GetEntriesAsync(userId, 0, 50, cancellationToken);
        return TypedResults.Ok(new CreditsResponse(balance, entries.Select(ToResponse).ToList()));
    }
}
