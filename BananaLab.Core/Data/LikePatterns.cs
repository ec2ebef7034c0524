namespace BananaLab.Core.Data;

/// <summary>
/// SQL <c>LIKE</c> patterns for "contains this text", with the user's own % and _ taken literally.
/// Patterns are lower case and meant for a lower-cased column (<c>EF.Functions.Like(x.Name.ToLower(), pattern, Escape)</c>):
/// SQLite's LIKE ignores case and PostgreSQL's does not, and searches must behave the same on both.
/// </summary>
public static class LikePatterns
{
    /// <summary>The escape character the patterns use: pass it to <c>EF.Functions.Like</c>.</summary>
    public const string Escape = "\\";

    public static string Containing(string text) =>
        "%" + text.Trim().ToLowerInvariant().Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";
}
