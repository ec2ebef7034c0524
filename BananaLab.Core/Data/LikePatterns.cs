namespace BananaLab.Core.Data;

/// <summary>SQL <c>LIKE</c> patterns for "contains this text", with the user's own % and _ taken literally.</summary>
public static class LikePatterns
{
    /// <summary>The escape character the patterns use: pass it to <c>EF.Functions.Like</c>.</summary>
    public const string Escape = "\\";

    public static string Containing(string text) =>
        "%" + text.Trim().Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";
}
