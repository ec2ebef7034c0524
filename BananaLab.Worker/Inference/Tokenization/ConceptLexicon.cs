using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace BananaLab.Worker.Inference.Tokenization;

/// <summary>
/// banana-nano 2's prompt encoder: a fixed lexicon rewrites a prompt into <b>concept ids</b> (an emoji, a cluster of
/// broad words, a colour or a grammar word), which its text encoder embeds, so that a synonym or another language's word
/// reaches the ids the model was trained on. The rule is <c>Lexicon.concept_ids</c> of
/// <c>tools/train-nano/lexicon2.py</c>, checked against <c>lexicon_test_vectors.json</c>:
/// <list type="number">
/// <item>NFKC, lower-case (Python's <c>str.lower</c>: U+0130 becomes "i̇", a final Σ becomes ς), delete apostrophes
/// (U+0027, U+2019, U+02BC);</item>
/// <item>words are the maximal runs of Unicode categories L*, M* and N*;</item>
/// <item>greedy longest match, left to right, over keys of up to <see cref="MaxPhraseWords"/> words; an unmatched word
/// gets one suffix rewrite (<c>ies→y</c>, <c>es→</c>, <c>s→</c>, stem of at least 3 characters); a word that still
/// has no match is dropped.</item>
/// </list>
/// Files (the model's <c>tokenizer/</c> folder): <c>lexicon.tsv.gz</c>, gzipped UTF-8 lines <c>key&lt;TAB&gt;ids</c>
/// (ids space-separated, possibly none), and <c>lexicon_config.json</c> (<c>n_concepts</c>, <c>bos_token_id</c>,
/// <c>eos_token_id</c>, <c>max_length</c>, <c>max_phrase_words</c>, <c>suffix_rules</c>, <c>min_stem</c>).
/// </summary>
public sealed class ConceptLexicon
{
    /// <summary>The lexicon's file names inside a tokenizer folder.</summary>
    public const string TableFile = "lexicon.tsv.gz", ConfigFile = "lexicon_config.json";

    private readonly Dictionary<string, int[]> _table;
    private readonly (string Suffix, string Replacement)[] _suffixRules;
    private readonly int _minStem;

    private ConceptLexicon(Dictionary<string, int[]> table, LexiconConfig config)
    {
        _table = table;
        _suffixRules = [.. config.SuffixRules.Select(rule => (rule[0], rule[1]))];
        _minStem = config.MinStem;
        MaxPhraseWords = config.MaxPhraseWords;
        BosId = config.BosTokenId;
        EosId = config.EosTokenId;
        MaxLength = config.MaxLength;
    }

    /// <summary>Longest key, in words (6).</summary>
    public int MaxPhraseWords { get; }
    public int BosId { get; }
    public int EosId { get; }
    /// <summary>Ids per text-encoder call, bos and eos included (77).</summary>
    public int MaxLength { get; }

    /// <summary>Whether a tokenizer folder holds a concept lexicon.</summary>
    public static bool IsIn(string tokenizerFolder) => File.Exists(Path.Combine(tokenizerFolder, TableFile));

    /// <summary>
    /// Loads <see cref="TableFile"/> and <see cref="ConfigFile"/> from a tokenizer folder (banana-nano's: 0.4 M keys,
    /// 0.35 s and 39 MB of managed heap on the 2-core box: <c>tools/bench-inference --only parts</c>). Throws <see cref="InvalidDataException"/> naming the line or field that is wrong.
    /// </summary>
    public static ConceptLexicon Load(string tokenizerFolder)
    {
        var config = JsonSerializer.Deserialize<LexiconConfig>(File.ReadAllText(Path.Combine(tokenizerFolder, ConfigFile)))
                     ?? throw new InvalidDataException($"{ConfigFile} is empty");
        if (config.NConcepts <= 0 || config.MaxLength <= 2 || config.MaxPhraseWords <= 0 || config.SuffixRules.Any(r => r.Length != 2))
            throw new InvalidDataException($"{ConfigFile} lacks n_concepts, max_length, max_phrase_words or well-formed suffix_rules");
        var table = new Dictionary<string, int[]>(StringComparer.Ordinal);
        var shared = new Dictionary<string, int[]>(StringComparer.Ordinal); // many keys carry the same ids: one array each
        using var reader = new StreamReader(new GZipStream(File.OpenRead(Path.Combine(tokenizerFolder, TableFile)), CompressionMode.Decompress),
            Encoding.UTF8);
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            var tab = line.IndexOf('\t');
            if (tab <= 0) throw new InvalidDataException($"{TableFile} line {lineNumber}: expected key<TAB>ids");
            var idsText = line[(tab + 1)..];
            if (!shared.TryGetValue(idsText, out var ids))
            {
                ids = idsText.Length == 0 ? [] : [.. idsText.Split(' ').Select(id =>
                    int.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v < config.NConcepts
                        ? v : throw new InvalidDataException($"{TableFile} line {lineNumber}: '{id}' is not a concept id"))];
                shared[idsText] = ids;
            }
            table[line[..tab]] = ids;
        }
        return new ConceptLexicon(table, config);
    }

    private static readonly ConcurrentDictionary<(string Folder, DateTime Written, long Length), Lazy<ConceptLexicon>> Shared = new();

    /// <summary>
    /// <see cref="Load"/>, once per lexicon: folders that are the same files (banana-nano-turbo's <c>tokenizer</c> is a
    /// link to banana-nano's) share one table (39 MB) instead of holding two. A failed load is not kept.
    /// </summary>
    public static ConceptLexicon LoadShared(string tokenizerFolder)
    {
        var folder = new DirectoryInfo(tokenizerFolder);
        var real = folder.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? folder.FullName;
        var table = new FileInfo(Path.Combine(real, TableFile));
        var key = (real, table.Exists ? table.LastWriteTimeUtc : default, table.Exists ? table.Length : -1);
        var lazy = Shared.GetOrAdd(key, _ => new Lazy<ConceptLexicon>(() => Load(real)));
        try
        {
            return lazy.Value;
        }
        catch
        {
            Shared.TryRemove(KeyValuePair.Create(key, lazy));
            throw;
        }
    }

    /// <summary>The concept ids of a text, without bos/eos (any length).</summary>
    public List<int> ConceptIds(string text)
    {
        var words = Words(text);
        var ids = new List<int>();
        for (var i = 0; i < words.Count;)
        {
            var matched = false;
            for (var n = Math.Min(MaxPhraseWords, words.Count - i); n > 0 && !matched; n--)
            {
                if (!_table.TryGetValue(n == 1 ? words[i] : string.Join(' ', words.GetRange(i, n)), out var found)) continue;
                ids.AddRange(found);
                i += n;
                matched = true;
            }
            if (matched) continue;
            var word = words[i++];
            foreach (var (suffix, replacement) in _suffixRules)
            {
                if (!word.EndsWith(suffix, StringComparison.Ordinal) || word.EnumerateRunes().Count() - suffix.Length < _minStem) continue;
                if (!_table.TryGetValue(word[..^suffix.Length] + replacement, out var stemmed)) continue;
                ids.AddRange(stemmed);
                break;
            }
        }
        return ids;
    }

    /// <summary>
    /// Step 1 and 2 of the rule: the text's words, NFKC-normalized and lower-cased the way Python's <c>str.lower</c>
    /// does it, apostrophes deleted.
    /// </summary>
    public static List<string> Words(string text)
    {
        var lower = PythonLower(text.Normalize(NormalizationForm.FormKC));
        var words = new List<string>();
        var current = new StringBuilder();
        foreach (var rune in lower.EnumerateRunes())
        {
            if (rune.Value is '\'' or '\u2019' or '\u02BC') continue;
            if (Rune.GetUnicodeCategory(rune) is var category && IsWordCategory(category))
            {
                current.Append(rune.ToString());
                continue;
            }
            if (current.Length == 0) continue;
            words.Add(current.ToString());
            current.Clear();
        }
        if (current.Length > 0) words.Add(current.ToString());
        return words;
    }

    private static bool IsWordCategory(UnicodeCategory category) => category switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => true,
        UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark => true,
        UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => true,
        _ => false,
    };

    /// <summary>
    /// <c>str.lower()</c>: simple lower-case mapping plus the two full mappings that differ from it, U+0130 (İ → i +
    /// U+0307) and Greek final sigma (Σ → ς at the end of a word, Unicode 3.13 Final_Sigma, letters only).
    /// </summary>
    private static string PythonLower(string text)
    {
        var builder = new StringBuilder(text.Length);
        var runes = text.EnumerateRunes().ToArray();
        for (var i = 0; i < runes.Length; i++)
        {
            var rune = runes[i];
            if (rune.Value == 0x130) builder.Append("i\u0307");
            else if (rune.Value == 0x3A3 && i > 0 && Rune.IsLetter(runes[i - 1]) && (i + 1 == runes.Length || !Rune.IsLetter(runes[i + 1])))
                builder.Append('\u03C2');
            else builder.Append(Rune.ToLowerInvariant(rune).ToString());
        }
        return builder.ToString();
    }

    private sealed record LexiconConfig
    {
        [System.Text.Json.Serialization.JsonPropertyName("n_concepts")] public int NConcepts { get; init; }
        [System.Text.Json.Serialization.JsonPropertyName("bos_token_id")] public int BosTokenId { get; init; }
        [System.Text.Json.Serialization.JsonPropertyName("eos_token_id")] public int EosTokenId { get; init; }
        [System.Text.Json.Serialization.JsonPropertyName("max_length")] public int MaxLength { get; init; } = 77;
        [System.Text.Json.Serialization.JsonPropertyName("max_phrase_words")] public int MaxPhraseWords { get; init; } = 6;
        [System.Text.Json.Serialization.JsonPropertyName("suffix_rules")] public string[][] SuffixRules { get; init; } = [];
        [System.Text.Json.Serialization.JsonPropertyName("min_stem")] public int MinStem { get; init; } = 3;
    }
}
