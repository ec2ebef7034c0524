using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;
using BananaLab.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using SkiaSharp;

namespace BananaLab.Tests.Providers.OpenAI;

/// <summary>
/// A small real HTTP server on 127.0.0.1 that answers <c>POST /v1/images/generations</c> and <c>/v1/images/edits</c> the way
/// OpenAI's Images API does (https://platform.openai.com/docs/api-reference/images), for failure kinds a real server cannot be
/// made to show. The prompt picks the answer: "[401]" (an invalid_api_key error that echoes the key, as OpenAI's does),
/// "[429-once]" (429 with <c>Retry-After: 1</c> on the first call of that prompt, then images), "[500]", "[refuse]" (a 400
/// <c>content_policy_violation</c>), "[empty]" (an empty <c>data</c>), "[bad-base64]", "[not-an-image]"; anything else gets
/// <c>n</c> PNGs of the asked <c>size</c>. Every call is recorded.
/// </summary>
public sealed partial class OpenAiLikeServer : IAsyncDisposable
{
    public const string RefusalMessage = "Your request was rejected as a result of our safety system.";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _callsByPrompt = new();

    /// <summary>One request as it arrived: which endpoint, its fields, its Authorization header, and when.</summary>
    public sealed record Call(string Path, string Prompt, string? Authorization, string? Size, int N, string? ResponseFormat,
        string? OutputFormat, string Model, bool HasImage, DateTime At);

    public ConcurrentQueue<Call> Calls { get; } = new();

    /// <summary>The base URL an OpenAI SDK takes: <c>http://127.0.0.1:PORT/v1</c>.</summary>
    public string Endpoint { get; }

    private OpenAiLikeServer(WebApplication app, string endpoint)
    {
        _app = app;
        Endpoint = endpoint;
    }

    public IEnumerable<Call> CallsFor(string promptPart) => Calls.Where(c => c.Prompt.Contains(promptPart, StringComparison.Ordinal));

    public static async Task<OpenAiLikeServer> StartAsync()
    {
        var app = LoopbackApp.Create();
        OpenAiLikeServer? server = null;
        app.MapPost("/v1/images/generations", async (HttpContext context) =>
        {
            using var body = await JsonDocument.ParseAsync(context.Request.Body);
            var root = body.RootElement;
            return server!.Answer(context, new Call("generations", Text(root, "prompt") ?? "", context.Request.Headers.Authorization,
                Text(root, "size"), root.TryGetProperty("n", out var n) ? n.GetInt32() : 1, Text(root, "response_format"),
                Text(root, "output_format"), Text(root, "model") ?? "", HasImage: false, DateTime.UtcNow));
        });
        app.MapPost("/v1/images/edits", async (HttpContext context) =>
        {
            var form = await context.Request.ReadFormAsync();
            var image = form.Files.GetFile("image") ?? form.Files.GetFile("image[]");
            return server!.Answer(context, new Call("edits", form["prompt"].ToString(), context.Request.Headers.Authorization,
                Field(form, "size"), int.TryParse(form["n"], out var n) ? n : 1, Field(form, "response_format"), Field(form, "output_format"),
                form["model"].ToString(), HasImage: image is { Length: > 0 }, DateTime.UtcNow));
        }).DisableAntiforgery();
        server = new OpenAiLikeServer(app, await LoopbackApp.StartAsync(app) + "/v1");
        return server;
    }

    private IResult Answer(HttpContext context, Call call)
    {
        Calls.Enqueue(call);
        var prompt = call.Prompt;
        var nth = _callsByPrompt.AddOrUpdate(prompt, 1, (_, count) => count + 1);
        if (prompt.Contains("[401]"))
            return Error(401, "invalid_api_key", $"Incorrect API key provided: {call.Authorization?.Replace("Bearer ", "")}.");
        if (prompt.Contains("[429-once]") && nth == 1)
        {
            context.Response.Headers.RetryAfter = "1";
            return Error(429, "rate_limit_exceeded", "Rate limit reached for images per minute.");
        }
        if (prompt.Contains("[500]")) return Error(500, "server_error", "The server had an error while processing your request.");
        if (prompt.Contains("[refuse]")) return Error(400, "content_policy_violation", RefusalMessage);
        if (prompt.Contains("[empty]")) return Images([]);
        if (prompt.Contains("[bad-base64]")) return Images(["%%% this is not base64 %%%"]);
        if (prompt.Contains("[not-an-image]")) return Images([Convert.ToBase64String("plain text, no image"u8.ToArray())]);

        var (width, height) = SizeOf(call.Size);
        var png = Convert.ToBase64String(Png(width, height));
        return Images(Enumerable.Repeat(png, Math.Max(1, call.N)).ToList());
    }

    private static IResult Images(IReadOnlyList<string> base64) => Results.Json(new
    {
        created = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        data = base64.Select(b => new { b64_json = b }).ToList(),
    });

    private static IResult Error(int status, string code, string message) =>
        Results.Json(new { error = new { message, type = status == 429 ? "requests" : "invalid_request_error", param = (string?)null, code } },
            statusCode: status);

    /// <summary>The asked size (<c>WIDTHxHEIGHT</c>), 1024×1024 when none or <c>auto</c>.</summary>
    public static (int Width, int Height) SizeOf(string? size) =>
        size is not null && SizePattern().Match(size) is { Success: true } m
            ? (int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value))
            : (1024, 1024);

    public static byte[] Png(int width, int height)
    {
        using var bitmap = new SKBitmap(width, height);
        bitmap.Erase(new SKColor(250, 210, 40));
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string? Field(IFormCollection form, string name) => form.TryGetValue(name, out var value) ? value.ToString() : null;

    [GeneratedRegex(@"^(\d+)x(\d+)$")]
    private static partial Regex SizePattern();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
