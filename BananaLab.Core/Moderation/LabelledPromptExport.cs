using System.Text;

namespace BananaLab.Core.Moderation;

/// <summary>One row of the labelled corpus: <c>label</c> (<c>block</c> or <c>allow</c>), <c>category</c>, <c>lang</c>, <c>prompt</c>.</summary>
public sealed record LabelledPrompt(string Label, string Category, string Lang, string Prompt);

/// <summary>
/// Reviewed decisions as the corpus format of <c>tools/moderation-eval/corpus.tsv</c> (see its README): UTF-8, tab-separated,
/// the header <c>label	category	lang	prompt</c>, one prompt a line with no tabs or line breaks inside.
/// </summary>
public static class LabelledPromptExport
{
    public const string Header = "label\tcategory\tlang\tprompt";
    public const string OtherCategory = "other";
    public const string UnknownLanguage = "und";

    /// <summary>
    /// The row a mark makes: "should have passed" is <c>allow</c>, "should have blocked" is <c>block</c> with the admin's
    /// category, "correct" keeps what was decided. The category is the decision's first (or the admin's), <c>other</c>
    /// when none.
    /// </summary>
    public static LabelledPrompt Label(string prompt, bool allowed, string decidedCategories, ModerationReviewVerdict verdict, string? reviewCategory)
    {
        var block = verdict switch
        {
            ModerationReviewVerdict.ShouldHavePassed => false,
            ModerationReviewVerdict.ShouldHaveBlocked => true,
            _ => !allowed,
        };
        var decided = decidedCategories.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        var category = verdict == ModerationReviewVerdict.ShouldHaveBlocked ? reviewCategory : decided;
        var text = Flatten(prompt);
        return new LabelledPrompt(block ? "block" : "allow", string.IsNullOrWhiteSpace(category) ? OtherCategory : category, GuessLanguage(text), text);
    }

    /// <summary>Tabs, line breaks and other control characters become spaces; runs of white space become one.</summary>
    public static string Flatten(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            var space = char.IsWhiteSpace(c) || char.IsControl(c);
            if (space && (builder.Length == 0 || builder[^1] == ' ')) continue;
            builder.Append(space ? ' ' : c);
        }
        return builder.ToString().TrimEnd();
    }

    /// <summary>The rows as TSV, header first, <c>\n</c> line ends.</summary>
    public static async Task WriteTsvAsync(IEnumerable<LabelledPrompt> rows, TextWriter writer, CancellationToken cancellationToken)
    {
        await writer.WriteAsync(Header + "\n");
        foreach (var row in rows)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await writer.WriteAsync($"{row.Label}\t{row.Category}\t{row.Lang}\t{Flatten(row.Prompt)}\n");
        }
    }

    /// <summary>
    /// A small guess of a prompt's language from its script, its letters with diacritics and a few function words:
    /// <c>ja</c>, <c>ru</c>, <c>en</c>, <c>de</c>, <c>es</c>, <c>fr</c>, <c>it</c>, <c>pt</c>, <c>nl</c>, <c>pl</c>, or
    /// <c>und</c> when nothing points one way (Han script alone may be Chinese or Japanese).
    /// </summary>
    public static string GuessLanguage(string prompt)
    {
        if (prompt.Any(c => c is >= '\u3040' and <= '\u30ff')) return "ja"; // hiragana, katakana
        var letters = prompt.Count(char.IsLetter);
        if (letters > 0 && prompt.Count(c => c is >= '\u0400' and <= '\u04ff') * 2 >= letters) return "ru";

        var scores = new Dictionary<string, int>();
        void Add(string lang, int points) => scores[lang] = scores.GetValueOrDefault(lang) + points;
        foreach (var c in prompt.ToLowerInvariant())
            foreach (var (lang, marks) in Diacritics)
                if (marks.Contains(c)) Add(lang, 2);
        var words = prompt.ToLowerInvariant().Split(WordSeparators, StringSplitOptions.RemoveEmptyEntries);
        foreach (var word in words)
            foreach (var (lang, functionWords) in FunctionWords)
                if (functionWords.Contains(word)) Add(lang, 1);

        var ranked = scores.OrderByDescending(s => s.Value).ToList();
        if (ranked.Count == 0 || (ranked.Count > 1 && ranked[1].Value == ranked[0].Value)) return UnknownLanguage;
        return ranked[0].Key;
    }

    // Dots and hyphens stay inside words: "g.o.r.e" is one (obfuscated) word, not four one-letter ones.
    private static readonly char[] WordSeparators = [' ', ',', ';', ':', '!', '?', '"', '(', ')', '/'];

    // Letters that (nearly) only one of the languages uses; é, à and ü are shared and left out.
    private static readonly (string Lang, string Marks)[] Diacritics =
    [
        ("de", "äöß"), ("es", "ñ¿¡"), ("fr", "çèêëîœù"), ("it", "ìò"), ("pt", "ãõ"), ("pl", "ąćęłńśźż"),
    ];

    private static readonly (string Lang, HashSet<string> Words)[] FunctionWords =
    [
        ("en", ["the", "an", "of", "with", "and", "in", "on", "at", "is", "my", "for", "to"]),
        ("de", ["der", "die", "das", "und", "mit", "ein", "eine", "einem", "einer", "im", "auf", "ist", "von", "zu"]),
        ("es", ["el", "los", "las", "y", "con", "una", "del", "en", "es", "por", "para"]),
        ("fr", ["le", "les", "et", "avec", "une", "des", "du", "au", "est", "sur", "dans", "pour"]),
        ("it", ["il", "gli", "con", "una", "della", "dello", "nel", "sul", "per", "è"]),
        ("pt", ["o", "os", "um", "uma", "com", "do", "da", "no", "na", "em", "para"]),
        ("nl", ["het", "een", "met", "en", "van", "op", "voor"]),
        ("pl", ["w", "z", "na", "się", "jest", "dla", "oraz"]),
    ];
}
