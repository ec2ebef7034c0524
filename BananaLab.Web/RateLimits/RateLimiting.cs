using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Text.Json.Nodes;
using BananaLab.Core.Cluster;
using BananaLab.Web.Auth;
using Microsoft.Extensions.Options;

namespace BananaLab.Web.RateLimits;

public sealed class RateLimitOptions
{
    public const string Section = "RateLimits";

    public bool Enabled { get; set; } = true;

    /// <summary>Sustained requests per second for one API key (or one address, before a key is known).</summary>
    [Range(1, 100_000, ErrorMessage = "RateLimits:PermitsPerSecond must be between 1 and 100000.")]
    public int PermitsPerSecond { get; set; } = 20;

    /// <summary>How many requests a key may make at once before the sustained rate applies.</summary>
    [Range(1, 1_000_000, ErrorMessage = "RateLimits:Burst must be between 1 and 1000000.")]
    public int Burst { get; set; } = 100;

    /// <summary>Sign-in and sign-up form posts per client address per minute (password guessing).</summary>
    [Range(1, 1_000_000, ErrorMessage = "RateLimits:SignInAttemptsPerMinute must be between 1 and 1000000.")]
    public int SignInAttemptsPerMinute { get; set; } = 10;
}

/// <summary>
/// A token bucket per API key (per client address for body-authenticated dialects and the studio), and a
/// stricter bucket on the sign-in and sign-up forms per address. A refusal is a 429 with Retry-After, in
/// the envelope of the dialect that was called (a plain page for the account forms). The buckets live in
/// this process, or in Redis when the cluster has one so that every node counts against the same budget.
/// </summary>
public static class RateLimiting
{
    private static readonly string[] Exempt = ["/livez", "/readyz", "/metrics"];
    private static readonly string[] AccountForms = ["/account/login", "/account/register"];

    public static IHostApplicationBuilder AddBananaLabRateLimits(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitOptions>().Bind(builder.Configuration.GetSection(RateLimitOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        if (ClusterOptions.UsesRedis(builder.Configuration))
            builder.Services.AddSingleton<IRateLimitStore, RedisRateLimitStore>();
        else
            builder.Services.AddSingleton<IRateLimitStore, InMemoryRateLimitStore>();
        return builder;
    }

    /// <summary>Refuses requests over their budget; after authentication, so that the API key is known.</summary>
    public static IApplicationBuilder UseBananaLabRateLimits(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var options = context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;
        if (options.Enabled && !await WithinBudgetAsync(context, options, context.RequestServices.GetRequiredService<IRateLimitStore>()))
            await RejectAsync(context, context.RequestAborted);
        else
            await next(context);
    });

    /// <summary>
    /// Takes a token from the caller's bucket and, for an account form post, one from its address's sign-in
    /// bucket (as many attempts as a minute allows, refilled over that minute). Probes and metrics take none.
    /// </summary>
    private static async ValueTask<bool> WithinBudgetAsync(HttpContext context, RateLimitOptions options, IRateLimitStore store)
    {
        var request = context.Request;
        var address = context.Connection.RemoteIpAddress;
        if (!Exempt.Any(p => request.Path.StartsWithSegments(p)))
        {
            var caller = context.User.FindFirstValue(CallerPrincipal.KeyIdClaim) is { } keyId ? "key:" + keyId : "ip:" + address;
            if (!(await store.TryTakeAsync(caller, options.Burst, options.PermitsPerSecond)).Allowed) return false;
        }
        return !IsAccountFormPost(request)
            || (await store.TryTakeAsync("sign-in:" + address, options.SignInAttemptsPerMinute, options.SignInAttemptsPerMinute / 60.0)).Allowed;
    }

    private static bool IsAccountFormPost(HttpRequest request) =>
        HttpMethods.IsPost(request.Method) && AccountForms.Any(form => request.Path.StartsWithSegments(form));

    private static async ValueTask RejectAsync(HttpContext context, CancellationToken cancellationToken)
    {
        if (IsAccountFormPost(context.Request))
        {
            context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            context.Response.Headers.RetryAfter = "60";
            context.Response.ContentType = "text/html; charset=utf-8";
            await context.Response.WriteAsync("""
                <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Too many attempts · BananaLab</title></head>
                <body style="font-family:sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem">
                <h1>Too many attempts</h1><p>Too many sign-in attempts came from your address. Wait a minute, then
                <a href="/account/login">try again</a>.</p></body></html>
                """, cancellationToken);
            return;
        }
        const string message = "Too many requests for this API key; slow down and retry after the time in Retry-After.";
        context.Response.Headers.RetryAfter = "1";
        var path = context.Request.Path;
        var (status, body) = path switch
        {
            _ when path.StartsWithSegments("/start") || path.StartsWithSegments("/check") =>
                (StatusCodes.Status200OK, new JsonObject { ["message"] = "error: " + message, ["finished"] = true }),
            _ when path.StartsWithSegments("/sync") || path.StartsWithSegments("/async") || path.StartsWithSegments("/result") =>
                (429, new JsonObject { ["success"] = false, ["reason"] = message }),
            _ when path.StartsWithSegments("/login") || path.StartsWithSegments("/endpoint") =>
                (429, new JsonObject { ["success"] = false, ["error"] = message, ["message"] = message }),
            _ when path.StartsWithSegments("/v1") =>
                (429, new JsonObject { ["error"] = new JsonObject { ["message"] = message, ["type"] = "rate_limit_error", ["param"] = null, ["code"] = "rate_limit_exceeded" } }),
            _ => (429, new JsonObject { ["title"] = "Too many requests", ["status"] = 429, ["detail"] = message, ["code"] = "rate_limited" }),
        };
        context.Response.StatusCode = status;
        await context.Response.WriteAsJsonAsync(body, cancellationToken);
    }
}
