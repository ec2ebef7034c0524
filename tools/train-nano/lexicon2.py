"""banana-nano 2 lexicon: any word -> concept ids the model was trained on.

A text encoder trained from scratch knows only the tokens it was trained on. banana-nano 2
therefore does not feed words to it: the prompt is first rewritten into CONCEPT ids by a
fixed lexicon built from Unicode CLDR annotations (all 292 annotation files, every language)
and WordNet 3.0. Words that mean the same thing, in any language, map to the same (or
overlapping) concept ids, so a word that never occurs in a training caption still reaches an embedding that was trained
through its synonyms and translations. The lexicon is built from CLDR + WordNet only
(nothing from the held-out set) and is applied identically in training and at inference.

RUNTIME RULE (what C# must reproduce; `Lexicon.concept_ids` / `Lexicon.__call__` below):
  1. text = NFKC(text).lower(); delete apostrophes ' (U+0027), U+2019, U+02BC.
  2. words = maximal runs of characters whose Unicode category starts with L, M or N
     (everything else separates words).
  3. Left to right: at word i take the LONGEST n in 6..1 such that the n words joined by one
     space are a key of lexicon.tsv; emit that key's ids (zero or more, in file order) and
     skip n words. If no key matches, try the single word with one suffix rewrite, the first
     that gives a key: "ies"->"y", "es"->"", "s"->"" (only if the stem keeps >= 3 characters).
     Otherwise drop the word.
  4. input_ids = [bos] + ids[:75] + [eos], padded with eos to 77 (bos = V, eos = V + 1,
     V = number of concepts = n_concepts in lexicon_config.json).

CONCEPTS (ids, in this order):
  0..3          grammar: "next to", "in front of", "on", "background"
  4..14         colours: white red orange yellow green blue purple pink black gray brown
                ("grey" = gray)
  15..15+N-1    one id per banana-nano emoji (N = 1,392, data2 order)
  15+N..V-1     clusters of broad keys (see below)

KEYS. Every CLDR annotation (short name or keyword; all annotation and annotationsDerived
files, every language) of a banana-nano emoji gives keys: the whole phrase (<= 6 words) and
each of its words; every Unicode emoji name gives keys the same way (counted as English).
E(key) = the emoji it annotates: its English annotations if it has any ("English meaning
first"), otherwise the emoji that at least half as many languages as the best one agree on
(this removes accidental spellings shared by unrelated languages). Then:
  * |E| <= BAG_MAX (16): the key's ids are its emoji ids, sorted ("bag of emoji"). Words
    with the same meaning in different languages annotate (nearly) the same emoji, so an
    unseen word lands on the same or overlapping emoji ids the model was trained with.
  * BAG_MAX < |E| <= MAX_EMOJI (250): one cluster id. The emoji sets of these broad keys
    are visited by (most keys first, smaller set, sorted set) and each joins the existing
    cluster whose first set has the highest Jaccard overlap >= TAU (0.5), else founds one.
  * |E| > MAX_EMOJI (function words of some language: "de", "na", "i"): no id.
  "a", "an", "the" have no id; phrase keys containing "on", "background", "next to" or
  "in front of" are removed so the grammar is never swallowed.

WORDNET (English words CLDR does not have): each WordNet lemma that is not yet a key gets the
ids of one English key (a key with English CLDR annotations or a Unicode name word, or a
colour). Candidate keys are scored over the lemma's senses: sense k of part of speech p
weighs POS_W[p] / (1 + k), halved for noun senses outside the concrete lexicographer files
(animal, artifact, body, event, feeling, food, object, person, phenomenon, plant, shape,
substance); inside a sense the synonyms (1.0), related lemmas (derivation, similar-to,
pertainym, attribute, also-see: 0.6), hypernyms (0.6), hypernyms of hypernyms (0.35) and
hyponyms (0.3) spread their weight evenly over those of their lemmas that are English keys.
The best-scoring ids win if the score is >= MIN_SCORE (0.15; ties: smallest ids); relation
ids are never a target. WordNet's irregular forms (noun/verb/adj.exc: "mice" -> "mouse")
then get their base form's ids.

The build is deterministic (same files -> byte-identical output).
Files written to --out: lexicon.tsv ("key<TAB>id" or "key<TAB>" for no id, sorted by key),
concepts.tsv (id, size of E, up to 8 example keys), lexicon_config.json.

    /usr/bin/python3 lexicon2.py --out /work/nano2-run/tokenizer2
"""
import argparse, glob, json, os, re, unicodedata
import xml.etree.ElementTree as ET
from collections import defaultdict

CLDR = "/usr/share/unicode/cldr/common"
WORDNET = "/usr/share/wordnet"
RELATIONS = ["next to", "in front of", "on"]
GRAMMAR = RELATIONS + ["background"]
COLOURS = ["white", "red", "orange", "yellow", "green", "blue", "purple", "pink", "black", "gray", "brown"]
STOP = ["a", "an", "the"]
MAX_N = 6
BAG_MAX = 16
MAX_EMOJI = 250
TAU = 0.5
MIN_SCORE = 0.15
POS_W = {"n": 1.0, "a": 0.8, "s": 0.8, "v": 0.6, "r": 0.5}
APOS = str.maketrans("", "", "'\u2019\u02bc")


def words(text):
    text = unicodedata.normalize("NFKC", text).lower().translate(APOS)
    out, cur = [], []
    for c in text:
        if unicodedata.category(c)[0] in "LMN":
            cur.append(c)
        elif cur:
            out.append("".join(cur)); cur = []
    if cur:
        out.append("".join(cur))
    return out


class Lexicon:
    def __init__(self, table, n_concepts):
        self.table = table          # key -> tuple of ids (empty or one)
        self.V = n_concepts
        self.bos, self.eos = n_concepts, n_concepts + 1

    @classmethod
    def load(cls, folder):
        """A lexicon folder: lexicon.tsv (as built) or lexicon.tsv.gz (as exported into a model's tokenizer/)."""
        table = {}
        path = os.path.join(folder, "lexicon.tsv")
        if not os.path.exists(path):
            import gzip
            opener = lambda: gzip.open(path + ".gz", "rt", encoding="utf-8")
        else:
            opener = lambda: open(path, encoding="utf-8")
        with opener() as f:
            for line in f:
                k, v = line.rstrip("\n").split("\t")
                table[k] = tuple(int(x) for x in v.split()) if v else ()
        cfg = json.load(open(os.path.join(folder, "lexicon_config.json")))
        return cls(table, cfg["n_concepts"])

    def concept_ids(self, text):
        w = words(text)
        ids, i = [], 0
        while i < len(w):
            for n in range(min(MAX_N, len(w) - i), 0, -1):
                k = " ".join(w[i:i + n])
                if k in self.table:
                    ids += self.table[k]; i += n
                    break
            else:
                x = w[i]
                for suf, rep in (("ies", "y"), ("es", ""), ("s", "")):
                    if x.endswith(suf) and len(x) - len(suf) >= 3 and x[:-len(suf)] + rep in self.table:
                        ids += self.table[x[:-len(suf)] + rep]
                        break
                i += 1
        return ids

    def __call__(self, text, max_length=77):
        ids = [self.bos] + self.concept_ids(text)[:max_length - 2] + [self.eos]
        return ids + [self.eos] * (max_length - len(ids))


# ------------------------------------------------------------------ CLDR
def cldr_annotations():
    """Yields (lang, single-codepoint emoji char, kind ('tts' | 'kw'), text)."""
    for sub in ("annotations", "annotationsDerived"):
        for path in sorted(glob.glob(f"{CLDR}/{sub}/*.xml")):
            lang = os.path.basename(path)[:-4]
            for a in ET.parse(path).getroot().iter("annotation"):
                cp = a.get("cp", "").replace("\ufe0f", "")
                if len(cp) != 1 or not a.text:
                    continue
                if a.get("type") == "tts":
                    yield lang, cp, "tts", a.text.strip()
                else:
                    for kw in a.text.split("|"):
                        yield lang, cp, "kw", kw.strip()


def phrase_keys(text):
    """Keys one annotation contributes: the whole phrase (<= MAX_N words) and each word."""
    w = words(text)
    keys = set(w)
    if 2 <= len(w) <= MAX_N:
        keys.add(" ".join(w))
    return keys


def grammar_clash(key):
    w = key.split(" ")
    if len(w) < 2:
        return False
    s = " " + key + " "
    return "on" in w or "background" in w or " next to " in s or " in front of " in s


# ------------------------------------------------------------------ WordNet
def load_wordnet():
    index = defaultdict(list)  # lemma -> [(pos, [offsets])]
    for pos in ("noun", "adj", "verb", "adv"):
        with open(f"{WORDNET}/index.{pos}", encoding="utf-8") as f:
            for line in f:
                if line.startswith(" "):
                    continue
                p = line.split()
                lemma, ps, n_syn, n_ptr = p[0], p[1], int(p[2]), int(p[3])
                offs = p[6 + n_ptr:6 + n_ptr + n_syn]
                index[lemma].append((ps, offs))
    synsets = {}
    for pos in ("noun", "adj", "verb", "adv"):
        with open(f"{WORDNET}/data.{pos}", encoding="utf-8") as f:
            for line in f:
                if line.startswith(" "):
                    continue
                p = line.split(" | ")[0].split()
                off, ss = p[0], p[2]
                nw = int(p[3], 16)
                lem = [re.sub(r"\(.*\)$", "", p[4 + 2 * i]) for i in range(nw)]
                j = 4 + 2 * nw
                npt = int(p[j]); ptrs = []
                for k in range(npt):
                    sym, toff, tpos = p[j + 1 + 4 * k], p[j + 2 + 4 * k], p[j + 3 + 4 * k]
                    ptrs.append((sym, tpos.replace("s", "a"), toff))
                synsets[(ss.replace("s", "a"), off)] = (lem, ptrs, int(p[1]))
    exc = []
    for pos in ("noun", "verb", "adj"):
        with open(f"{WORDNET}/{pos}.exc", encoding="utf-8") as f:
            for line in f:
                p = line.split()
                if len(p) >= 2:
                    exc.append((p[0], p[1]))
    return index, synsets, exc


REL_W = {"syn": 1.0, "rel": 0.6, "hyper": 0.6, "hyper2": 0.35, "hypo": 0.3}
REL_SYMS = {"+", "&", "\\", "=", "^"}
# WordNet lexicographer files of things an emoji can show: noun.animal, artifact, body, event,
# feeling, food, object, person, phenomenon, plant, shape, substance. Other noun senses
# (possession, act, cognition, ...) weigh ABSTRACT_W.
CONCRETE_NOUN_FILES = {5, 6, 8, 11, 12, 13, 17, 18, 19, 20, 25, 27}
ABSTRACT_W = 0.5


def wn_key(lemma):
    return " ".join(words(lemma.replace("_", " ")))


def build(emoji_cps, names):
    """emoji_cps: dataset codepoints (ints), names: their Unicode names.
    Returns (table: key -> tuple ids, concepts: list of dict, train_pool: see below)."""
    cp_index = {chr(c): i for i, c in enumerate(emoji_cps)}
    EL = defaultdict(lambda: defaultdict(set))  # key -> base language -> emoji
    annos = []  # (lang, emoji idx, kind, text) for the training pools
    for lang, ch, kind, text in cldr_annotations():
        if ch not in cp_index:
            continue
        e = cp_index[ch]
        annos.append((lang, e, kind, text))
        for k in phrase_keys(text):
            EL[k][lang.split("_")[0]].add(e)
    for e, n in enumerate(names):  # Unicode names count as English
        for k in phrase_keys(n):
            EL[k]["en"].add(e)
    E, english = {}, set()
    for k, by in EL.items():
        if "en" in by:  # English meaning first
            english.add(k)
            E[k] = by["en"]
        else:  # other languages: keep the emoji most languages agree on
            votes = defaultdict(int)
            for s in by.values():
                for e in s:
                    votes[e] += 1
            need = max(votes.values()) / 2
            E[k] = {e for e, v in votes.items() if v >= need}
    del EL
    special = set(GRAMMAR) | set(COLOURS) | {"grey"} | set(STOP)
    keys = {k: frozenset(v) for k, v in E.items()
            if k not in special and len(v) <= MAX_EMOJI and not grammar_clash(k) and len(k.split(" ")) <= MAX_N}
    n_fixed = len(GRAMMAR) + len(COLOURS)
    n_emoji = len(emoji_cps)
    # ---- broad keys (> BAG_MAX emoji): cluster their emoji sets
    sigs = defaultdict(list)
    for k, s in keys.items():
        if len(s) > BAG_MAX:
            sigs[s].append(k)
    order = sorted(sigs, key=lambda s: (-len(sigs[s]), len(s), sorted(s)))
    reps, by_emoji, sig_cid = [], defaultdict(list), {}
    for s in order:
        best, bj = None, -1.0
        for c in sorted({c for e in s for c in by_emoji[e]}):
            r = reps[c]
            j = len(s & r) / len(s | r)
            if j >= TAU and j > bj:
                best, bj = c, j
        if best is None:
            best = len(reps); reps.append(s)
            for e in s:
                by_emoji[e].append(best)
        sig_cid[s] = best
    table = {}
    for k, s in keys.items():
        if len(s) > BAG_MAX:
            table[k] = (n_fixed + n_emoji + sig_cid[s],)
        else:
            table[k] = tuple(n_fixed + e for e in sorted(s))
    for k, v in E.items():  # too common (function words in some language): no id, and WordNet may not fill them
        if len(v) > MAX_EMOJI and k not in special and not grammar_clash(k) and len(k.split(" ")) <= MAX_N:
            table[k] = ()
    for i, g in enumerate(GRAMMAR):
        table[g] = (i,)
    for i, c in enumerate(COLOURS):
        table[c] = (len(GRAMMAR) + i,)
    table["grey"] = table["gray"]
    for s in STOP:
        table[s] = ()
    n_cldr = len(table)
    # ---- WordNet
    index, synsets, exc = load_wordnet()
    relation_ids = set(range(len(RELATIONS) + 1))  # next to, in front of, on, background

    def lemmas_of(pos, off):
        return synsets[(pos, off)][0]

    def score_lemmas(lems, w, acc, base):
        cids = []
        for l in lems:
            k = wn_key(l)
            ids = table.get(k) if k in english or k in COLOURS else None
            if ids and ids[0] not in relation_ids:
                cids.append(ids)
        for c in cids:
            acc[c] += base * w / len(cids)

    wn_table = {}
    for lemma in sorted(index):
        k = wn_key(lemma)
        if not k or k in table or len(k.split(" ")) > MAX_N or grammar_clash(k):
            continue
        acc = defaultdict(float)
        for pos, offs in index[lemma]:
            pos = pos.replace("s", "a")
            for rank, off in enumerate(offs):
                base = POS_W[pos] / (1 + rank)
                lem, ptrs, lexf = synsets[(pos, off)]
                if pos == "n" and lexf not in CONCRETE_NOUN_FILES:
                    base *= ABSTRACT_W
                score_lemmas([l for l in lem if wn_key(l) != k], REL_W["syn"], acc, base)
                rel = [l for sym, tp, to in ptrs if sym in REL_SYMS and (tp, to) in synsets for l in lemmas_of(tp, to)]
                score_lemmas(rel, REL_W["rel"], acc, base)
                hyp = [(tp, to) for sym, tp, to in ptrs if sym in ("@", "@i")]
                score_lemmas([l for h in hyp for l in lemmas_of(*h)], REL_W["hyper"], acc, base)
                hyp2 = [(tp, to) for h in hyp for sym, tp, to in synsets[h][1] if sym in ("@", "@i")]
                score_lemmas([l for h in hyp2 for l in lemmas_of(*h)], REL_W["hyper2"], acc, base)
                hypo = [(tp, to) for sym, tp, to in ptrs if sym in ("~", "~i")]
                score_lemmas([l for h in hypo for l in lemmas_of(*h)], REL_W["hypo"], acc, base)
        if acc:
            c, sc = min(acc.items(), key=lambda kv: (-kv[1], kv[0]))
            if sc >= MIN_SCORE:
                wn_table[k] = c
    table.update(wn_table)
    n_wn = len(wn_table)
    n_exc = 0
    for infl, base in exc:
        ki, kb = wn_key(infl), wn_key(base)
        if ki and ki not in table and kb in table and table[kb]:
            table[ki] = table[kb]; n_exc += 1
    concepts = [{"id": i, "kind": "grammar", "keys": [g]} for i, g in enumerate(GRAMMAR)]
    concepts += [{"id": len(GRAMMAR) + i, "kind": "colour", "keys": [c]} for i, c in enumerate(COLOURS)]
    for e in range(n_emoji):
        concepts.append({"id": n_fixed + e, "kind": "emoji", "n_emoji": 1, "keys": [names[e], chr(emoji_cps[e])]})
    members = defaultdict(list)
    for k, s in keys.items():
        if len(s) > BAG_MAX:
            members[sig_cid[s]].append(k)
    for c, r in enumerate(reps):
        concepts.append({"id": n_fixed + n_emoji + c, "kind": "cluster", "n_emoji": len(r),
                         "keys": sorted(members[c], key=lambda k: (len(k), k))[:8]})
    stats = {"cldr_keys": n_cldr, "wordnet_keys": n_wn, "irregular_forms": n_exc, "keys": len(table),
             "concepts": len(concepts), "clusters": len(reps)}
    return table, concepts, annos, stats


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/work/nano2-run/emoji128.npz")
    ap.add_argument("--out", default="/work/nano2-run/tokenizer2")
    a = ap.parse_args()
    import data2
    _, names, cps = data2.load(a.data)
    table, concepts, annos, stats = build(cps, names)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "lexicon.tsv"), "w", encoding="utf-8") as f:
        for k in sorted(table):
            f.write(k + "\t" + " ".join(map(str, table[k])) + "\n")
    with open(os.path.join(a.out, "concepts.tsv"), "w", encoding="utf-8") as f:
        f.write("id\tkind\tn_emoji\texample_keys\n")
        for c in concepts:
            f.write(f"{c['id']}\t{c['kind']}\t{c.get('n_emoji', '')}\t{' | '.join(c['keys'])}\n")
    V = len(concepts)
    cfg = {"type": "banana-nano-2 concept lexicon", "n_concepts": V, "bos_token_id": V, "eos_token_id": V + 1,
           "pad_token_id": V + 1, "vocab_size": V + 2, "max_length": 77, "max_phrase_words": MAX_N,
           "suffix_rules": [["ies", "y"], ["es", ""], ["s", ""]], "min_stem": 3,
           "normalization": "NFKC, lower, delete U+0027 U+2019 U+02BC, words = runs of L*/M*/N*",
           "build": {"BAG_MAX": BAG_MAX, "MAX_EMOJI": MAX_EMOJI, "TAU": TAU, "MIN_SCORE": MIN_SCORE, "POS_W": POS_W, "REL_W": REL_W},
           "stats": stats}
    json.dump(cfg, open(os.path.join(a.out, "lexicon_config.json"), "w"), indent=2)
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
