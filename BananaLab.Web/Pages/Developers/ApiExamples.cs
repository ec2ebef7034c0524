using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace BananaLab.Web.Pages.Developers;

/// <summary>One call of an example: the route as the app maps it (tests check it exists) and the curl command.</summary>
public sealed record ApiExampleStep(string Title, string Method, string Route, string Curl);

/// <summary>One API dialect this server speaks, with the calls that make a complete round trip.</summary>
public sealed record ApiDialectExample(string Id, string Name, string Summary, IReadOnlyList<ApiExampleStep> Steps);

/// <summary>
/// Ready-to-paste curl examples for every API dialect, filled with this server's address, a model and the
/// caller's key (or its prefix, which they replace with the full key). Generated here, not written in markup,
/// so the routes are checked against the app's endpoints by a test.
/// </summary>
public static partial class ApiExamples
{
    public const string KeyPlaceholder = "bl_...";
    private const string Prompt = "a banana astronaut floating above the moon, watercolor";

    /// <param name="baseUri">The server's address, e.g. NavigationManager.BaseUri.</param>
    /// <param name="key">What to put where the API key goes (a prefix with "…", or <see cref="KeyPlaceholder"/>).</param>
    /// <param name="model">A model id of this server's catalog.</param>
    public static IReadOnlyList<ApiDialectExample> For(string baseUri, string key, string model)
    {
        var b = new Builder(baseUri.TrimEnd('/'), key);
        return
        [
            new("native", "BananaLab API v1",
                "The native API: create a task, follow it, download its images. Answers 201 with the task; errors are RFC 7807 problems with a code.",
                [
                    b.Json("Create a task (JSON)", "POST", "/api/v1/tasks", new JsonObject
                    {
                        ["model"] = model, ["prompt"] = Prompt, ["size"] = "1K", ["aspectRatio"] = "1:1", ["count"] = 1,
                    }),
                    b.Multipart("Create a task with a reference image (multipart)", "/api/v1/tasks",
                        [("model", model), ("prompt", Prompt), ("size", "1K")], ("referenceImage", "reference.png")),
                    b.Get("Follow the task", "/api/v1/tasks/{id:guid}"),
                    b.Get("List your tasks", "/api/v1/tasks", query: "?status=succeeded&page=1&pageSize=20"),
                    b.Download("Download image 0", "/api/v1/tasks/{id:guid}/images/{index:int}", "banana.png"),
                    b.Post("Cancel the task", "/api/v1/tasks/{id:guid}/cancel"),
                    b.Delete("Delete a finished task and its images", "/api/v1/tasks/{id:guid}"),
                ]),
            new("banana", "Banana v4",
                "Banana's REST API: /start/v4 waits up to a minute and returns a callID if the image is not ready; poll /check/v4 with it. The key goes in the body.",
                [
                    b.Json("Start a call", "POST", "/start/v4", new JsonObject
                    {
                        ["apiKey"] = key, ["modelKey"] = model, ["startOnly"] = false,
                        ["modelInputs"] = new JsonObject { ["prompt"] = Prompt, ["size"] = "1K", ["num_images"] = 1, ["seed"] = 42 },
                    }, bearer: false),
                    b.Json("Check a call", "POST", "/check/v4", new JsonObject
                    {
                        ["apiKey"] = key, ["callID"] = "CALL_ID", ["longPoll"] = true,
                    }, bearer: false),
                ]),
            new("session", "Session interface",
                "Trade the API key for a session bound to one model, submit jobs, then poll their progress, previews and result.",
                [
                    b.Json("Sign in for a session", "POST", "/login", new JsonObject { ["endpoint_name"] = model, ["version"] = "1" }),
                    b.Json("Submit a job", "POST", "/endpoint", new JsonObject
                    {
                        ["client_session_auth_key"] = "SESSION_KEY", ["prompt"] = Prompt, ["num_inference_steps"] = 20,
                        ["seed"] = 42, ["wait_for_result"] = false,
                    }, bearer: false),
                    b.Json("Poll its progress", "POST", "/endpoint/progress", new JsonObject
                    {
                        ["client_session_auth_key"] = "SESSION_KEY", ["job_id"] = "JOB_ID",
                    }, bearer: false),
                ]),
            new("fastdeploy", "fastDeploy",
                "One prediction per input: /sync answers inline, /async returns a unique_id (and can call a webhook), /result polls it.",
                [
                    b.Json("Predict and wait", "POST", "/sync", new JsonObject
                    {
                        ["model"] = model, ["data"] = new JsonArray(Prompt, "a banana wearing a top hat, studio photo"),
                        ["params"] = new JsonObject { ["size"] = "1K" },
                    }),
                    b.Json("Start in the background", "POST", "/async", new JsonObject
                    {
                        ["model"] = model, ["data"] = new JsonArray(Prompt), ["webhook"] = "https://example.com/bananalab-hook",
                    }),
                    b.Json("Fetch the result", "POST", "/result", new JsonObject { ["unique_id"] = "UNIQUE_ID" }),
                ]),
            new("bentoml", "BentoML /generate",
                "One call that answers with the image itself; ask for accept: application/json to get base64 and the seed instead.",
                [
                    b.Json("Generate and save the image", "POST", "/generate", new JsonObject
                    {
                        ["model"] = model, ["prompt"] = Prompt, ["width"] = 1024, ["height"] = 1024,
                        ["num_inference_steps"] = 20, ["guidance_scale"] = 3,
                    }, accept: "image/png", output: "banana.png"),
                ]),
            new("openai", "OpenAI images",
                "Compatible with OpenAI's images API, so OpenAI SDKs work by pointing their base URL at this server's /v1.",
                [
                    b.Json("Generate images", "POST", "/v1/images/generations", new JsonObject
                    {
                        ["model"] = model, ["prompt"] = Prompt, ["n"] = 1, ["size"] = "1024x1024", ["response_format"] = "b64_json",
                    }),
                    b.Multipart("Edit an image", "/v1/images/edits",
                        [("model", model), ("prompt", "the same banana, now in a spacesuit")], ("image", "reference.png")),
                ]),
        ];
    }

    /// <summary>Quotes a value for a POSIX shell: single quotes, with embedded ones closed and escaped.</summary>
    public static string ShellQuote(string value) => "'" + value.Replace("'", "'\\''") + "'";

    private sealed partial class Builder(string baseUrl, string key)
    {
        // Indented to stay readable on a phone; relaxed escaping keeps the key's "…" and quotes as they are
        // (the shell quoting makes them safe).
        private static readonly JsonSerializerOptions Readable = new()
        {
            WriteIndented = true, IndentSize = 2, NewLine = "\n", Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        private readonly string _auth = $"-H {ShellQuote($"Authorization: Bearer {key}")}";

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

        public ApiExampleStep Multipart(string title, string route, (string Name, string Value)[] fields, (string Name, string File) file)
        {
            var lines = new List<string> { $"curl -X POST {Url(route)}", _auth };
            lines.AddRange(fields.Select(f => $"-F {ShellQuote($"{f.Name}={f.Value}")}"));
            lines.Add($"-F {ShellQuote($"{file.Name}=@{file.File}")}");
            return new(title, "POST", route, Join(lines));
        }

        public ApiExampleStep Get(string title, string route, string query = "") =>
            new(title, "GET", route, Join([$"curl {Url(route, query)}", _auth]));

        public ApiExampleStep Post(string title, string route) =>
            new(title, "POST", route, Join([$"curl -X POST {Url(route)}", _auth]));

        public ApiExampleStep Delete(string title, string route) =>
            new(title, "DELETE", route, Join([$"curl -X DELETE {Url(route)}", _auth]));

        public ApiExampleStep Download(string title, string route, string output) =>
            new(title, "GET", route, Join([$"curl {Url(route)}", _auth, $"-o {output}"]));

        /// <summary>The route with its parameters replaced by placeholders the reader fills in (TASK_ID) or sample values.</summary>
        private string Url(string route, string query = "") =>
            ShellQuote(baseUrl + RouteParameter().Replace(route, m => m.Groups[1].Value switch
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
}
