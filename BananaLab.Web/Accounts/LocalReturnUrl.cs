namespace BananaLab.Web.Accounts;

/// <summary>Where to go after signing in: only a path on this site, never another origin (open redirect).</summary>
public static class LocalReturnUrl
{
    public static string From(string? returnUrl)
    {
        if (string.IsNullOrWhiteSpace(returnUrl)) return "/";
        var url = returnUrl.Trim();
        if (!url.StartsWith('/')) url = "/" + url;
        return url.StartsWith("//") || url.StartsWith("/\\") || url.Contains("://") ? "/" : url;
    }
}
