using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace BananaLab.Core.Data;

/// <summary>
/// SQL <c>LIKE</c> patterns for "contains this text", with the user's own % and _ taken literally.
/// Patterns are meant for a lower-cased column (<c>EF.Functions.Like(x.Name.ToLower(), pattern, Escape)</c>):
/// SQLite's LIKE ignores case and PostgreSQL's does not, and searches must behave the same on both.
/// The pattern is folded the way the engine's <c>lower()</c> folds the column: SQLite folds only A–Z
/// (other letters match as typed, as SQLite's LIKE always did), PostgreSQL every letter.
/// </summary>
public static class LikePatterns
{
    /// <summary>The escape character the patterns use: pass it to <c>EF.Functions.Like</c>.</summary>
    public const string Escape = "\\";

    public static string Containing(DatabaseFacade database, string text)
    {
        var trimmed = text.Trim();
        var folded = database.IsSqlite()
            ? string.Concat(trimmed.Select(c => c is >= 'A' and <= 'Z' ? (char)(c + ('a' - 'A')) : c))
            : trimmed.ToLowerInvariant();
        return "%" + folded.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";
    }
}
