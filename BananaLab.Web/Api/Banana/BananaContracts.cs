using System.Text.Json;
using System.Text.Json.Serialization;

namespace BananaLab.Web.Api.Banana;

/// <summary>
/// Every answer of Banana v4, success or failure: the caller's <c>id</c> as it sent it (a string or a number; a fresh UUID when none), <c>message</c> ("success", a progress sentence, or
/// "error: ..."), <c>created</c> (Unix seconds), <c>apiVersion</c>, the <c>callID</c> to check, <c>finished</c>, and one
/// <c>modelOutputs</c> entry per image once it succeeded.
/// </summary>
public sealed record BananaReply(
    [property: JsonPropertyName("id")] JsonElement Id,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("apiVersion")] string ApiVersion,
    [property: JsonPropertyName("callID")] string? CallId,
    [property: JsonPropertyName("finished")] bool Finished,
    [property: JsonPropertyName("modelOutputs")] IReadOnlyList<BananaModelOutput> ModelOutputs);

/// <summary>
/// One generated image: base64 bytes, a signed URL valid for <c>Api:ImageUrlLifetimeMinutes</c>, its size in pixels, its seed,
/// its index in the call and its content type.
/// </summary>
public sealed record BananaModelOutput(
    [property: JsonPropertyName("image_base64")] string ImageBase64,
    [property: JsonPropertyName("image_url")] string ImageUrl,
    [property: JsonPropertyName("width")] int Width,
    [property: JsonPropertyName("height")] int Height,
    [property: JsonPropertyName("seed")] long Seed,
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("content_type")] string ContentType);
