using System.Globalization;
using System.Text;
using System.Text.Json;
using BananaLab.Core.Generation;
using BananaLab.Worker.Inference.Runtime;

namespace BananaLab.Worker.Inference.Tokenization;

/// <summary>
/// CLIP's byte-level BPE tokenizer (openai/CLIP simple_tokenizer.py, HF CLIPTokenizer) over a model's
/// <c>tokenizer/vocab.json</c> and <c>merges.txt</c>.
/// </summary>
/// <remarks>
/// Written out here rather than with Microsoft.ML.Tokenizers' BpeTokenizer: CLIP pre-tokenizes the
/// original characters (\p{L}/\p{N} classes) and only then maps each pre-token's UTF-8 bytes to CLIP's
/// byte alphabet before BPE; BpeTokenizer has no byte-to-unicode step between its pre-tokenizer and
/// the merges, so non-ASCII text (accents, emoji, CJK) would not reach the same ids as the Python side.
/// The merge loop is the same as CLIP's and is tested against tools/train-nano's test vectors.
/// </remarks>
public sealed class ClipTokenizer
{
    public const string StartOfText = "<|startoftext|>";
    public const string EndOfText = "<|endoftext|>";
    private const string EndOfWord = "</w>";
    private static readonly string[] Contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];
    private static readonly string[] ByteToUnicode = BuildByteToUnicode();

    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<(string, string), int> _mergeRanks;
    private readonly Dictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly Lock _cacheLock = new();

    public ClipTokenizer(Dictionary<string, int> vocab, IEnumerable<(string, string)> merges, int maxLength = 77, string? padToken = null)
    {
        _vocab = vocab;
        _mergeRanks = new Dictionary<(string, string), int>();
        var rank = 0;
        foreach (var merge in merges) _mergeRanks.TryAdd(merge, rank++);
        if (!vocab.TryGetValue(StartOfText, out var bos) || !vocab.TryGetValue(EndOfText, out var eos))
            throw new InvalidDataException($"the vocabulary lacks {StartOfText} or {EndOfText}");
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
                .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Where(parts => parts.Length == 2)
                .Select(parts => (parts[0], parts[1]))
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
    public List<int> Encode(string text)
    {
        var ids = new List<int>();
        foreach (var preToken in PreTokenize(CleanWhitespace(text).ToLowerInvariant()))
        {
            if (preToken is StartOfText or EndOfText) { ids.Add(_vocab[preToken]); continue; }
            ids.AddRange(Bpe(preToken));
        }
        return ids;
    }

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

    private int[] Bpe(string preToken)
    {
        lock (_cacheLock)
            if (_cache.TryGetValue(preToken, out var cached)) return cached;

        var bytes = Encoding.UTF8.GetBytes(preToken);
        var word = new List<string>(bytes.Length);
        foreach (var b in bytes) word.Add(ByteToUnicode[b]);
        word[^1] += EndOfWord;

        while (word.Count > 1)
        {
            var bestRank = int.MaxValue;
            (string, string) best = default;
            for (var i = 0; i < word.Count - 1; i++)
                if (_mergeRanks.TryGetValue((word[i], word[i + 1]), out var rank) && rank < bestRank)
                {
                    bestRank = rank;
                    best = (word[i], word[i + 1]);
                }
            if (bestRank == int.MaxValue) break;

            // Merge every occurrence of the pair, left to right, as CLIP's bpe() does.
            var merged = new List<string>(word.Count);
            for (var i = 0; i < word.Count; i++)
            {
                if (i < word.Count - 1 && word[i] == best.Item1 && word[i + 1] == best.Item2)
                {
                    merged.Add(best.Item1 + best.Item2);
                    i++;
                }
                else merged.Add(word[i]);
            }
            word = merged;
        }

        var ids = new int[word.Count];
        for (var i = 0; i < word.Count; i++)
            ids[i] = _vocab.TryGetValue(word[i], out var id) ? id : throw new InvalidDataException($"BPE token '{word[i]}' is not in the vocabulary");
        lock (_cacheLock) _cache[preToken] = ids;
        return ids;
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
    internal static List<string> PreTokenize(string text)
    {
        var tokens = new List<string>();
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
                tokens.Add(literal);
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
            tokens.Add(text[offsets[i]..offsets[j]]);
            i = j;
        }
        return tokens;
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

    /// <summary>CLIP's bytes_to_unicode: printable bytes map to themselves, the rest to U+0100 onwards.</summary>
    private static string[] BuildByteToUnicode()
    {
        var map = new string[256];
        var printable = Enumerable.Range('!', '~' - '!' + 1).Concat(Enumerable.Range('¡', '¬' - '¡' + 1))
            .Concat(Enumerable.Range('®', 'ÿ' - '®' + 1)).ToHashSet();
        var next = 0;
        for (var b = 0; b < 256; b++)
            map[b] = printable.Contains(b) ? ((char)b).ToString() : ((char)(256 + next++)).ToString();
        return map;
    }
}
