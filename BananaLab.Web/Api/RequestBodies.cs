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
