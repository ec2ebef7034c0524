using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using BananaLab.Core.Cluster;
using BananaLab.Core.Errors;
using BananaLab.Core.Sessions;
using BananaLab.Core.Tasks;
using BananaLab.Core.Users;
using BananaLab.Web.Api.Errors;
using BananaLab.Web.Auth;
using Microsoft.Extensions.Options;

namespace BananaLab.Web.RateLimits;

public sealed class RateLimitOptions
{
    public const string Section = "RateLimits";

    public bool Enabled { get; set; } = true;

    /// <summary>Sustained requests per second for one API key (or one address, when the call carries no valid key).</summary>
    [Range(1, 100_000, ErrorMessage = "RateLimits:PermitsPerSecond must be between 1 and 100000.")]
    public int PermitsPerSecond { get; set; } = 20;

    /// <summary>How many requests a key may make at once before the sustained rate applies.</summary>
    [Range(1, 1_000_000, ErrorMessage = "RateLimits:Burst must be between 1 and 1000000.")]
    public int Burst { get; set; } = 100;

    /// <summary>Sign-in and sign-up form posts per minute, counted per client address and, separately, per account (email).</summary>
    [Range(1, 1_000_000, ErrorMessage = "RateLimits:SignInAttemptsPerMinute must be between 1 and 1000000.")]
    public int SignInAttemptsPerMinute { get; set; } = 10;
}

/// <summary>
/// A token bucket per caller: the API key, whether it came in a header or in the body where the endpoint says so
/// (<see cref="KeyInBody"/>: Banana's <c>apiKey</c>, the session interface's <c>api_key</c> or a session key, which counts
/// against the key it was made from); the
/// client address only for calls without a valid key and for the studio's pages. A stricter bucket on the
/// sign-in and sign-up forms, one per address and one per account (the email), so one person's guessing
/// neither locks out a whole office behind one address nor spreads over many addresses against one account. A refusal is a 429 with Retry-After, in
/// the envelope of the dialect that was called (its <see cref="ApiErrorWriter"/>; a plain page for the account forms). The buckets live in
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
    /// bucket and one from its account's (as many attempts as a minute allows, refilled over that minute).
    /// Probes and metrics take none.
    /// </summary>
    private static async ValueTask<bool> WithinBudgetAsync(HttpContext context, RateLimitOptions options, IRateLimitStore store)
    {
        var request = context.Request;
        var address = context.Connection.RemoteIpAddress;
        if (!Exempt.Any(p => request.Path.StartsWithSegments(p)))
        {
            var caller = await CallerAsync(context) ?? "ip:" + address;
            if (!(await store.TryTakeAsync(caller, options.Burst, options.PermitsPerSecond)).Allowed) return false;
        }
        if (!IsAccountFormPost(request)) return true;
        var perMinute = options.SignInAttemptsPerMinute;
        if (!(await store.TryTakeAsync("sign-in:" + address, perMinute, perMinute / 60.0)).Allowed) return false;
        return await AccountOfFormAsync(request) is not { } account
            || (await store.TryTakeAsync("sign-in-account:" + account, perMinute, perMinute / 60.0)).Allowed;
    }

    /// <summary>
    /// <c>key:{id}</c> for a call made with a valid API key (or a live session key made from one), wherever the
    /// key travels; null otherwise, so that made-up keys all count against their address.
    /// </summary>
    private static async ValueTask<string?> CallerAsync(HttpContext context)
    {
        if (context.User.FindFirstValue(CallerPrincipal.KeyIdClaim) is { } keyId) return "key:" + keyId;
        var request = context.Request;
        if (!HttpMethods.IsPost(request.Method) || context.GetEndpoint()?.Metadata.GetMetadata<KeyInBody>() is not { } carried) return null;
        var services = context.RequestServices;
        var header = request.Headers.Authorization.ToString();
        var bearer = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..] : null;
        var fields = bearer is null ? await BodyFieldsAsync(request, carried) : [];
        if ((bearer ?? carried.ApiKeyFields.Select(fields.GetValueOrDefault).FirstOrDefault(v => v is not null)) is { } secret
            && await services.GetRequiredService<ApiKeyService>().AuthenticateAsync(secret, context.RequestAborted) is { } caller)
            return "key:" + caller.Key.Id;
        if (carried.SessionKeyField is { } sessionField && fields.GetValueOrDefault(sessionField) is { } sessionKey
            && await services.GetRequiredService<ClientSessionService>().FindAsync(sessionKey, context.RequestAborted) is { } session)
            return session.ApiKeyId is { } fromKey ? "key:" + fromKey : "session:" + session.Id;
        return null;
    }

    /// <summary>The body's top-level string fields that can carry a key; the body is left for the endpoint to read.</summary>
    private static async ValueTask<Dictionary<string, string>> BodyFieldsAsync(HttpRequest request, KeyInBody carried)
    {
        var fields = new Dictionary<string, string>();
        if (request.HasFormContentType || request.ContentLength == 0) return fields;
        request.EnableBuffering();
        try
        {
            using var body = await JsonDocument.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
            if (body.RootElement.ValueKind == JsonValueKind.Object)
                foreach (var name in carried.Fields)
                    if (body.RootElement.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String)
                        fields[name] = value.GetString()!;
        }
        catch (JsonException)
        {
            // Not JSON: the endpoint answers it; the address pays for it.
        }
        finally
        {
            request.Body.Position = 0;
        }
        return fields;
    }

    /// <summary>A hash of the form's normalized email (never the address itself, which may end up in a Redis key).</summary>
    private static async ValueTask<string?> AccountOfFormAsync(HttpRequest request)
    {
        if (!request.HasFormContentType) return null;
        var form = await request.ReadFormAsync(request.HttpContext.RequestAborted);
        var email = form["Form.Email"].ToString().Trim();
        return email.Length == 0 ? null
            : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(email.ToUpperInvariant())));
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
                <h1>Too many attempts</h1><p>Too many sign-in attempts came from your address or for this account. Wait a minute, then
                <a href="/account/login">try again</a>.</p></body></html>
                """, cancellationToken);
            return;
        }
        context.Response.Headers.RetryAfter = "1";
        var error = new TaskError(ErrorTypes.RateLimited, "Too many requests for this API key; slow down and retry after the time in Retry-After.");
        await ApiErrorWriter.For(context).Write(error, context).ExecuteAsync(context);
    }
}

/// <summary>
/// Endpoint metadata of a dialect whose caller's key travels in the JSON body: the fields that may hold the API key (a
/// bearer header still wins), and the field of a session key made from one. The rate limiter counts the call against that key.
/// </summary>
public sealed record KeyInBody(IReadOnlyList<string> ApiKeyFields, string? SessionKeyField = null)
{
    /// <summary>Every field the rate limiter reads from the body.</summary>
    public IEnumerable<string> Fields => SessionKeyField is null ? ApiKeyFields : ApiKeyFields.Append(SessionKeyField);
}
