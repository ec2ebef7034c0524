using System.Globalization;
using System.Text;

namespace BananaLab.Worker.Moderation;

/// <summary>
/// The prompt classifier's features, computed exactly as tools/moderation-classifier/features.py computes them for training
/// (tools/moderation-classifier/test_vectors.json pins both): normalise the text, pad it with one space on each side, take
/// every character n-gram over code points, hash each n-gram's UTF-8 bytes with 32-bit FNV-1a and count it in bucket
/// hash mod <see cref="Buckets"/>. FNV-1a: http://www.isthe.com/chongo/tech/comp/fnv/index.html#FNV-1a
/// </summary>
public sealed class PromptFeatures(int ngramMin, int ngramMax, int buckets)
{
    private const uint FnvOffset = 2166136261;
    private const uint FnvPrime = 16777619;

    public int NgramMin { get; } = ngramMin;
    public int NgramMax { get; } = ngramMax;
    public int Buckets { get; } = buckets;

    /// <summary>
    /// NFKC; control (Cc) and format (Cf) characters dropped; white space (Zs, Zl, Zp, U+0009-U+000D, U+0085) as one space;
    /// BMP characters lower-cased one to one (U+0130 becomes "i"); characters outside the BMP unchanged; trimmed.
    /// Unpaired surrogates become U+FFFD first (.NET cannot normalise them).
    /// </summary>
    public static string Normalize(string text)
    {
        var builder = new StringBuilder(text.Length);
        var pendingSpace = false;
        foreach (var rune in WellFormed(text).Normalize(NormalizationForm.FormKC).EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            if (category is UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
                || rune.Value is >= 0x09 and <= 0x0D or 0x85)
            {
                pendingSpace = builder.Length > 0;
                continue;
            }
            if (category is UnicodeCategory.Control or UnicodeCategory.Format) continue;
            if (pendingSpace) builder.Append(' ');
            pendingSpace = false;
            if (!rune.IsBmp) builder.Append(rune.ToString());
            else builder.Append(rune.Value == 0x130 ? 'i' : char.ToLowerInvariant((char)rune.Value));
        }
        return builder.ToString();
    }

    /// <summary>The text's non-zero buckets and their n-gram counts, by bucket (the model's inputs; what test_vectors.json lists).</summary>
    public IReadOnlyList<(int Bucket, int Count)> Counts(string text)
    {
        var padded = " " + Normalize(text) + " ";
        var bytes = Encoding.UTF8.GetBytes(padded);
        // Where each code point's bytes start, and one past the last.
        var starts = new List<int>(padded.Length + 1);
        for (var i = 0; i < bytes.Length; i++)
            if ((bytes[i] & 0xC0) != 0x80) starts.Add(i);
        var points = starts.Count;
        starts.Add(bytes.Length);

        var buckets = new List<int>(points * (NgramMax - NgramMin + 1));
        for (var n = NgramMin; n <= NgramMax; n++)
            for (var start = 0; start + n <= points; start++)
            {
                var hash = FnvOffset;
                for (var b = starts[start]; b < starts[start + n]; b++)
                    hash = unchecked((hash ^ bytes[b]) * FnvPrime);
                buckets.Add((int)(hash % (uint)Buckets));
            }
        buckets.Sort();
        var counts = new List<(int, int)>(buckets.Count);
        for (var i = 0; i < buckets.Count;)
        {
            var j = i;
            while (j < buckets.Count && buckets[j] == buckets[i]) j++;
            counts.Add((buckets[i], j - i));
            i = j;
        }
        return counts;
    }

    private static string WellFormed(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (!char.IsSurrogate(text[i])) continue;
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) { i++; continue; }
            var chars = text.ToCharArray();
            for (var j = i; j < chars.Length; j++)
            {
                if (char.IsHighSurrogate(chars[j]) && j + 1 < chars.Length && char.IsLowSurrogate(chars[j + 1])) { j++; continue; }
                if (char.IsSurrogate(chars[j])) chars[j] = '\uFFFD';
            }
            return new string(chars);
        }
        return text;
    }
}
