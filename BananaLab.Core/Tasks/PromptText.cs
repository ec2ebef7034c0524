using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace BananaLab.Core.Tasks;

/// <summary>What counts as a prompt: text with at least one character a model (and a reader) can see.</summary>
public static class PromptText
{
    /// <summary>
    /// False for null, empty, whitespace, and text made only of invisible characters: format characters (zero-width
    /// space and joiners, word joiner, BOM, soft hyphen, bidi marks, tags), controls, separators, variation selectors
    /// and the blank "filler" letters, so such a prompt is refused instead of being charged for noise.
    /// </summary>
    public static bool HasVisibleText([NotNullWhen(true)] string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return false;
        foreach (var rune in text.EnumerateRunes())
            if (!IsInvisible(rune)) return true;
        return false;
    }

    private static bool IsInvisible(Rune rune)
    {
        if (Rune.IsWhiteSpace(rune)) return true;
        switch (Rune.GetUnicodeCategory(rune))
        {
            case UnicodeCategory.Format or UnicodeCategory.Control or UnicodeCategory.SpaceSeparator
                or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
                or UnicodeCategory.Surrogate:
                return true;
        }
        return rune.Value is 0x034F // combining grapheme joiner
            or >= 0xFE00 and <= 0xFE0F or >= 0xE0100 and <= 0xE01EF // variation selectors
            or 0x115F or 0x1160 or 0x3164 or 0xFFA0 // Hangul fillers
            or 0x2800 // braille blank
            or 0x180E; // Mongolian vowel separator
    }
}
