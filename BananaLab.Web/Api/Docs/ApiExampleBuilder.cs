using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace BananaLab.Web.Api.Docs;

/// <summary>One call of an example: the route as the app maps it (a test checks it exists) and the curl command.</summary>
public sealed record ApiExampleStep(string Title, string Method, string Route, string Curl);

/// <summary>
/// A dialect's ready-to-paste examples, as endpoint metadata on its routes (the developers page lists every dialect the
/// app maps, in the order Program.cs maps them): its <paramref name="Id"/> (the dialect's one name, also the page
/// section's id), the <paramref name="Name"/> and <paramref name="Summary"/> a reader sees, and the calls of a complete
/// round trip, built for one server, key and model by <paramref name="Steps"/>.
/// </summary>
public sealed record ApiDialectExamples(string Id, string Name, string Summary, Func<ApiExampleBuilder, IReadOnlyList<ApiExampleStep>> Steps);

/// <summary>
/// Builds the curl commands of <see cref="ApiDialectExamples"/> for one server address, one API key (or its prefix, which
/// the reader replaces with the full key) and one model of the catalog. Values are quoted for a POSIX shell.
/// </summary>
public sealed partial class ApiExampleBuilder(string baseUri, string key, string model)
{
    /// <summary>The prompt every example asks for.</summary>
    public const string Prompt = "a banana astronaut floating above the moon, watercolor";

    // Indented to stay readable on a phone; relaxed escaping keeps the key's "…" and quotes as they are
    // (the shell quoting makes them safe).
    private static readonly JsonSerializerOptions Readable = new()
    {
        WriteIndented = true, IndentSize = 2, NewLine = "\n", Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly string _baseUrl = baseUri.TrimEnd('/');
    private readonly string _auth = $"-H {ShellQuote($"Authorization: Bearer {key}")}";

    /// <summary>What goes where the API key goes, for dialects that carry it in the body.</summary>
    public string Key { get; } = key;

    /// <summary>The model the examples ask for.</summary>
    public string Model { get; } = model;

    /// <summary>Quotes a value for a POSIX shell: single quotes, with embedded ones closed and escaped.</summary>
    public static string ShellQuote(string value) => "'" + value.Replace("'", "'\\''") + "'";

    /// <summary>A call with a JSON body, the key as a bearer header unless <paramref name="bearer"/> is false.</summary>
    public ApiExampleStep Json(string title, string method, string route, JsonObject body, bool bearer = true,
        string accept = "application/json", string? output = null)
    {
        var lines = new List<string> { $"curl -X {method} {Url(route)}" };
        if (bearer) lines.Add(_auth);
        lines.Add($"-H {ShellQuote("Content-Type: application/json")}");
        lines.Add($"-H {ShellQuote($"Accept: {accept}")}");
        lines.Add($"-d {ShellQuote(body.ToJsonString(Readable).Replace("\n", "\n  "))}");
        if (output is not null) lines.Add($"-o {output}");
        return new(title, method, route, Join(lines));
    }

    /// <summary>A multipart POST with text fields and one file.</summary>
    public ApiExampleStep Multipart(string title, string route, (string Name, string Value)[] fields, (string Name, string File) file)
    {
        var lines = new List<string> { $"curl -X POST {Url(route)}", _auth };
        lines.AddRange(fields.Select(f => $"-F {ShellQuote($"{f.Name}={f.Value}")}"));
        lines.Add($"-F {ShellQuote($"{file.Name}=@{file.File}")}");
        return new(title, "POST", route, Join(lines));
    }

    /// <summary>A GET with the key as a bearer header; <paramref name="query"/> (with its "?") is appended to the address.</summary>
    public ApiExampleStep Get(string title, string route, string query = "") =>
        new(title, "GET", route, Join([$"curl {Url(route, query)}", _auth]));

    /// <summary>A POST without a body.</summary>
    public ApiExampleStep Post(string title, string route) =>
        new(title, "POST", route, Join([$"curl -X POST {Url(route)}", _auth]));

    /// <summary>A DELETE.</summary>
    public ApiExampleStep Delete(string title, string route) =>
        new(title, "DELETE", route, Join([$"curl -X DELETE {Url(route)}", _auth]));

    /// <summary>A GET that saves the answer to <paramref name="output"/>.</summary>
    public ApiExampleStep Download(string title, string route, string output) =>
        new(title, "GET", route, Join([$"curl {Url(route)}", _auth, $"-o {output}"]));

    /// <summary>The route with its parameters replaced by placeholders the reader fills in (TASK_ID) or sample values.</summary>
    private string Url(string route, string query = "") =>
        ShellQuote(_baseUrl + RouteParameter().Replace(route, m => m.Groups[1].Value switch
        {
            "id" => "TASK_ID",
            "index" => "0",
            var name => name.ToUpperInvariant(),
        }) + query);

    private static string Join(IReadOnlyList<string> lines)
    {
        var text = new StringBuilder(lines[0]);
        foreach (var line in lines.Skip(1)) text.Append(" \\\n  ").Append(line);
        return text.ToString();
    }

    [GeneratedRegex(@"\{(\w+)(:[^}]*)?\}")]
    private static partial Regex RouteParameter();
}
