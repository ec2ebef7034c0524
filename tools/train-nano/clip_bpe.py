"""CLIP-style byte-level BPE tokenizer (algorithm of openai/CLIP simple_tokenizer.py
and HF CLIPTokenizer), with a tiny BPE *trainer* for our caption corpus.

Pipeline for encode(text):
 1. cleanup: collapse any whitespace run to one space, strip (no ftfy / html unescape).
 2. lower-case.
 3. pre-tokenize with CLIP's regex
       <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
    Python's `re` lacks \p{..}, so `pretokenize()` implements that regex by hand with
    unicodedata.category: letters = categories L*, numbers = N*, whitespace = str.isspace.
    (Alternatives are tried in the regex's order at each position; this is exact for
    \p{L}/\p{N}; `re` approximation would be [^\W\d_]+ / \d / [^\s\w]+|_+, which
    differs for '_' and for combining marks, so we do not use it.)
 4. each pre-token -> UTF-8 bytes -> CLIP bytes_to_unicode chars; the last char gets '</w>'.
 5. BPE: repeatedly merge the adjacent pair with the lowest merge rank (all occurrences,
    left to right), exactly as CLIP's bpe().
 6. ids = vocab[token].  Model input: [bos] + ids[:75] + [eos], padded with eos to 77.

Vocab layout: 256 byte chars (bytes_to_unicode order), the same 256 + '</w>', then one
token per merge (merge order), then <|startoftext|>, <|endoftext|> as the last two ids.
merges.txt first line is '#version: 0.2'.
"""
import json
import os
import unicodedata
from collections import Counter, defaultdict

BOS = "<|startoftext|>"
EOS = "<|endoftext|>"
CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"]


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


BYTE_ENCODER = bytes_to_unicode()
BYTE_DECODER = {v: k for k, v in BYTE_ENCODER.items()}


def whitespace_clean(text):
    return " ".join(text.split())


def _is_letter(c):
    return unicodedata.category(c).startswith("L")


def _is_number(c):
    return unicodedata.category(c).startswith("N")


def pretokenize(text):
    """Exact re-implementation of CLIP's pre-tokenizer regex (see module doc)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        matched = None
        for special in (BOS, EOS):
            if text.startswith(special, i):
                matched = special
                break
        if matched is None:
            for con in CONTRACTIONS:
                if text.startswith(con, i):
                    matched = con
                    break
        if matched is None:
            if _is_letter(c):
                j = i + 1
                while j < n and _is_letter(text[j]):
                    j += 1
                matched = text[i:j]
            elif _is_number(c):
                matched = c
            elif not c.isspace():
                j = i + 1
                while j < n and not (text[j].isspace() or _is_letter(text[j]) or _is_number(text[j])):
                    j += 1
                matched = text[i:j]
        if matched is None:  # whitespace: not part of any match
            i += 1
            continue
        out.append(matched)
        i += len(matched)
    return out


def word_symbols(token):
    chars = [BYTE_ENCODER[b] for b in token.encode("utf-8")]
    chars[-1] = chars[-1] + "</w>"
    return tuple(chars)


def train_bpe(corpus, num_merges=4000, min_freq=2):
    """Greedy BPE on word frequencies. Skips pairs whose concatenation already is a
    token, so every merge adds exactly one new vocab entry (vocab size = 512+merges+2)."""
    words = Counter()
    for text in corpus:
        for tok in pretokenize(whitespace_clean(text).lower()):
            words[word_symbols(tok)] += 1
    words = {w: f for w, f in words.items()}
    existing = set(BYTE_ENCODER.values()) | {v + "</w>" for v in BYTE_ENCODER.values()}
    merges = []
    for _ in range(num_merges):
        pairs = defaultdict(int)
        for w, f in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += f
        cands = sorted(((f, p) for p, f in pairs.items() if f >= min_freq and (p[0] + p[1]) not in existing),
                       key=lambda x: (-x[0], x[1]))
        if not cands:
            break
        _, (a, b) = cands[0]
        merges.append((a, b))
        existing.add(a + b)
        new = {}
        for w, f in words.items():
            if len(w) < 2:
                new[w] = f
                continue
            out = []
            i = 0
            while i < len(w):
                if i < len(w) - 1 and w[i] == a and w[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new[tuple(out)] = new.get(tuple(out), 0) + f
        words = new
    return merges


class CLIPTokenizer:
    def __init__(self, vocab, merges):
        self.encoder = vocab
        self.decoder = {v: k for k, v in vocab.items()}
        self.bpe_ranks = {tuple(m): i for i, m in enumerate(merges)}
        self.cache = {}
        self.bos_id = vocab[BOS]
        self.eos_id = vocab[EOS]

    @classmethod
    def from_merges(cls, merges):
        vocab = list(BYTE_ENCODER.values())
        vocab = vocab + [v + "</w>" for v in vocab]
        vocab += ["".join(m) for m in merges]
        vocab += [BOS, EOS]
        assert len(set(vocab)) == len(vocab)
        return cls({t: i for i, t in enumerate(vocab)}, merges)

    @classmethod
    def load(cls, folder):
        with open(os.path.join(folder, "vocab.json"), encoding="utf-8") as f:
            vocab = json.load(f)
        with open(os.path.join(folder, "merges.txt"), encoding="utf-8") as f:
            lines = f.read().split("\n")
        assert lines[0].startswith("#version")
        merges = [tuple(l.split()) for l in lines[1:] if l.strip()]
        return cls(vocab, merges)

    def save(self, folder):
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
            json.dump(self.encoder, f, ensure_ascii=False)
        merges = sorted(self.bpe_ranks, key=self.bpe_ranks.get)
        with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
            f.write("#version: 0.2\n")
            for a, b in merges:
                f.write(f"{a} {b}\n")
        special = {"bos_token": BOS, "eos_token": EOS, "unk_token": EOS, "pad_token": EOS}
        with open(os.path.join(folder, "special_tokens_map.json"), "w") as f:
            json.dump(special, f, indent=2)
        cfg = {"tokenizer_class": "CLIPTokenizer", "model_max_length": 77, "do_lower_case": True,
               "bos_token": BOS, "eos_token": EOS, "unk_token": EOS, "pad_token": EOS,
               "add_prefix_space": False, "errors": "replace", "clean_up_tokenization_spaces": True,
               "bos_token_id": self.bos_id, "eos_token_id": self.eos_id, "pad_token_id": self.eos_id}
        with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
            json.dump(cfg, f, indent=2)

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = word_symbols(token)
        while len(word) > 1:
            pairs = set(zip(word, word[1:]))
            bigram = min(pairs, key=lambda p: self.bpe_ranks.get(p, float("inf")))
            if bigram not in self.bpe_ranks:
                break
            a, b = bigram
            out = []
            i = 0
            while i < len(word):
                try:
                    j = word.index(a, i)
                except ValueError:
                    out.extend(word[i:])
                    break
                out.extend(word[i:j])
                i = j
                if word[i] == a and i < len(word) - 1 and word[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            word = tuple(out)
        self.cache[token] = word
        return word

    def tokenize(self, text):
        toks = []
        for pt in pretokenize(whitespace_clean(text).lower()):
            if pt in (BOS, EOS):  # CLIP's regex keeps specials as one pre-token; they map
                toks.append(pt)   # to their own ids only via bpe cache in CLIP. We do the same.
                continue
            toks.extend(self.bpe(pt))
        return toks

    def encode(self, text):
        return [self.encoder[t] for t in self.tokenize(text)]

    def __call__(self, text, max_length=77):
        ids = self.encode(text)[: max_length - 2]
        ids = [self.bos_id] + ids + [self.eos_id]
        return ids + [self.eos_id] * (max_length - len(ids))

    def decode(self, ids):
        words, cur = [], []
        for i in ids:
            t = self.decoder[i]
            if t in (BOS, EOS):
                continue
            end = t.endswith("</w>")
            cur.append(t[:-4] if end else t)
            if end:
                words.append("".join(cur)); cur = []
        if cur:
            words.append("".join(cur))
        return " ".join(bytearray(BYTE_DECODER[c] for c in w).decode("utf-8", "replace") for w in words)
