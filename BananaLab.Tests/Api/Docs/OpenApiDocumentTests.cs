using System.Text.Json;
using System.Text.RegularExpressions;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Api.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Xunit.Abstractions;

namespace BananaLab.Tests.Api.Docs;

/// <summary>
/// <c>/openapi/v1.json</c> read as a client generator reads it: every API operation is there, declares its success
/// response with a schema, and declares every error it can answer (the kinds its endpoint says, in its dialect's
/// envelope and status) with that envelope's schema.
/// </summary>
public sealed partial class OpenApiDocumentTests(BananaLabFactory app, ITestOutputHelper output) : IClassFixture<BananaLabFactory>
{
    [Fact]
    public async Task Every_operation_declares_its_success_and_its_errors_with_schemas()
    {
        var document = (await (await app.CreateClient().GetAsync("/openapi/v1.json")).ReadJsonAsync()).Clone();
        var schemas = document.GetProperty("components").GetProperty("schemas");
        var operations = Operations(document).ToList();
        var endpoints = DescribedEndpoints();

        Assert.Equal(endpoints.Keys.Order(), operations.Select(o => o.Key).Order());
        var problems = new List<string>();
        foreach (var (key, operation) in operations)
        {
            var responses = operation.GetProperty("responses").EnumerateObject().ToDictionary(r => r.Name, r => r.Value);
            var success = responses.Where(r => r.Key.StartsWith('2')).ToList();
            if (success.Count == 0) problems.Add($"{key}: no success response");
            foreach (var (status, response) in success.Where(r => r.Key != "204"))
                if (!Schemas(response).Any()) problems.Add($"{key}: success {status} has no schema");

            var endpoint = endpoints[key];
            var writer = ApiErrorWriter.Of(endpoint.Metadata) ?? ApiErrorWriter.Problems;
            var kinds = endpoint.Metadata.GetOrderedMetadata<ApiErrorKinds>().SelectMany(k => k.Kinds).Distinct().ToList();
            if (kinds.Count == 0) problems.Add($"{key}: declares no errors");
            foreach (var status in kinds.Select(writer.StatusFor).Distinct().Select(s => s.ToString()))
            {
                if (!responses.TryGetValue(status, out var response)) problems.Add($"{key}: error {status} is not declared");
                else if (!Schemas(response, writer.ContentType).Any(s => s == writer.EnvelopeType.Name))
                    problems.Add($"{key}: error {status} does not carry {writer.EnvelopeType.Name} as {writer.ContentType}");
            }
            foreach (var (status, response) in responses.Where(r => r.Key[0] is '4' or '5'))
                if (!Schemas(response).Any()) problems.Add($"{key}: error {status} has no schema");
        }
        foreach (var reference in References(document).Distinct())
            if (!schemas.TryGetProperty(reference, out _)) problems.Add($"a schema refers to #/components/schemas/{reference}, which is missing");

        output.WriteLine($"{operations.Count} operations, {schemas.EnumerateObject().Count()} schemas, " +
            $"{operations.Sum(o => o.Value.GetProperty("responses").EnumerateObject().Count())} responses");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>The endpoints the document describes: every key-only API endpoint and the signed file links.</summary>
    private Dictionary<string, Endpoint> DescribedEndpoints()
    {
        var api = MappedEndpoints.Api(app.Services).Select(e => $"{e.Method} {Normalize(e.Pattern)}").Append("GET /files/{token}").ToHashSet();
        return app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [])
                .Select(method => (Key: $"{method} {Normalize(e.RoutePattern.RawText)}", Endpoint: e)))
            .Where(e => api.Contains(e.Key))
            .ToDictionary(e => e.Key, e => (Endpoint)e.Endpoint);
    }

    private static IEnumerable<KeyValuePair<string, JsonElement>> Operations(JsonElement document) =>
        document.GetProperty("paths").EnumerateObject().SelectMany(path => path.Value.EnumerateObject()
            .Select(op => KeyValuePair.Create($"{op.Name.ToUpperInvariant()} {Normalize(path.Name)}", op.Value)));

    /// <summary>A route as the document writes it: <c>{id}</c> where the route says <c>{id:guid}</c>, no trailing slash.</summary>
    private static string Normalize(string? route) => "/" + RouteParameter().Replace(route ?? "", "{$1}").Trim('/');

    /// <summary>The schema names (or inline types) of a response's content, of one media type or of all.</summary>
    private static IEnumerable<string> Schemas(JsonElement response, string? mediaType = null) =>
        response.TryGetProperty("content", out var content)
            ? content.EnumerateObject().Where(c => mediaType is null || c.Name == mediaType)
                .Where(c => c.Value.TryGetProperty("schema", out _))
                .Select(c => c.Value.GetProperty("schema"))
                .Select(s => s.TryGetProperty("$ref", out var reference) ? reference.GetString()!.Split('/')[^1]
                    : s.TryGetProperty("type", out var type) ? type.ToString() : s.TryGetProperty("anyOf", out _) ? "anyOf" : "")
                .Where(s => s.Length > 0)
            : [];

    private static IEnumerable<string> References(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().SelectMany(p => p.Name == "$ref" && p.Value.GetString() is { } r
            && r.StartsWith("#/components/schemas/") ? [r.Split('/')[^1]] : References(p.Value)),
        JsonValueKind.Array => element.EnumerateArray().SelectMany(References),
        _ => [],
    };

    [GeneratedRegex(@"\{(\w+)(:[^}]*)?\}")]
    private static partial Regex RouteParameter();
}
