using System.Security.Claims;
using BananaLab.Core.Errors;
using BananaLab.Core.Tasks;
using BananaLab.Core.Users;
using BananaLab.Web.Api.Errors;
using BananaLab.Web.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BananaLab.Web.Api.Keys;

public sealed record ApiKeyResponse(Guid Id, string Name, string Prefix, DateTime CreatedAt, DateTime? LastUsedAt, DateTime? RevokedAt)
{
    public static ApiKeyResponse From(ApiKey k) => new(k.Id, k.Name, k.Prefix, k.CreatedAt, k.LastUsedAt, k.RevokedAt);
}

/// <summary>The key itself appears only in this response.</summary>
public sealed record CreatedApiKeyResponse(Guid Id, string Name, string Prefix, string Key, DateTime CreatedAt);

public sealed record CreateApiKeyBody(string? Name);

/// <summary>The caller's API keys: create (shown once), list, revoke.</summary>
public static class KeysApi
{
    public static IEndpointRouteBuilder MapKeysApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/keys").RequireAuthorization().WithTags("API keys");
        group.MapGet("/", ListKeys);
        group.MapPost("/", CreateKey).ProducesErrors(ErrorKind.InvalidRequest, ErrorKind.UnsupportedMediaType, ErrorKind.TooLarge);
        group.MapDelete("/{id:guid}", RevokeKey).ProducesErrors(ErrorKind.NotFound);
        return routes;
    }

    /// <summary>The caller's keys (revoked ones too), by prefix: the secret itself is never shown again.</summary>
    public static async Task<Ok<ApiKeyResponse[]>> ListKeys(ClaimsPrincipal caller, ApiKeyService keys, CancellationToken cancellationToken) =>
        TypedResults.Ok((await keys.ListAsync(caller.UserId(), cancellationToken)).Select(ApiKeyResponse.From).ToArray());

    /// <summary>Creates a key named <c>name</c> (up to 100 characters): 201 with the key, shown this once.</summary>
    public static async Task<Results<Created<CreatedApiKeyResponse>, ProblemHttpResult>> CreateKey(CreateApiKeyBody? body, ClaimsPrincipal caller,
        ApiKeyService keys, CancellationToken cancellationToken)
    {
        var name = body?.Name?.Trim();
        if (name?.Length > 100) return ApiProblems.From(TaskErrors.InvalidRequest("The key name is longer than 100 characters.", "name"));
        var created = await keys.CreateAsync(caller.UserId(), string.IsNullOrEmpty(name) ? "API key" : name, cancellationToken);
        return TypedResults.Created($"/api/v1/keys/{created.Key.Id}",
            new CreatedApiKeyResponse(created.Key.Id, created.Key.Name, created.Key.Prefix, created.Secret, created.Key.CreatedAt));
    }

    /// <summary>Revokes one of the caller's keys, with every session and hub connection made from it: 204.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeKey(Guid id, ClaimsPrincipal caller, ApiKeyService keys,
        CancellationToken cancellationToken) =>
        await keys.RevokeAsync(caller.UserId(), id, cancellationToken)
            ? TypedResults.NoContent()
            : ApiProblems.From(new TaskError(ErrorTypes.KeyNotFound, "There is no such active API key."));
}
