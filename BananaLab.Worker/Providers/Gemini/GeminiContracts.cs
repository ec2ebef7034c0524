using System.Text.Json.Serialization;

namespace BananaLab.Worker.Providers.Gemini;

// The parts of the Gemini API's generateContent that image generation uses, as its reference gives them
// (https://ai.google.dev/api/generate-content, https://ai.google.dev/gemini-api/docs/image-generation).
// Requests write inline data as the guide's REST examples do (inline_data, mime_type; the API reads either case);
// responses come in the reference's JSON representation (inlineData, mimeType).

/// <summary>The body of <c>POST /v1beta/models/{model}:generateContent</c>.</summary>
public sealed record GeminiGenerateRequest(
    [property: JsonPropertyName("contents")] IReadOnlyList<GeminiRequestContent> Contents,
    [property: JsonPropertyName("generationConfig")] GeminiGenerationConfig GenerationConfig);

/// <summary>One turn of the conversation: the prompt text, then any reference image.</summary>
public sealed record GeminiRequestContent(
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("parts")] IReadOnlyList<GeminiRequestPart> Parts);

/// <summary>A text part or an inline image part (exactly one of the two is set).</summary>
public sealed record GeminiRequestPart(
    [property: JsonPropertyName("text"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Text = null,
    [property: JsonPropertyName("inline_data"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] GeminiRequestBlob? InlineData = null);

/// <summary>An image sent inline: its MIME type and its bytes in base64.</summary>
public sealed record GeminiRequestBlob(
    [property: JsonPropertyName("mime_type")] string MimeType,
    [property: JsonPropertyName("data")] string Data);

/// <summary><c>generationConfig</c>: ask for images (<c>responseModalities</c>) in an aspect ratio (<c>imageConfig.aspectRatio</c>, e.g. "16:9").</summary>
public sealed record GeminiGenerationConfig(
    [property: JsonPropertyName("responseModalities")] IReadOnlyList<string> ResponseModalities,
    [property: JsonPropertyName("imageConfig")] GeminiImageConfig ImageConfig);

public sealed record GeminiImageConfig([property: JsonPropertyName("aspectRatio")] string AspectRatio);

/// <summary>The answer: candidates, or <c>promptFeedback.blockReason</c> when the prompt itself was refused.</summary>
public sealed record GeminiGenerateResponse(
    [property: JsonPropertyName("candidates")] IReadOnlyList<GeminiCandidate>? Candidates,
    [property: JsonPropertyName("promptFeedback")] GeminiPromptFeedback? PromptFeedback);

public sealed record GeminiPromptFeedback([property: JsonPropertyName("blockReason")] string? BlockReason);

/// <summary>One candidate: its parts, and why generation stopped (<c>STOP</c>, <c>IMAGE_SAFETY</c>, <c>NO_IMAGE</c>…).</summary>
public sealed record GeminiCandidate(
    [property: JsonPropertyName("content")] GeminiResponseContent? Content,
    [property: JsonPropertyName("finishReason")] string? FinishReason,
    [property: JsonPropertyName("finishMessage")] string? FinishMessage);

public sealed record GeminiResponseContent([property: JsonPropertyName("parts")] IReadOnlyList<GeminiResponsePart>? Parts);

/// <summary>A part of the answer: text, or an image in <c>inlineData</c>; <c>thought</c> marks a thinking model's draft image.</summary>
public sealed record GeminiResponsePart(
    [property: JsonPropertyName("text")] string? Text,
    [property: JsonPropertyName("inlineData")] GeminiResponseBlob? InlineData,
    [property: JsonPropertyName("thought")] bool? Thought);

public sealed record GeminiResponseBlob(
    [property: JsonPropertyName("mimeType")] string? MimeType,
    [property: JsonPropertyName("data")] string? Data);

/// <summary>An error answer: <c>{"error": {"code", "message", "status", "details"}}</c> (google.rpc.Status).</summary>
public sealed record GeminiErrorResponse([property: JsonPropertyName("error")] GeminiError? Error);

public sealed record GeminiError(
    [property: JsonPropertyName("code")] int Code,
    [property: JsonPropertyName("status")] string? Status,
    [property: JsonPropertyName("details")] IReadOnlyList<GeminiErrorDetail>? Details);

/// <summary>
/// A detail of an error: <c>google.rpc.ErrorInfo</c> (<c>reason</c>, e.g. <c>API_KEY_INVALID</c>) or
/// <c>google.rpc.RetryInfo</c> (<c>retryDelay</c>, e.g. "36s").
/// </summary>
public sealed record GeminiErrorDetail(
    [property: JsonPropertyName("@type")] string? Type,
    [property: JsonPropertyName("reason")] string? Reason,
    [property: JsonPropertyName("retryDelay")] string? RetryDelay);
