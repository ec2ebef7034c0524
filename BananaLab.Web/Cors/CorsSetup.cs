using BananaLab.Web.Api;
using BananaLab.Web.Api.Dialects;
using Microsoft.Extensions.Options;

namespace BananaLab.Web.Cors;

/// <summary>
/// Which browser origins may call the API (<c>Cors:AllowedOrigins</c>); empty by default, and then no cross-origin
/// call is allowed. Named apart from ASP.NET Core's own <c>CorsOptions</c>, which it fills.
/// </summary>
public sealed class CrossOriginOptions
{
    public const string Section = "Cors";

    /// <summary>Origins such as <c>https://app.example.com</c>: scheme, host and optional port, no path.</summary>
    public List<string> AllowedOrigins { get; set; } = [];
}

/// <summary>Stops start-up on an allowed origin that a browser could never send, naming the key.</summary>
public sealed class CrossOriginOptionsValidator : IValidateOptions<CrossOriginOptions>
{
    public ValidateOptionsResult Validate(string? name, CrossOriginOptions options)
    {
        var errors = options.AllowedOrigins
            .Select((origin, index) => (origin, index))
            .Where(o => !IsOrigin(o.origin))
            .Select(o => $"{CrossOriginOptions.Section}:{nameof(CrossOriginOptions.AllowedOrigins)}:{o.index} '{o.origin}' is not an origin; " +
                         "write the scheme (http or https), host and optional port only, such as https://app.example.com, without a path, a trailing slash or '*'.")
            .ToList();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>What a browser sends in <c>Origin</c>: exactly <c>scheme://host[:port]</c>.</summary>
    private static bool IsOrigin(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && uri.Scheme is "http" or "https"
        && string.IsNullOrEmpty(uri.UserInfo)
        && string.Equals(value, uri.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// Cross-origin calls to every API dialect, with ASP.NET Core's CORS middleware
/// (https://learn.microsoft.com/aspnet/core/security/cors): a preflight (<c>OPTIONS</c> with <c>Origin</c> and
/// <c>Access-Control-Request-Method</c>) to any path of the key-only API group answers 204, with
/// <c>Access-Control-Allow-Origin</c> only for an origin in <c>Cors:AllowedOrigins</c>. The key travels in the
/// <c>Authorization</c> header (or the body, in the dialects that put it there), never in a cookie, so credentials are
/// never allowed.
/// </summary>
public static class CorsSetup
{
    public const string PolicyName = "BananaLabApi";

    /// <summary>
    /// Request headers a browser app may send: the key, the body's type, idempotency, and those the OpenAI SDKs add in a
    /// browser (https://github.com/openai/openai-node, <c>dangerouslyAllowBrowser</c>).
    /// </summary>
    public static readonly string[] AllowedHeaders =
    [
        "Authorization", "Content-Type", "Accept", Idempotent.Header,
        "OpenAI-Organization", "OpenAI-Project", "X-Stainless-Lang", "X-Stainless-Package-Version", "X-Stainless-OS", "X-Stainless-Arch",
        "X-Stainless-Runtime", "X-Stainless-Runtime-Version", SynchronousCalls.RetryCountHeader, "X-Stainless-Timeout", "X-Stainless-Helper-Method",
    ];

    /// <summary>Response headers a browser app may read besides the CORS-safelisted ones.</summary>
    public static readonly string[] ExposedHeaders = ["Retry-After", "Idempotent-Replayed", SynchronousCalls.ShouldRetryHeader, "Location"];

    public static IHostApplicationBuilder AddBananaLabCors(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<CrossOriginOptions>().Bind(builder.Configuration.GetSection(CrossOriginOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<CrossOriginOptions>, CrossOriginOptionsValidator>();
        builder.Services.AddCors();
        builder.Services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>()
            .Configure<IOptions<CrossOriginOptions>>((cors, allowed) => cors.AddPolicy(PolicyName, policy => policy
                .WithOrigins([.. allowed.Value.AllowedOrigins])
                .WithMethods("GET", "POST", "PUT", "PATCH", "DELETE")
                .WithHeaders(AllowedHeaders)
                .WithExposedHeaders(ExposedHeaders)
                .DisallowCredentials()
                .SetPreflightMaxAge(TimeSpan.FromMinutes(10))));
        return builder;
    }

    /// <summary>The CORS middleware: after routing (it reads the endpoint's policy), before authentication and rate limits.</summary>
    public static IApplicationBuilder UseBananaLabCors(this IApplicationBuilder app) => app.UseCors();

    /// <summary>Every endpoint of the API group answers preflights with <see cref="PolicyName"/>.</summary>
    public static RouteGroupBuilder WithBananaLabCors(this RouteGroupBuilder group) => group.RequireCors(PolicyName);
}
