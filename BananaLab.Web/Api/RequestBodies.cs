using System.Text.Json;
using BananaLab.Core.Errors;
using BananaLab.Core.Tasks;

namespace BananaLab.Web.Api;

/// <summary>Reads a request body once, within the configured cap, so it can be hashed and then parsed.</summary>
public static class RequestBodies
{
    /// <summary>
    /// The one cap on a request body (32 MiB), for every endpoint: the server's own limit is set to it too
    /// (<see cref="UseBodyLimit"/>), so a dialect always sees an oversize body first and answers in its envelope.
    /// </summary>
    public const long MaxBytes = 32 * 1024 * 1024;

    public static IHostApplicationBuilder UseBodyLimit(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(o => o.Limits.MaxRequestBodySize = MaxBytes);
        builder.Services.Configure<Microsoft.AspNetCore.Http.Features.FormOptions>(o => o.MultipartBodyLengthLimit = MaxBytes);
        return builder;
    }

    /// <summary>The body bytes, or null when it is larger than <see cref="MaxBytes"/>.</summary>
    public static async Task<byte[]?> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBytes) return null;
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        try
        {
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > MaxBytes) return null;
                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null; // a chunked body that outgrew the server's limit
        }
        return buffer.ToArray();
    }

    /// <summary>
    /// Reads the body as one JSON object (an empty body counts as <c>{}</c> when <paramref name="emptyIsObject"/>), or says
    /// why it cannot: <c>body_too_large</c> or <c>invalid_request</c>. Every dialect answers the error in its own envelope.
    /// </summary>
    public static async Task<(JsonElement Body, TaskError? Error)> ReadJsonObjectAsync(HttpRequest request,
        CancellationToken cancellationToken, bool emptyIsObject = false)
    {
        var bytes = await ReadAsync(request, cancellationToken);
        if (bytes is null) return (default, TooLarge());
        if (bytes.Length == 0 && emptyIsObject) bytes = "{}"u8.ToArray();
        try
        {
            var body = JsonDocument.Parse(bytes).RootElement;
            if (body.ValueKind != JsonValueKind.Object)
                return (default, TaskErrors.InvalidRequest("The request body must be a JSON object."));
            return HasUnreadableText(body)
                ? (default, TaskErrors.InvalidRequest(
                    "The request body holds text that is not valid Unicode (a lone surrogate such as \\ud800, or bytes that are not UTF-8)."))
                : (body, null);
        }
        catch (JsonException e)
        {
            return (default, TaskErrors.InvalidRequest($"The request body is not valid JSON ({e.Message})."));
        }
    }

    /// <summary>The answer to a body over <see cref="MaxBytes"/>.</summary>
    public static TaskError TooLarge() => new(ErrorTypes.BodyTooLarge, "The request body is too large.");

    /// <summary>
    /// The parser accepts a lone surrogate escape or invalid UTF-8 inside a string and only fails when the
    /// string is read; read every name and string once here, so no handler meets that failure later.
    /// </summary>
    private static bool HasUnreadableText(JsonElement element)
    {
        try
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (var property in element.EnumerateObject())
                        if (property.Name is null || HasUnreadableText(property.Value)) return true;
                    return false;
                case JsonValueKind.Array:
                    foreach (var item in element.EnumerateArray())
                        if (HasUnreadableText(item)) return true;
                    return false;
                case JsonValueKind.String:
                    _ = element.GetString();
                    return false;
                default:
                    return false;
            }
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }

    /// <summary>Decodes standard base64 or a data URL (as browsers produce), or returns false.</summary>
    public static bool TryDecodeBase64(string? value, out byte[] bytes)
    {
        bytes = [];
        if (string.IsNullOrWhiteSpace(value)) return false;
        var comma = value.StartsWith("data:", StringComparison.OrdinalIgnoreCase) ? value.IndexOf(',') : -1;
        var payload = (comma >= 0 ? value[(comma + 1)..] : value).Trim();
        var buffer = new byte[payload.Length * 3 / 4 + 3];
        if (!Convert.TryFromBase64String(payload, buffer, out var written)) return false;
        bytes = buffer[..written];
        return true;
    }
}
