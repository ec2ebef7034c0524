using System.Security.Claims;
using System.Text.Encodings.Web;
using BananaLab.Core.Errors;
using BananaLab.Core.Tasks;
using BananaLab.Core.Users;
using BananaLab.Web.Api.Errors;
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
        Response.Headers.WWWAuthenticate = "Bearer";
        await ApiErrorWriter.For(Context).Write(new TaskError(ErrorTypes.Unauthorized, "Send a valid API key as 'Authorization: Bearer <key>'."), Context)
            .ExecuteAsync(Context);
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        await ApiErrorWriter.For(Context).Write(new TaskError(ErrorTypes.Forbidden, "This API key may not do that."), Context).ExecuteAsync(Context);
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
    public const string RequestScheme = "BananaLab";

    /// <summary>
    /// Two ways in: API clients send a key (<c>Authorization: Bearer</c>), the studio signs in with a cookie.
    /// Requests are authenticated by whichever they carry; every API endpoint then insists on the key
    /// (the default policy), so a browser's cookie can never be used to call the API across sites, and
    /// the studio pages insist on the cookie (<see cref="StudioPolicies"/>).
    /// </summary>
    public static IHostApplicationBuilder AddBananaLabAuth(this IHostApplicationBuilder builder)
    {
        builder.Services.AddAuthentication(RequestScheme)
            .AddPolicyScheme(RequestScheme, "API key or studio cookie", options => options.ForwardDefaultSelector = context =>
                context.Request.Headers.Authorization.Count > 0 ||
                (context.Request.Path.StartsWithSegments("/hubs") && context.Request.Query.ContainsKey("access_token"))
                    ? ApiKeyAuthenticationHandler.SchemeName
                    : Microsoft.AspNetCore.Identity.IdentityConstants.ApplicationScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorization(options =>
        {
            options.DefaultPolicy = new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder(ApiKeyAuthenticationHandler.SchemeName)
                .RequireAuthenticatedUser().Build();
            options.AddPolicy(AdminPolicy.Name, policy => policy.AddAuthenticationSchemes(ApiKeyAuthenticationHandler.SchemeName)
                .RequireAuthenticatedUser().RequireRole(nameof(UserRole.Admin)));
            options.AddPolicy(StudioPolicies.Member, policy => policy.AddAuthenticationSchemes(Microsoft.AspNetCore.Identity.IdentityConstants.ApplicationScheme)
                .RequireAuthenticatedUser());
            options.AddPolicy(StudioPolicies.Admin, policy => policy.AddAuthenticationSchemes(Microsoft.AspNetCore.Identity.IdentityConstants.ApplicationScheme)
                .RequireAuthenticatedUser().RequireRole(nameof(UserRole.Admin)));
        });
        return builder;
    }
}

/// <summary>Every API dialect is mapped inside this group, so none can forget that a caller is its API key.</summary>
public static class KeyOnlyApi
{
    /// <summary>
    /// A group whose endpoints evaluate the key-only default policy: the caller becomes the API key's user or
    /// nobody, never the studio cookie's. Dialects that answer a missing key in their own envelope stay
    /// <c>AllowAnonymous</c>; the policy still replaces the caller before their handler runs. Every endpoint of the group
    /// can answer 401 and 429, each in its dialect's envelope.
    /// </summary>
    public static RouteGroupBuilder MapKeyOnlyApi(this IEndpointRouteBuilder routes) =>
        routes.MapGroup("").RequireAuthorization().ProducesErrors(ErrorKind.Unauthorized, ErrorKind.RateLimited);
}

/// <summary>Studio pages: signed in with the cookie; admin pages also need the Admin role.</summary>
public static class StudioPolicies
{
    public const string Member = "StudioMember";
    public const string Admin = "StudioAdmin";
}

/// <summary>Admin pages and admin API: the Admin role only.</summary>
public static class AdminPolicy
{
    public const string Name = "Admin";
}
