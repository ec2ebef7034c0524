using System.Text.Json.Serialization;

namespace BananaLab.Web.Api.OpenAI;

/// <summary>
/// OpenAI's images response: <c>created</c> (Unix seconds), one <c>data</c> entry per image, the <c>output_format</c> and the
/// <c>size</c> actually produced (<c>WIDTHxHEIGHT</c>).
/// </summary>
public sealed record OpenAiImagesResponse(
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("data")] IReadOnlyList<OpenAiImage> Data,
    [property: JsonPropertyName("output_format")] string OutputFormat,
    [property: JsonPropertyName("size")] string Size);

/// <summary>One image: a signed, expiring <c>url</c> or the base64 bytes (<c>b64_json</c>), as <c>response_format</c> asked.</summary>
public sealed record OpenAiImage
{
    [JsonPropertyName("url"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Url { get; init; }

    [JsonPropertyName("b64_json"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? B64Json { get; init; }

    [JsonPropertyName("revised_prompt")]
    public required string RevisedPrompt { get; init; }
}

/// <summary>OpenAI's error envelope: <c>{"error": {"message", "type", "param", "code"}}</c>.</summary>
public sealed record OpenAiErrorResponse([property: JsonPropertyName("error")] OpenAiError Error);

/// <summary>
/// What went wrong: a sentence, OpenAI's <c>type</c> (<c>invalid_request_error</c>, <c>rate_limit_error</c>, <c>server_error</c>),
/// the parameter it concerns (null when none) and a <c>code</c> (BananaLab's, or OpenAI's own where it has one).
/// </summary>
public sealed record OpenAiError(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("param")] string? Param,
    [property: JsonPropertyName("code")] string Code);

/// <summary>
/// <c>GET /v1/models</c>: <c>{"object": "list", "data": [...]}</c> with one <see cref="OpenAiModel"/> per catalog model
/// (https://platform.openai.com/docs/api-reference/models/list).
/// </summary>
public sealed record OpenAiModelList([property: JsonPropertyName("data")] IReadOnlyList<OpenAiModel> Data)
{
    [JsonPropertyName("object"), JsonPropertyOrder(-1)]
    public string Object => "list";
}

/// <summary>A model: its <c>id</c> (the catalog's), <c>created</c> (Unix seconds: when this server started) and <c>owned_by</c> (its provider).</summary>
public sealed record OpenAiModel(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("owned_by")] string OwnedBy)
{
    [JsonPropertyName("object"), JsonPropertyOrder(1)]
    public string Object => "model";
}
