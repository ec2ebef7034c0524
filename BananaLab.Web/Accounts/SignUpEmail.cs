namespace BananaLab.Web.Accounts;

/// <summary>
/// Carries the address typed on the sign-up form to the sign-in form that follows it, so a new user only types the
/// password again. It travels in a short-lived HttpOnly cookie on <c>/account</c> (never in a URL, where it would
/// reach logs and history), and is set for a free and a taken address alike, so it tells nobody anything.
/// </summary>
public static class SignUpEmail
{
    public const string Cookie = "bananalab-signup-email";
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    public static void Remember(HttpContext context, string email) =>
        context.Response.Cookies.Append(Cookie, email.Trim(), new CookieOptions
        {
            HttpOnly = true, IsEssential = true, SameSite = SameSiteMode.Strict, Secure = context.Request.IsHttps,
            Path = "/account", MaxAge = Lifetime,
        });

    /// <summary>The remembered address, once: the cookie is removed as it is read.</summary>
    public static string? Take(HttpContext context)
    {
        if (!context.Request.Cookies.TryGetValue(Cookie, out var email) || string.IsNullOrWhiteSpace(email)) return null;
        context.Response.Cookies.Delete(Cookie, new CookieOptions { Path = "/account" });
        return email;
    }
}
