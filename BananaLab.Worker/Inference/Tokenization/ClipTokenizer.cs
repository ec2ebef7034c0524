using System.Globalization;
using System.Text;
using System.Text.Json;
using BananaLab.Core.Generation;
using BananaLab.Worker.Inference.Runtime;
using Microsoft.ML.Tokenizers;

namespace BananaLab.Worker.Inference.Tokenization;

/// <summary>
/// CLIP's tokenizer (openai/CLIP simple_tokenizer.py, HF CLIPTokenizer): a prompt's BPE ids with bos/eos framing, eos
/// padding and 77-token chunking. The ids come from one of the two layouts a model folder may have (<see cref="ForModel"/>):
/// <list type="bullet">
/// <item><c>tokenizer/vocab.json</c> and <c>merges.txt</c> (Hugging Face Optimum): Microsoft.ML.Tokenizers' byte-level
/// <see cref="BpeTokenizer"/> with CLIP's <c>&lt;/w&gt;</c> end-of-word suffix, lower-casing and CLIP's pre-tokenizer;</item>
/// <item>a tokenizer graph, <c>tokenizer/model.onnx</c> (OnnxStack, Amuse) or <c>cliptokenizer.onnx</c> (Microsoft's C#
/// Stable Diffusion sample): ONNX Runtime Extensions' <c>CLIPTokenizer</c> operator (<see cref="ClipTokenizerGraph"/>);</item>
/// <item>a concept lexicon, <c>tokenizer/lexicon.tsv.gz</c> (banana-nano 2, <see cref="ConceptLexicon"/>): concept ids in
/// place of BPE ids, framed and chunked the same way.</item>
/// </list>
/// </summary>
public sealed class ClipTokenizer : IDisposable
{
    public const string StartOfText = "<|startoftext|>";
    public const string EndOfText = "<|endoftext|>";
    private const string EndOfWord = "</w>";
    private const int ClipMaxLength = 77;
    private static readonly string[] Contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];

    /// <summary>The paths, relative to a model folder, where a tokenizer graph is looked for, in order.</summary>
    public static readonly string[] GraphPaths = ["tokenizer/model.onnx", "cliptokenizer.onnx"];

    private readonly Func<string, IReadOnlyList<int>> _encode;
    private readonly IDisposable? _owned;

    private ClipTokenizer(Func<string, IReadOnlyList<int>> encode, int bos, int eos, int pad, int maxLength, IDisposable? owned = null)
    {
        _encode = encode;
        _owned = owned;
        BosId = bos;
        EosId = eos;
        PadId = pad;
        MaxLength = maxLength;
    }

    /// <summary>A tokenizer over a vocabulary and merge list (the Optimum layout), with Microsoft.ML.Tokenizers.</summary>
    public ClipTokenizer(Dictionary<string, int> vocab, IEnumerable<string> merges, int maxLength = ClipMaxLength, string? padToken = null)
        : this(Bpe(vocab, merges), vocab.GetValueOrDefault(StartOfText), vocab.GetValueOrDefault(EndOfText),
            padToken is not null && vocab.TryGetValue(padToken, out var pad) ? pad : vocab.GetValueOrDefault(EndOfText), maxLength)
    {
    }

    private static Func<string, IReadOnlyList<int>> Bpe(Dictionary<string, int> vocab, IEnumerable<string> merges)
    {
        if (!vocab.TryGetValue(StartOfText, out var bos) || !vocab.TryGetValue(EndOfText, out var eos))
            throw new InvalidDataException($"the vocabulary lacks {StartOfText} or {EndOfText}");
        var bpe = BpeTokenizer.Create(new BpeOptions(vocab)
        {
            Merges = merges,
            ByteLevel = true,
            EndOfWordSuffix = EndOfWord,
            PreTokenizer = new ClipPreTokenizer(),
            Normalizer = new ClipLowerCaseNormalizer(),
            SpecialTokens = new Dictionary<string, int> { [StartOfText] = bos, [EndOfText] = eos },
        });
        return text => bpe.EncodeToIds(text);
    }

    /// <summary>
    /// The tokenizer of a model folder: its tokenizer graph when it has one (<see cref="GraphPaths"/>), else its concept
    /// lexicon (<see cref="ConceptLexicon"/>), else <c>tokenizer/vocab.json</c> and <c>merges.txt</c>. Throws
    /// <c>model_unavailable</c> naming the file when none loads.
    /// </summary>
    /// <param name="modelFolder">The model folder (absolute).</param>
    /// <param name="displayFolder">The folder as a user should read it in an error message.</param>
    public static ClipTokenizer ForModel(string modelFolder, string displayFolder, OnnxSessionFactory sessions)
    {
        var graph = GraphPaths.FirstOrDefault(relative => File.Exists(Path.Combine(modelFolder, relative)));
        var tokenizerFolder = Path.Combine(modelFolder, "tokenizer");
        if (graph is null && ConceptLexicon.IsIn(tokenizerFolder)) return LoadLexicon(tokenizerFolder, $"{displayFolder}/tokenizer");
        if (graph is null) return Load(tokenizerFolder, $"{displayFolder}/tokenizer");
        int maxLength;
        int? padId;
        try
        {
            (maxLength, _, padId) = ReadConfig(Path.Combine(modelFolder, "tokenizer"));
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            throw new GenerationException(GenerationErrors.ModelUnavailable,
                $"{displayFolder}/tokenizer has an unreadable config: {e.Message}", transient: false, e);
        }
        var tokenizerGraph = ClipTokenizerGraph.Open(sessions, Path.Combine(modelFolder, graph), $"{displayFolder}/{graph}");
        return new ClipTokenizer(tokenizerGraph.Encode, tokenizerGraph.BosId, tokenizerGraph.EosId, padId ?? tokenizerGraph.EosId,
            maxLength, tokenizerGraph);
    }

    public int BosId { get; }
    public int EosId { get; }
    public int PadId { get; }
    /// <summary>Ids per text-encoder call, bos and eos included (77 for CLIP).</summary>
    public int MaxLength { get; }
    /// <summary>Prompt tokens that fit in one chunk between bos and eos.</summary>
    public int TokensPerChunk => MaxLength - 2;

    /// <summary>Loads <c>vocab.json</c>, <c>merges.txt</c> and the optional configs from a tokenizer folder.</summary>
    public static ClipTokenizer Load(string folder, string displayFolder)
    {
        var vocabPath = Path.Combine(folder, "vocab.json");
        var mergesPath = Path.Combine(folder, "merges.txt");
        foreach (var (path, name) in new[] { (vocabPath, "vocab.json"), (mergesPath, "merges.txt") })
            if (!File.Exists(path))
                throw new GenerationException(GenerationErrors.ModelUnavailable, $"{displayFolder}/{name} is missing.");
        try
        {
            var vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(vocabPath))
                        ?? throw new InvalidDataException("vocab.json is empty");
            var merges = File.ReadLines(mergesPath)
                .Where(line => !line.StartsWith("#version", StringComparison.Ordinal) && line.Trim().Length > 0)
                .ToList();
            var (maxLength, padToken, _) = ReadConfig(folder);
            return new ClipTokenizer(vocab, merges, maxLength, padToken);
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or IOException)
        {
            throw new GenerationException(GenerationErrors.ModelUnavailable,
                $"{displayFolder} is corrupt or unreadable: {e.Message}", transient: false, e);
        }
    }

    /// <summary>A concept-lexicon tokenizer (<see cref="ConceptLexicon"/>) from a tokenizer folder; pads with eos.</summary>
    public static ClipTokenizer LoadLexicon(string folder, string displayFolder)
    {
        try
        {
            var lexicon = ConceptLexicon.LoadShared(folder);
            return new ClipTokenizer(lexicon.ConceptIds, lexicon.BosId, lexicon.EosId, lexicon.EosId, lexicon.MaxLength);
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or IOException)
        {
            throw new GenerationException(GenerationErrors.ModelUnavailable,
                $"{displayFolder} has a corrupt or unreadable concept lexicon: {e.Message}", transient: false, e);
        }
    }

    /// <summary>
    /// <c>model_max_length</c> (77 unless given), and the pad token by name and by id, from the optional
    /// <c>special_tokens_map.json</c> and <c>tokenizer_config.json</c> of a tokenizer folder.
    /// </summary>
    private static (int MaxLength, string? PadToken, int? PadId) ReadConfig(string folder)
    {
        var maxLength = ClipMaxLength;
        string? pad = null;
        int? padId = null;
        foreach (var name in new[] { "special_tokens_map.json", "tokenizer_config.json" })
        {
            var path = Path.Combine(folder, name);
            if (!File.Exists(path)) continue;
            using var json = JsonDocument.Parse(File.ReadAllText(path));
            var root = json.RootElement;
            if (root.TryGetProperty("model_max_length", out var max) && max.ValueKind == JsonValueKind.Number
                && max.TryGetInt32(out var m) && m is > 2 and <= 4096)
                maxLength = m;
            if (root.TryGetProperty("pad_token", out var p))
                pad = p.ValueKind == JsonValueKind.String ? p.GetString()
                    : p.ValueKind == JsonValueKind.Object && p.TryGetProperty("content", out var c) ? c.GetString() : pad;
            if (root.TryGetProperty("pad_token_id", out var id) && id.ValueKind == JsonValueKind.Number && id.TryGetInt32(out var i))
                padId = i;
        }
        return (maxLength, pad, padId);
    }

    /// <summary>The BPE ids of a text, without bos/eos.</summary>
    public List<int> Encode(string text) => [.. _encode(CleanWhitespace(text))];

    /// <summary>One model input as CLIP builds it: [bos] + the first 75 ids + [eos], padded to 77.</summary>
    public long[] EncodeForModel(string text) => Chunk(Encode(text), 0);

    /// <summary>
    /// All of a prompt as model inputs: every 75 ids become one [bos] + 75 + [eos] chunk, so a long
    /// prompt is encoded in pieces rather than silently cut. An empty prompt is one chunk.
    /// </summary>
    public IReadOnlyList<long[]> EncodeChunks(string text)
    {
        var ids = Encode(text);
        var count = Math.Max(1, (ids.Count + TokensPerChunk - 1) / TokensPerChunk);
        return Enumerable.Range(0, count).Select(i => Chunk(ids, i * TokensPerChunk)).ToList();
    }

    private long[] Chunk(List<int> ids, int start)
    {
        var chunk = new long[MaxLength];
        Array.Fill(chunk, PadId);
        chunk[0] = BosId;
        var take = Math.Clamp(ids.Count - start, 0, TokensPerChunk);
        for (var i = 0; i < take; i++) chunk[1 + i] = ids[start + i];
        chunk[1 + take] = EosId;
        return chunk;
    }

    public void Dispose() => _owned?.Dispose();

    /// <summary>
    /// Python's <c>str.lower()</c>, which CLIP lower-cases prompts with: .NET's invariant lower-casing plus the two full
    /// mappings it lacks (Unicode SpecialCasing.txt): U+0130 → "i̇" (i and U+0307), and Σ → ς at the end of a word
    /// (Final_Sigma: after a cased letter, not before one, case-ignorable characters skipped).
    /// </summary>
    internal static string Lower(string text)
    {
        var lowered = text.ToLowerInvariant();
        if (!text.Contains('\u0130') && !text.Contains('\u03A3')) return lowered;
        var builder = new StringBuilder(text.Length + 4);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\u0130') builder.Append("i\u0307");
            else if (text[i] == '\u03A3' && IsFinalSigma(text, i)) builder.Append('\u03C2');
            else builder.Append(lowered[i]);
        }
        return builder.ToString();
    }

    private static bool IsFinalSigma(string text, int at)
    {
        var before = at - 1;
        while (before >= 0 && IsCaseIgnorable(text[before])) before--;
        if (before < 0 || !IsCased(text[before])) return false;
        var after = at + 1;
        while (after < text.Length && IsCaseIgnorable(text[after])) after++;
        return after == text.Length || !IsCased(text[after]);
    }

    private static bool IsCased(char c) => char.IsUpper(c) || char.IsLower(c)
        || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.TitlecaseLetter;

    private static bool IsCaseIgnorable(char c) => CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.NonSpacingMark
        or UnicodeCategory.EnclosingMark or UnicodeCategory.Format or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol
        || c is '\'' or '.' or ':' or '\u00B7' or '\u0387' or '\u2018' or '\u2019' or '\u2024' or '\u2027' or '\uFE52' or '\uFF07' or '\uFF0E';

    /// <summary>Python's <c>" ".join(text.split())</c>.</summary>
    internal static string CleanWhitespace(string text)
    {
        var builder = new StringBuilder(text.Length);
        var pendingSpace = false;
        foreach (var rune in text.EnumerateRunes())
        {
            if (IsPythonSpace(rune)) { pendingSpace = builder.Length > 0; continue; }
            if (pendingSpace) { builder.Append(' '); pendingSpace = false; }
            builder.Append(rune.ToString());
        }
        return builder.ToString();
    }

    /// <summary>
    /// CLIP's pre-tokenizer regex, alternatives tried in order at each position:
    /// <c>&lt;|startoftext|&gt;|&lt;|endoftext|&gt;|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+</c>.
    /// Walks runes (code points) like Python so emoji outside the BMP are one character.
    /// </summary>
    internal static List<string> PreTokenize(string text) =>
        PreTokenSpans(text).Select(span => text.Substring(span.Offset, span.Length)).ToList();

    /// <summary>Offsets and lengths (UTF-16) of the pre-tokens of <paramref name="text"/>.</summary>
    internal static IEnumerable<(int Offset, int Length)> PreTokenSpans(string text)
    {
        var spans = new List<(int, int)>();
        var runes = text.EnumerateRunes().ToArray();
        var offsets = new int[runes.Length + 1];
        for (var k = 0; k < runes.Length; k++) offsets[k + 1] = offsets[k] + runes[k].Utf16SequenceLength;

        var i = 0;
        while (i < runes.Length)
        {
            var at = offsets[i];
            var literal = MatchLiteral(text, at);
            if (literal is not null)
            {
                spans.Add((at, literal.Length));
                var end = at + literal.Length;
                while (offsets[i] < end) i++;
                continue;
            }
            var rune = runes[i];
            int j;
            if (IsLetter(rune))
            {
                j = i + 1;
                while (j < runes.Length && IsLetter(runes[j])) j++;
            }
            else if (IsNumber(rune)) j = i + 1;
            else if (!IsPythonSpace(rune))
            {
                j = i + 1;
                while (j < runes.Length && !IsPythonSpace(runes[j]) && !IsLetter(runes[j]) && !IsNumber(runes[j])) j++;
            }
            else { i++; continue; }
            spans.Add((offsets[i], offsets[j] - offsets[i]));
            i = j;
        }
        return spans;
    }

    private static string? MatchLiteral(string text, int at)
    {
        foreach (var special in new[] { StartOfText, EndOfText })
            if (string.CompareOrdinal(text, at, special, 0, special.Length) == 0) return special;
        foreach (var contraction in Contractions)
            if (string.CompareOrdinal(text, at, contraction, 0, contraction.Length) == 0) return contraction;
        return null;
    }

    private static bool IsLetter(Rune rune) => Rune.GetUnicodeCategory(rune) is UnicodeCategory.UppercaseLetter
        or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter or UnicodeCategory.ModifierLetter
        or UnicodeCategory.OtherLetter;

    private static bool IsNumber(Rune rune) => Rune.GetUnicodeCategory(rune) is UnicodeCategory.DecimalDigitNumber
        or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber;

    /// <summary>Python's str.isspace, which also counts the separators U+001C..U+001F.</summary>
    private static bool IsPythonSpace(Rune rune) => Rune.IsWhiteSpace(rune) || rune.Value is >= 0x1C and <= 0x1F;
}

/// <summary>CLIP's lower-casing (<see cref="ClipTokenizer.Lower"/>) for <see cref="BpeTokenizer"/>.</summary>
internal sealed class ClipLowerCaseNormalizer : Normalizer
{
    public override string Normalize(string original) => ClipTokenizer.Lower(original);

    public override string Normalize(ReadOnlySpan<char> original) => ClipTokenizer.Lower(original.ToString());
}

/// <summary>
/// CLIP's pre-tokenizer for <see cref="BpeTokenizer"/>. A <see cref="RegexPreTokenizer"/> with CLIP's
/// regex matches the test vectors too, but .NET's \p{L} sees UTF-16 units, so letters outside the
/// Basic Multilingual Plane would split differently from Python; this walks code points instead.
/// </summary>
internal sealed class ClipPreTokenizer : PreTokenizer
{
    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) => ClipTokenizer.PreTokenSpans(text);

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) =>
        ClipTokenizer.PreTokenSpans(text.ToString());
}
