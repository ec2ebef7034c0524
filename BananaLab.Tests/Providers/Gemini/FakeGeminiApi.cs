using System.Collections.Concurrent;
using System.Text.Json;
using BananaLab.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using SkiaSharp;

namespace BananaLab.Tests.Providers.Gemini;

/// <summary>
/// The Gemini API's <c>generateContent</c> on loopback, as its reference documents it (https://ai.google.dev/api/generate-content):
/// <c>POST /v1beta/models/{model}:generateContent</c> with the key in <c>x-goog-api-key</c>. It refuses what the real one
/// refuses (no key: 403; a key in the URL, a body without <c>contents</c> or image modality: 400) and otherwise answers as
/// the prompt asks: "[429]" rate-limits the first call, "[500]", "[401]", "[bad-key]" (400 API_KEY_INVALID) fail,
/// "[refuse-prompt]" and "[refuse-image]" refuse, "[empty]" answers text only, "[broken]" an image that is not one,
/// "[hang]" never answers; anything else gets a 1024×1024 PNG (after a text part and a draft image marked <c>thought</c>).
/// </summary>
public sealed class FakeGeminiApi : IAsyncDisposable
{
    public const string Key = "AIzaSy-test-gemini-key-4f1c9a";

    /// <summary>What it answers with: a final image of a 1K square PNG task's exact size, stored as it is.</summary>
    public static readonly byte[] Image = ScriptedGenerator.SolidPng(new SKColor(30, 200, 60), 1024);
    /// <summary>The thinking model's draft, which must not become the task's image.</summary>
    public static readonly byte[] Draft = ScriptedGenerator.SolidPng(new SKColor(20, 20, 230), 64);

    private readonly ConcurrentDictionary<string, int> _seen = new();

    public LoopbackProviderServer Server { get; }

    /// <summary>Requests whose connection the caller closed before an answer (the "[hang]" ones).</summary>
    public ConcurrentQueue<string> Abandoned { get; } = new();

    public FakeGeminiApi() => Server = LoopbackProviderServer.Start(app => app.MapPost("/v1beta/models/{modelAction}", AnswerAsync));

    private async Task AnswerAsync(HttpContext context, string modelAction)
    {
        var call = await Server.RecordAsync(context, PromptOf);
        var prompt = call.Prompt ?? "";
        if (!modelAction.EndsWith(":generateContent", StringComparison.Ordinal))
        {
            await Error(context, 404, "NOT_FOUND");
            return;
        }
        if (context.Request.Query.ContainsKey("key") || prompt.Length == 0 || !AsksForImages(call.Body))
        {
            await Error(context, 400, "INVALID_ARGUMENT");
            return;
        }
        if (prompt.Contains("[401]"))
        {
            await Error(context, 401, "UNAUTHENTICATED");
            return;
        }
        if (prompt.Contains("[bad-key]"))
        {
            await Error(context, 400, "INVALID_ARGUMENT", """{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}""");
            return;
        }
        if (context.Request.Headers["x-goog-api-key"] != Key)
        {
            await Error(context, 403, "PERMISSION_DENIED");
            return;
        }
        var seen = _seen.AddOrUpdate(prompt, 1, (_, n) => n + 1);
        if (prompt.Contains("[429]") && seen == 1)
        {
            context.Response.Headers.RetryAfter = "1";
            await Error(context, 429, "RESOURCE_EXHAUSTED", """{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1s"}""");
            return;
        }
        if (prompt.Contains("[500]"))
        {
            await Error(context, 500, "INTERNAL");
            return;
        }
        if (prompt.Contains("[hang]"))
        {
            try
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                Abandoned.Enqueue(prompt);
            }
            return;
        }
        await context.Response.WriteAsJsonAsync(JsonDocument.Parse(AnswerFor(prompt)).RootElement);
    }

    private static string AnswerFor(string prompt)
    {
        if (prompt.Contains("[refuse-prompt]")) return """{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"}}""";
        if (prompt.Contains("[refuse-image]"))
            return """{"candidates":[{"finishReason":"IMAGE_SAFETY","finishMessage":"The image may violate the policy.","index":0}]}""";
        if (prompt.Contains("[empty]"))
            return """{"candidates":[{"content":{"role":"model","parts":[{"text":"I would rather describe it."}]},"finishReason":"STOP"}]}""";
        var image = prompt.Contains("[broken]") ? "bm90IGFuIGltYWdlIGF0IGFsbA==" : Convert.ToBase64String(Image);
        return $$$"""
            {"candidates":[{"content":{"role":"model","parts":[
              {"text":"Here is your image."},
              {"inlineData":{"mimeType":"image/png","data":"{{{Convert.ToBase64String(Draft)}}}"},"thought":true},
              {"inlineData":{"mimeType":"image/png","data":"{{{image}}}"}}]},
             "finishReason":"STOP","index":0}],
             "usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":1290},"modelVersion":"gemini-2.5-flash-image"}
            """;
    }

    /// <summary>The text of the first part of the first content.</summary>
    private static string? PromptOf(JsonElement body) =>
        body.TryGetProperty("contents", out var contents) && contents.ValueKind == JsonValueKind.Array && contents.GetArrayLength() > 0
        && contents[0].TryGetProperty("parts", out var parts) && parts.GetArrayLength() > 0 && parts[0].TryGetProperty("text", out var text)
            ? text.GetString()
            : null;

    private static bool AsksForImages(JsonElement body) =>
        body.TryGetProperty("generationConfig", out var config) && config.TryGetProperty("responseModalities", out var modalities)
        && modalities.EnumerateArray().Any(m => m.GetString() == "IMAGE");

    private static async Task Error(HttpContext context, int code, string status, string? detail = null)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(
            $$$"""{"error":{"code":{{{code}}},"message":"Test failure {{{status}}}.","status":"{{{status}}}","details":[{{{detail}}}]}}""");
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
