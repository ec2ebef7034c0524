using System.Globalization;
using System.Text;
using System.Text.Json;
using BananaLab.Core.Generation;
using BananaLab.Worker.Inference.Runtime;
using Microsoft.ML.Tokenizers;

namespace BananaLab.Worker.Inference.Tokenization;

/// <summary>
/// CLIP's tokenizer (openai/CLIP simple_tokenizer.py, HF CLIPTokenizer) over a model's
/// <c>tokenizer/vocab.json</c> and <c>merges.txt</c>: Microsoft.ML.Tokenizers' byte-level
/// <see cref="BpeTokenizer"/> with CLIP's <c>&lt;/w&gt;</c> end-of-word suffix, lower-casing and
/// CLIP's pre-tokenizer, plus bos/eos framing, eos padding and 77-token chunking.
/// </summary>
public sealed class ClipTokenizer
{
    public const string StartOfText = "<|startoftext|>";
    public const string EndOfText = "<|endoftext|>";
    private const string EndOfWord = "</w>";
    private static readonly string[] Contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];

    private readonly BpeTokenizer _bpe;

    public ClipTokenizer(Dictionary<string, int> vocab, IEnumerable<string> merges, int maxLength = 77, string? padToken = null)
    {
        if (!vocab.TryGetValue(StartOfText, out var bos) || !vocab.TryGetValue(EndOfText, out var eos))
            throw new InvalidDataException($"the vocabulary lacks {StartOfText} or {EndOfText}");
        var specials = new Dictionary<string, int> { [StartOfText] = bos, [EndOfText] = eos };
        _bpe = BpeTokenizer.Create(new BpeOptions(vocab)
        {
            Merges = merges,
            ByteLevel = true,
            EndOfWordSuffix = EndOfWord,
            PreTokenizer = new ClipPreTokenizer(),
            Normalizer = new LowerCaseNormalizer(),
            SpecialTokens = specials,
        });
        BosId = bos;
        EosId = eos;
        PadId = padToken is not null && vocab.TryGetValue(padToken, out var pad) ? pad : eos;
        MaxLength = maxLength;
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
            var (maxLength, padToken) = ReadConfig(folder);
            return new ClipTokenizer(vocab, merges, maxLength, padToken);
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or IOException)
        {
            throw new GenerationException(GenerationErrors.ModelUnavailable,
                $"{displayFolder} is corrupt or unreadable: {e.Message}", transient: false, e);
        }
    }

    private static (int MaxLength, string? PadToken) ReadConfig(string folder)
    {
        var maxLength = 77;
        string? pad = null;
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
        }
        return (maxLength, pad);
    }

    /// <summary>The BPE ids of a text, without bos/eos.</summary>
    public List<int> Encode(string text) => [.. _bpe.EncodeToIds(CleanWhitespace(text))];

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
