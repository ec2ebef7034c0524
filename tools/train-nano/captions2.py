"""banana-nano 2 training captions (raw text; the model sees lexicon2 concept ids of it).

CAPTION GRAMMAR (what `single_caption` / `composition_caption` produce):

    single      := [ART] OBJ(e) [BGP]
    composition := [ART] OBJ(first) " " REL " " [ART] OBJ(second) [BGP]
    REL         := "next to" | "on" | "in front of"        (= data2.RELATIONS, same layouts)
    ART         := "a " | "an " (vowel-initial), with p 0.5; articles map to no concept
    BGP         := " on a <colour> background" ("an orange") for a coloured background (data2.BG);
                   on white: nothing (p 0.8) or " on a white background" (p 0.2)
    OBJ(e)      := one phrase from the pool of emoji e:
                   p 0.35 its Unicode name, p 0.15 its CLDR English short name (tts),
                   else a uniform draw from the rest of the pool: CLDR short names and
                   keywords in TRAIN_LANGS and WordNet synonyms (first noun sense) of the
                   name and of the English short name.

e.g. "a cat next to a banana on a blue background", "gato", "red apple on a pink background".

HELD-OUT EXCLUSION: every word (lexicon2.words) of every `key_words` cell of
heldout/words.tsv is banned: a pool phrase that contains one is removed, so no training
caption contains it (checked again on every generated caption by `check`). The
unordered pairs {first, second} of heldout/compositions.tsv are never composed.
Pool phrases whose concept ids are empty, only colours, or contain a relation /
"background" id are removed too (e.g. the keyword "orange" of the tangerine would teach
the background colour word to mean a fruit).
"""
import csv, os
import xml.etree.ElementTree as ET

import numpy as np

import lexicon2

HERE = os.path.dirname(os.path.abspath(__file__))
HELDOUT = os.path.join(HERE, "heldout")
TRAIN_LANGS = ["en", "de", "es", "fr", "it", "pt", "nl", "sv", "da", "pl"]
WHITE_BGP = 0.2


def banned_words(path=os.path.join(HELDOUT, "words.tsv")):
    ban = set()
    with open(path, encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            ban.update(lexicon2.words(r["key_words"]))
    return ban


def banned_pairs(cps, path=os.path.join(HELDOUT, "compositions.tsv")):
    """-> set of frozenset({i, j}) dataset indices that must never be composed."""
    ix = {c: i for i, c in enumerate(cps)}
    out = set()
    with open(path, encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            a, b = (int(r[k].replace("U+", ""), 16) for k in ("first", "second"))
            if a in ix and b in ix:  # (always, except in tests on a subset of the emoji)
                out.add(frozenset((ix[a], ix[b])))
    return out


def cldr_phrases(cps):
    """-> per emoji: [(lang, kind, text)] from TRAIN_LANGS' annotation files."""
    ix = {chr(c): i for i, c in enumerate(cps)}
    out = [[] for _ in cps]
    for lang in TRAIN_LANGS:
        for a in ET.parse(f"{lexicon2.CLDR}/annotations/{lang}.xml").getroot().iter("annotation"):
            cp = a.get("cp", "").replace("\ufe0f", "")
            if cp not in ix or not a.text:
                continue
            if a.get("type") == "tts":
                out[ix[cp]].append((lang, "tts", a.text.strip()))
            else:
                out[ix[cp]] += [(lang, "kw", k.strip()) for k in a.text.split("|")]
    return out


def wordnet_synonyms(phrase, index, synsets):
    lemma = "_".join(lexicon2.words(phrase))
    for pos, offs in index.get(lemma, []):
        if pos == "n" and offs:
            lem = synsets[("n", offs[0])][0]
            return [l.replace("_", " ") for l in lem if l.lower() != lemma]
    return []


class Captions:
    def __init__(self, names, cps, lexicon, heldout=True, seed=0):
        self.lex = lexicon
        self.names = names
        self.ban = banned_words() if heldout else set()
        self.pairs_ban = banned_pairs(cps) if heldout else set()
        V = lexicon.V
        n_gram = len(lexicon2.GRAMMAR)
        self.colour_ids = set(range(n_gram, n_gram + len(lexicon2.COLOURS)))
        self.rel_ids = set(range(n_gram))
        index, synsets, _ = lexicon2.load_wordnet()
        cl = cldr_phrases(cps)
        self.pools = []  # per emoji: (name or None, tts_en or None, [others])
        self.removed = {"banned": 0, "no_concept": 0, "colour_only": 0, "grammar": 0}
        self.removed_banned_phrases = set()
        for e, n in enumerate(names):
            tts_en = next((t for l, k, t in cl[e] if l == "en" and k == "tts"), None)
            others = [t for l, k, t in cl[e] if not (l == "en" and k == "tts")]
            others += wordnet_synonyms(n, index, synsets)
            if tts_en:
                others += wordnet_synonyms(tts_en, index, synsets)
            keep_name = n if self._ok(n) else None
            keep_tts = tts_en if tts_en and tts_en.lower() != n and self._ok(tts_en) else None
            seen = {n, (tts_en or "").lower()}
            rest = []
            for t in others:
                tl = t.lower()
                if tl in seen:
                    continue
                seen.add(tl)
                if self._ok(t):
                    rest.append(t)
            self.pools.append((keep_name, keep_tts, sorted(rest)))
        self.empty = [e for e, p in enumerate(self.pools) if not p[0] and not p[1] and not p[2]]

    def _ok(self, phrase):
        w = lexicon2.words(phrase)
        if any(x in self.ban for x in w):
            self.removed["banned"] += 1; self.removed_banned_phrases.add(phrase.lower()); return False
        ids = self.lex.concept_ids(phrase)
        if not ids:
            self.removed["no_concept"] += 1; return False
        if any(i in self.rel_ids for i in ids):
            self.removed["grammar"] += 1; return False
        if all(i in self.colour_ids for i in ids):
            self.removed["colour_only"] += 1; return False
        return True

    def phrases(self, e):
        name, tts, rest = self.pools[e]
        return ([name] if name else []) + ([tts] if tts else []) + rest

    def obj(self, e, rng):
        name, tts, rest = self.pools[e]
        u = rng.random()
        if name and (u < 0.35 or (not tts and not rest)):
            return name
        if tts and (u < 0.5 or not rest):
            return tts
        if rest:
            return rest[rng.integers(len(rest))]
        return name or tts

    @staticmethod
    def art(phrase, rng):
        if rng.random() < 0.5:
            return phrase
        return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase

    @staticmethod
    def bgp(bg_word, rng):
        if bg_word == "white":
            return " on a white background" if rng.random() < WHITE_BGP else ""
        return f" on {'an' if bg_word[0] in 'aeiou' else 'a'} {bg_word} background"

    def single_caption(self, e, bg_word, rng):
        return self.art(self.obj(e, rng), rng) + self.bgp(bg_word, rng)

    def composition_caption(self, first, second, relation, bg_word, rng):
        return (self.art(self.obj(first, rng), rng) + " " + relation + " " + self.art(self.obj(second, rng), rng)
                + self.bgp(bg_word, rng))

    def check(self, caption):
        bad = [w for w in lexicon2.words(caption) if w in self.ban]
        assert not bad, (caption, bad)
        return caption

    def pair_allowed(self, i, j):
        return i != j and frozenset((i, j)) not in self.pairs_ban


if __name__ == "__main__":
    import data2
    _, names, cps = data2.load()
    lex = lexicon2.Lexicon.load("/work/nano2-run/tokenizer2")
    C = Captions(names, cps, lex)
    rng = np.random.default_rng(0)
    print("banned words", len(C.ban), "banned pairs", len(C.pairs_ban), "removed", C.removed,
          "emoji without any phrase", len(C.empty))
    print("pool phrases", sum(len(C.phrases(e)) for e in range(len(names))))
    for _ in range(8):
        i, j = rng.choice(len(names), 2, replace=False)
        c = C.check(C.composition_caption(i, j, data2.RELATIONS[rng.integers(3)], data2.BG_WORDS[rng.integers(11)], rng))
        s = C.check(C.single_caption(i, data2.BG_WORDS[rng.integers(11)], rng))
        print(repr(s), "|", repr(c), len(lex.concept_ids(c)))
