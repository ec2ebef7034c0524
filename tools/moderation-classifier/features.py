"""The classifier's feature extraction, written so that C# (BananaLab.Worker/Moderation/OnnxPromptClassifier.cs) can
reproduce it exactly:

1. normalise: NFKC; drop control (Cc) and format (Cf) characters such as zero-width spaces; every white-space character
   (categories Zs, Zl, Zp and U+0009-U+000D, U+0085) becomes one space; lower-case one UTF-16 code unit at a time with a
   one-to-one mapping (U+0130 becomes "i", characters outside the BMP and characters whose lower case is longer stay);
   runs of spaces collapse to one; leading and trailing spaces go.
2. pad with one space on each side (the word-boundary marker) and take every character n-gram, n = 2..5, over code points.
3. hash each n-gram's UTF-8 bytes with 32-bit FNV-1a (offset 2166136261, prime 16777619) and count it in bucket
   hash mod BUCKETS.

The model itself L2-normalises the counts, so the counts are the ONNX input ([batch, BUCKETS] float32).
"""
import unicodedata

BUCKETS = 1 << 15
NGRAM_MIN, NGRAM_MAX = 2, 5
FNV_OFFSET, FNV_PRIME = 2166136261, 16777619
WHITESPACE = {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x85}


def _lower(ch):
    if ch == "\u0130":
        return "i"
    if ord(ch) > 0xFFFF:
        return ch
    lowered = ch.lower()
    return lowered if len(lowered) == 1 else ch


def normalize(text):
    out = []
    for ch in unicodedata.normalize("NFKC", text):
        category = unicodedata.category(ch)
        if category in ("Zs", "Zl", "Zp") or ord(ch) in WHITESPACE:
            out.append(" ")
        elif category in ("Cc", "Cf"):
            continue
        else:
            out.append(_lower(ch))
    return " ".join(part for part in "".join(out).split(" ") if part)


def fnv1a(data):
    h = FNV_OFFSET
    for byte in data:
        h = ((h ^ byte) * FNV_PRIME) & 0xFFFFFFFF
    return h


def features(text):
    """Sorted (bucket, count) pairs of a text's n-grams."""
    padded = " " + normalize(text) + " "
    counts = {}
    for n in range(NGRAM_MIN, NGRAM_MAX + 1):
        for i in range(len(padded) - n + 1):
            bucket = fnv1a(padded[i:i + n].encode("utf-8")) % BUCKETS
            counts[bucket] = counts.get(bucket, 0) + 1
    return sorted(counts.items())
