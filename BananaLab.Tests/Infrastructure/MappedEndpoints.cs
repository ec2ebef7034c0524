using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Components.Endpoints;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace BananaLab.Tests.Infrastructure;

/// <summary>
/// Every endpoint the real host maps, read from its <see cref="EndpointDataSource"/>, less the ones that are
/// not the API (each exemption says why). Whole-kind tests walk this list, so a new endpoint is covered
/// without anyone remembering to add it.
/// </summary>
public static partial class MappedEndpoints
{
    public sealed record ApiEndpoint(string Method, string Pattern, string Path)
    {
        public override string ToString() => $"{Method} {Pattern}";
    }

    /// <summary>What is not the key-only API, and why.</summary>
    private static readonly (string Prefix, string Reason)[] Exemptions =
    [
        ("/account/", "the studio's sign-in, registration and sign-out forms: cookies by design, antiforgery-checked"),
        ("/media/", "the studio's own image links: the cookie policy (StudioPolicies.Member)"),
        ("/_blazor", "the studio's Blazor circuit"),
        ("/_framework/", "the studio's Blazor scripts"),
        ("/hubs/", "the SignalR hub: [Authorize] with the key-only default policy, tested in TasksHubTests"),
        ("/livez", "public liveness probe"),
        ("/readyz", "public readiness probe"),
        ("/metrics", "Prometheus scrape; public unless Metrics:RequireApiKey"),
        ("/openapi/", "the public API document"),
        ("/scalar", "the public API reference page"),
        ("/files/", "signed image links: the signature in the address authorizes, not a caller"),
        ("/v1/{**path}", "OpenAI's error envelope for addresses and methods no /v1 route takes: nothing there to authorize"),
    ];

    public static IReadOnlyList<ApiEndpoint> Api(IServiceProvider services)
    {
        var all = services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        var api = new List<ApiEndpoint>();
        foreach (var endpoint in all)
        {
            var pattern = "/" + (endpoint.RoutePattern.RawText ?? "").TrimStart('/');
            if (endpoint.Metadata.GetMetadata<ComponentTypeMetadata>() is not null) continue; // studio pages (Razor components)
            if (IsStaticAsset(endpoint, pattern)) continue; // files from wwwroot and packages, no caller at all
            if (Exemptions.Any(e => pattern.StartsWith(e.Prefix, StringComparison.OrdinalIgnoreCase) || pattern == e.Prefix.TrimEnd('/'))) continue;
            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            foreach (var method in methods.Where(m => m != "HEAD" && m != "OPTIONS"))
                api.Add(new ApiEndpoint(method, pattern, SamplePath(pattern)));
        }
        return api.DistinctBy(e => (e.Method, e.Pattern)).OrderBy(e => e.Pattern).ThenBy(e => e.Method).ToList();
    }

    private static bool IsStaticAsset(RouteEndpoint endpoint, string pattern) =>
        endpoint.Metadata.Any(m => m.GetType().FullName?.StartsWith("Microsoft.AspNetCore.StaticAssets", StringComparison.Ordinal) == true)
        || pattern.Contains(":file}", StringComparison.Ordinal) // the static-files fallback route
        || (endpoint.DisplayName?.Contains("static", StringComparison.OrdinalIgnoreCase) == true && Path.HasExtension(pattern));

    /// <summary>The pattern with each parameter filled in with a value of its constraint's kind.</summary>
    private static string SamplePath(string pattern) => Parameter().Replace(pattern, match =>
    {
        var spec = match.Groups[1].Value.ToLowerInvariant();
        return spec.Contains(":guid") ? Guid.NewGuid().ToString()
            : spec.Contains(":int") || spec.Contains(":long") ? "0"
            : "x";
    });

    [GeneratedRegex(@"\{\**([^}]*)\}")]
    private static partial Regex Parameter();

    /// <summary>Which dialect answers at a path: it decides the error envelope.</summary>
    public static string DialectOf(string path) => path switch
    {
        "/start/v4" or "/check/v4" => "banana",
        "/sync" or "/async" or "/result" => "fastdeploy",
        "/login" or "/endpoint" or "/endpoint/progress" => "session",
        _ when path.StartsWith("/v1/", StringComparison.Ordinal) => "openai",
        _ => "native", // /api/v1/* and /generate: RFC 7807 problems
    };

    /// <summary>Why a refusal is not in its dialect's own error envelope, or null when it is.</summary>
    public static string? EnvelopeProblem(string path, int status, string? mediaType, string text)
    {
        var dialect = DialectOf(path);
        if (dialect == "banana")
            return status == 200 && Field(text, "message")?.Contains("error") == true ? null : "Banana answers 200 with \"error\" in message";
        if (status < 400) return null;
        return dialect switch
        {
            "openai" => Nested(text, "error", "message") is { Length: > 3 } ? null : "not OpenAI's {\"error\": {\"message\"}}",
            "fastdeploy" => Field(text, "success") == "False" && Field(text, "reason") is { Length: > 3 } ? null : "not fastDeploy's {\"success\": false, \"reason\"}",
            "session" => Field(text, "success") == "False" && Field(text, "message") is { Length: > 3 } ? null : "not the session interface's {\"success\": false, \"message\"}",
            _ => mediaType == "application/problem+json" && (Field(text, "detail") ?? Field(text, "title")) is { Length: > 3 } ? null : "not a problem+json with a detail",
        };
    }

    private static string? Field(string text, string name)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(text);
            return document.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object && document.RootElement.TryGetProperty(name, out var value)
                ? value.ValueKind switch
                {
                    System.Text.Json.JsonValueKind.String => value.GetString(),
                    System.Text.Json.JsonValueKind.False => "False",
                    System.Text.Json.JsonValueKind.True => "True",
                    _ => value.GetRawText(),
                }
                : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static string? Nested(string text, string outer, string inner) =>
        Field(text, outer) is { } json && json.StartsWith('{') ? Field(json, inner) : null;
}
