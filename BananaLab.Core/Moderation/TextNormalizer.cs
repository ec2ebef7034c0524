using System.Globalization;
using System.Text;

namespace BananaLab.Core.Moderation;

/// <summary>
/// Turns a prompt (and every term) into the forms the matcher compares: NFKC, lower case, no diacritics,
/// no zero-width characters, Cyrillic and Greek look-alikes mapped to Latin, leetspeak decoded, letters
/// spelled out with separators ("s.e.x", "s e x") joined, and runs of three or more repeated letters
/// collapsed. Words stay separated by single spaces so the matcher can respect word boundaries.
/// </summary>
public static class TextNormalizer
{
    private static readonly Dictionary<char, char> Homoglyphs = new()
    {
        // Cyrillic
        ['а'] = 'a', ['в'] = 'b', ['е'] = 'e', ['ё'] = 'e', ['к'] = 'k', ['м'] = 'm', ['н'] = 'h', ['о'] = 'o', ['р'] = 'p',
        ['с'] = 'c', ['т'] = 't', ['у'] = 'y', ['х'] = 'x', ['і'] = 'i', ['ї'] = 'i', ['ј'] = 'j', ['ѕ'] = 's', ['ԁ'] = 'd',
        ['ԛ'] = 'q', ['ԝ'] = 'w', ['һ'] = 'h', ['ӏ'] = 'l', ['ɡ'] = 'g',
        // Greek
        ['α'] = 'a', ['β'] = 'b', ['ε'] = 'e', ['η'] = 'n', ['ι'] = 'i', ['κ'] = 'k', ['μ'] = 'u', ['ν'] = 'v', ['ο'] = 'o',
        ['ρ'] = 'p', ['τ'] = 't', ['υ'] = 'u', ['χ'] = 'x', ['γ'] = 'y', ['ω'] = 'w', ['ς'] = 's',
    };

    private static readonly Dictionary<char, char> Leet = new()
    {
        ['0'] = 'o', ['1'] = 'i', ['3'] = 'e', ['4'] = 'a', ['5'] = 's', ['7'] = 't', ['@'] = 'a', ['$'] = 's', ['!'] = 'i', ['€'] = 'e',
    };

    /// <summary>The forms of a text the matcher looks at; a term matches if it matches any of them.</summary>
    public static IReadOnlyList<string> Variants(string text)
    {
        var basic = Fold(text);
        var words = Words(basic, keepInnerSeparators: false);
        var joined = JoinSpelledLetters(Words(basic, keepInnerSeparators: true));
        var variants = new List<string>(4) { Collapse(string.Join(' ', words)) };
        foreach (var candidate in new[] { Collapse(string.Join(' ', joined)), Collapse(string.Join(' ', words), toOne: true) })
            if (!variants.Contains(candidate)) variants.Add(candidate);
        if (basic.Contains('1'))
        {
            var withL = Collapse(string.Join(' ', Words(basic.Replace('1', 'l'), keepInnerSeparators: false)));
            if (!variants.Contains(withL)) variants.Add(withL);
        }
        return variants;
    }

    /// <summary>The single canonical form of a term (terms are written plainly, so one form is enough).</summary>
    public static string Term(string term) => Collapse(string.Join(' ', Words(Fold(term), keepInnerSeparators: false)));

    /// <summary>Unicode folding shared by texts and terms: NFKC, case, diacritics, look-alikes, zero-width characters.</summary>
    private static string Fold(string text)
    {
        var compatible = text.Normalize(NormalizationForm.FormKC).ToLowerInvariant().Replace("ß", "ss");
        var decomposed = compatible.Normalize(NormalizationForm.FormD);
        var builder = new StringBuilder(decomposed.Length);
        foreach (var c in decomposed)
        {
            var category = CharUnicodeInfo.GetUnicodeCategory(c);
            if (category is UnicodeCategory.NonSpacingMark or UnicodeCategory.Format) continue; // accents, zero-width joiners
            builder.Append(Homoglyphs.GetValueOrDefault(c, c));
        }
        return builder.ToString();
    }

    /// <summary>
    /// Splits into words. Leetspeak is decoded inside words that contain a letter (so "2024" stays a number).
    /// With <paramref name="keepInnerSeparators"/> a word like "s.e.x" stays one word ("sex"); without, separators split words.
    /// </summary>
    private static List<string> Words(string text, bool keepInnerSeparators)
    {
        var words = new List<string>();
        foreach (var raw in text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            var hasLetter = raw.Any(char.IsLetter);
            var word = new StringBuilder(raw.Length);
            for (var i = 0; i < raw.Length; i++)
            {
                var c = raw[i];
                // Digits stand for letters anywhere in a word; symbols only when a letter or digit follows ("k!ll", not "wow!").
                var decode = hasLetter && (char.IsDigit(c) || (i + 1 < raw.Length && char.IsLetterOrDigit(raw[i + 1])));
                var mapped = decode && Leet.TryGetValue(c, out var letter) ? letter : c;
                if (char.IsLetterOrDigit(mapped)) word.Append(mapped);
                else if (!keepInnerSeparators || mapped is not ('.' or '-' or '_' or '*' or '+' or '\'' or '’' or '|'))
                {
                    if (word.Length > 0) words.Add(word.ToString());
                    word.Clear();
                }
            }
            if (word.Length > 0) words.Add(word.ToString());
        }
        return words;
    }

    /// <summary>"s e x" → "sex": runs of two or more single-letter words are joined into one word.</summary>
    private static List<string> JoinSpelledLetters(List<string> words)
    {
        var result = new List<string>(words.Count);
        var run = new StringBuilder();
        foreach (var word in words)
        {
            if (word.Length == 1 && char.IsLetter(word[0])) { run.Append(word); continue; }
            Flush();
            result.Add(word);
        }
        Flush();
        return result;

        void Flush()
        {
            if (run.Length > 0) result.Add(run.ToString());
            run.Clear();
        }
    }

    /// <summary>Collapses runs of three or more of the same letter to two (or, with <paramref name="toOne"/>, to one).</summary>
    private static string Collapse(string text, bool toOne = false)
    {
        var builder = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length;)
        {
            var j = i;
            while (j < text.Length && text[j] == text[i]) j++;
            var run = j - i;
            builder.Append(text[i], run >= 3 && char.IsLetter(text[i]) ? (toOne ? 1 : 2) : run);
            i = j;
        }
        return builder.ToString();
    }
}
