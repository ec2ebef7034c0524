namespace BananaLab.Web.Api;

/// <summary>Reads a request body once, within the configured cap, so it can be hashed and then parsed.</summary>
public static class RequestBodies
{
    public const long MaxBytes = 32 * 1024 * 1024;

    /// <summary>The body bytes, or null when it is larger than <see cref="MaxBytes"/>.</summary>
    public static async Task<byte[]?> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBytes) return null;
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBytes) return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    /// <summary>A body that could not be read as a JSON object: the status to answer and a sentence saying why.</summary>
    public sealed record BodyError(int Status, string Message);

    /// <summary>
    /// Reads the body as one JSON object (an empty body counts as <c>{}</c> when <paramref name="emptyIsObject"/>).
    /// Every dialect wraps the error in its own envelope.
    /// </summary>
    public static async Task<(System.Text.Json.JsonElement Body, BodyError? Error)> ReadJsonObjectAsync(HttpRequest request,
        CancellationToken cancellationToken, bool emptyIsObject = false)
    {
        var bytes = await ReadAsync(request, cancellationToken);
        if (bytes is null) return (default, new BodyError(StatusCodes.Status413PayloadTooLarge, "The request body is too large."));
        if (bytes.Length == 0 && emptyIsObject) bytes = "{}"u8.ToArray();
        try
        {
            var body = System.Text.Json.JsonDocument.Parse(bytes).RootElement;
            return body.ValueKind == System.Text.Json.JsonValueKind.Object
                ? (body, null)
                : (default, new BodyError(StatusCodes.Status400BadRequest, "The request body must be a JSON object."));
        }
        catch (System.Text.Json.JsonException e)
        {
            return (default, new BodyError(StatusCodes.Status400BadRequest, $"The request body is not valid JSON ({e.Message})."));
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
