using System.Security.Claims;
using System.Text.Encodings.Web;
using BananaLab.Core.Users;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace BananaLab.Web.Auth;

/// <summary>Authenticates <c>Authorization: Bearer &lt;api key&gt;</c> against the stored key hashes.</summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyService apiKeys) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        string? secret = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..] : null;
        // Browsers cannot set headers on WebSockets, so SignalR sends the key as a query parameter.
        if (secret is null && Request.Path.StartsWithSegments("/hubs")) secret = Request.Query["access_token"];
        if (string.IsNullOrEmpty(secret)) return AuthenticateResult.NoResult();
        var authenticated = await apiKeys.AuthenticateAsync(secret, Context.RequestAborted);
        if (authenticated is null) return AuthenticateResult.Fail("The API key is unknown, revoked or belongs to a disabled account.");
        var principal = CallerPrincipal.Create(authenticated.User, SchemeName);
        ((ClaimsIdentity)principal.Identity!).AddClaim(new Claim(CallerPrincipal.KeyIdClaim, authenticated.Key.Id.ToString()));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        await Results.Problem(statusCode: 401, title: "Unauthorized",
            detail: "Send a valid API key as 'Authorization: Bearer <key>'.",
            extensions: new Dictionary<string, object?> { ["code"] = "unauthorized" }).ExecuteAsync(Context);
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        await Results.Problem(statusCode: 403, title: "Forbidden", detail: "This API key may not do that.",
            extensions: new Dictionary<string, object?> { ["code"] = "forbidden" }).ExecuteAsync(Context);
    }
}

public static class CallerPrincipal
{
    /// <summary>The API key a request was made with (rate limits are per key).</summary>
    public const string KeyIdClaim = "bananalab:key_id";

    public static ClaimsPrincipal Create(User user, string scheme) => new(new ClaimsIdentity(
    [
        new Claim(ClaimTypes.NameIdentifier, user.Id.ToString()),
        new Claim(ClaimTypes.Email, user.Email),
        new Claim(ClaimTypes.Name, user.DisplayName),
        new Claim(ClaimTypes.Role, user.Role.ToString()),
    ], scheme));

    public static Guid UserId(this ClaimsPrincipal principal) =>
        Guid.Parse(principal.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("Not signed in."));

    public static bool IsAdmin(this ClaimsPrincipal principal) => principal.IsInRole(nameof(UserRole.Admin));
}

public static class AuthServiceCollectionExtensions
{
    public static IHostApplicationBuilder AddBananaLabAuth(this IHostApplicationBuilder builder)
    {
        builder.Services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorization(options => options.AddPolicy(AdminPolicy.Name, policy =>
            policy.RequireAuthenticatedUser().RequireRole(nameof(UserRole.Admin))));
        return builder;
    }
}

/// <summary>Admin pages and admin API: the Admin role only.</summary>
public static class AdminPolicy
{
    public const string Name = "Admin";
}
