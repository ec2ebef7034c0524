namespace BananaLab.Web.Accounts;

/// <summary>Where to go after signing in: only a path on this site, never another origin (open redirect).</summary>
public static class LocalReturnUrl
{
    public static string From(string? returnUrl)
    {
        if (string.IsNullOrWhiteSpace(returnUrl)) return "/";
        var url = returnUrl.Trim();
        if (!url.StartsWith('/')) url = "/" + url;
        return url.StartsWith("//") || url.StartsWith("/\\") || url.Contains("://") ? "/" : PercentEncodeNonAscii(url);
    }

    /// <summary>A Location header is ASCII only: 'café' travels as 'caf%C3%A9', control characters are dropped by encoding too.</summary>
    private static string PercentEncodeNonAscii(string url)
    {
        if (url.All(c => c is > ' ' and < (char)0x7F)) return url;
        var encoded = new System.Text.StringBuilder(url.Length + 16);
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in url.EnumerateRunes())
        {
            if (rune.Value is > ' ' and < 0x7F) encoded.Append((char)rune.Value);
            else
            {
                var length = rune.EncodeToUtf8(utf8);
                foreach (var b in utf8[..length]) encoded.Append('%').Append(b.ToString("X2"));
            }
        }
        return encoded.ToString();
    }
}
