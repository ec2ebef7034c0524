namespace BananaLab.Web.Components.Viewer;

/// <summary>
/// What the browser tells the server about its viewer, in cookies set by <c>wwwroot/app.js</c>: read on every request,
/// so the very first server render already has the right theme and time zone (no light flash, no UTC first).
/// </summary>
public static class ViewerCookies
{
    /// <summary><c>dark</c> or <c>light</c>; set by the app bar's theme toggle.</summary>
    public const string Theme = "bananalab-theme";

    /// <summary>The browser's IANA time zone (<c>Intl.DateTimeFormat().resolvedOptions().timeZone</c>), set on every page load.</summary>
    public const string TimeZone = "bananalab-tz";

    /// <summary>Dark only when the viewer chose it; without a choice, light.</summary>
    public static bool IsDark(string? theme) => string.Equals(theme, "dark", StringComparison.OrdinalIgnoreCase);
}
