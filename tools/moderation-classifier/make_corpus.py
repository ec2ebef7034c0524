#!/usr/bin/python3
"""Generates the prompt classifier's labelled corpus from templates (lexicon.py): subjects x acts x contexts x styles x
languages, plus hard benign cases and obfuscated spellings. Writes corpus.tsv (training) and validation.tsv (about 15 %,
split by template so near-duplicates of a validation prompt never reach training), both in the format of
tools/moderation-eval/corpus.tsv: header `label  category  lang  prompt`, tab-separated, UTF-8.

Deterministic: the same lexicon gives the same files. Run: /usr/bin/python3 tools/moderation-classifier/make_corpus.py
"""
import hashlib
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lexicon import COMPOSE, LANGUAGES  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EVAL_CORPUS = os.path.join(ROOT, "tools", "moderation-eval", "corpus.tsv")
BLOCK = ["sexual", "minors_sexual", "violence", "hate", "self_harm", "illegal"]
BENIGN = ["medical", "art", "news", "history", "cooking", "sport", "gaming", "idiom", "everyday", "children_benign"]
VALIDATION_PERCENT = 15
OBFUSCATE_RATE = 0.12
COMPOSED = ("violence", "illegal", "hate", "self_harm")
SLOT = re.compile(r"\{([a-z])\}")

HOMOGLYPHS = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "i": "і"}
LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}


def in_validation(key):
    digest = hashlib.md5("|".join(map(str, key)).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "little") % 100 < VALIDATION_PERCENT


def longest_word(text):
    words = text.split(" ")
    index = max(range(len(words)), key=lambda i: len(words[i]))
    return words, index


def obfuscate(text, lang, rng):
    """One obfuscation per prompt: the kinds the term lists already face, so the classifier sees them too."""
    kinds = ["spaced", "fullwidth", "mathbold", "zerowidth", "upper"]
    if lang not in ("ru", "ja"):
        kinds += ["leet", "leet", "homoglyph", "homoglyph", "stretch"]
    kind = rng.choice(kinds)
    words, i = longest_word(text)
    word = words[i]
    if kind == "spaced" and len(word) > 2:
        words[i] = rng.choice([" ", ".", "-"]).join(word)
    elif kind == "leet":
        words[i] = "".join(LEET.get(ch, ch) if rng.random() < 0.7 else ch for ch in word)
    elif kind == "homoglyph":
        words[i] = "".join(HOMOGLYPHS.get(ch, ch) if rng.random() < 0.6 else ch for ch in word)
    elif kind == "zerowidth" and len(word) > 2:
        cut = rng.randrange(1, len(word))
        words[i] = word[:cut] + "\u200b" + word[cut:]
    elif kind == "stretch" and len(word) > 2:
        cut = rng.randrange(1, len(word))
        words[i] = word[:cut] + word[cut - 1] * 3 + word[cut:]
    elif kind == "upper":
        return text.upper()
    elif kind == "fullwidth":
        return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)
    elif kind == "mathbold":
        # Mathematical bold letters, mixed with full-width ones: both fold to ASCII under NFKC.
        def bold(ch):
            if "a" <= ch <= "z":
                return chr(0x1D41A + ord(ch) - ord("a")) if rng.random() < 0.6 else chr(ord(ch) + 0xFEE0)
            if "A" <= ch <= "Z":
                return chr(0x1D400 + ord(ch) - ord("A"))
            return ch
        words[i] = "".join(bold(ch) for ch in word)
    return " ".join(words)


class Generator:
    def __init__(self, lang, lex, compose, rng):
        self.lang, self.lex, self.compose, self.rng = lang, lex, compose, rng

    def pick(self, key):
        return self.rng.choice(self.lex[key])

    def person(self, words, ages, share, low, high):
        """(template of the subject, the subject): a plain word, or a stated age from low to high."""
        if self.rng.random() < share:
            word = self.pick(words)
            return word, word
        template = self.pick(ages)
        return template, template.format(n=self.rng.choice(range(low, high)))

    def child(self):
        return self.person("kid", "age", 0.5, 3, 18)

    def adult(self):
        return self.person("adult", "aged", 0.7, 18, 71)

    def fill(self, template):
        return template.format(p=self.adult()[1], g=self.pick("group")) if "{" in template else template

    def subject_phrase(self, subject, act):
        return self.rng.choice(self.lex["pat"]).format(s=subject, x=act)

    def frame(self, core):
        """Wraps a core phrase as a user might ask for it: plain, with a request, a style or a context."""
        join = "" if self.lang == "ja" else " "
        comma = "、" if self.lang == "ja" else ", "
        roll = self.rng.random()
        if roll < 0.25:
            return core
        if roll < 0.45:
            return self.pick("ask") + join + core
        if roll < 0.65:
            return core + comma + self.pick("style")
        if roll < 0.85:
            return (self.pick("ctx") + core) if self.lang == "ja" else (core + " " + self.pick("ctx"))
        return self.pick("ask") + join + core + comma + self.pick("style")

    def sample(self, category):
        """One (template key, core phrase) for a category; the key decides the train/validation split."""
        lex, rng, lang = self.lex, self.rng, self.lang
        if category in ("sexual", "minors_sexual", "everyday", "children_benign"):
            pool = {"sexual": "sexual", "minors_sexual": "csam", "everyday": "everyday", "children_benign": None}[category]
            acts = "sx" if category in ("sexual", "minors_sexual") else "ok"
            if pool and rng.random() < 0.35:
                i = rng.randrange(len(lex[pool]))
                return (lang, pool, i), self.fill(lex[pool][i])
            i = rng.randrange(len(lex[acts]))
            subject_template, subject = self.child() if category in ("minors_sexual", "children_benign") else self.adult()
            return (lang, acts, i, subject_template), self.subject_phrase(subject, lex[acts][i])
        if category in COMPOSED and rng.random() < 0.55:
            frame = rng.randrange(len(self.compose[category]))
            core, key = self.compose[category][frame], [lang, category, "compose", frame]
            for slot in sorted(set(SLOT.findall(core)) & set(self.compose)):
                filler = rng.randrange(len(self.compose[slot]))
                core = core.replace("{" + slot + "}", self.compose[slot][filler])
                key.append(filler)
            return tuple(key), self.fill(core)
        i = rng.randrange(len(lex[category]))
        return (lang, category, i), self.fill(lex[category][i])


def generate():
    rng = random.Random(20261130)
    rows, seen = [], set()
    for lang, lex in LANGUAGES.items():
        generator = Generator(lang, lex, COMPOSE[lang], rng)
        scale = 1.5 if lang == "en" else 1.0
        for category in BLOCK + BENIGN:
            label = "block" if category in BLOCK else "allow"
            target = int((100 if category in COMPOSED else 70 if label == "block" else 45) * scale)
            made, attempts = 0, 0
            while made < target and attempts < target * 30:
                attempts += 1
                key, core = generator.sample(category)
                prompt = generator.frame(core)
                if rng.random() < OBFUSCATE_RATE:
                    prompt = obfuscate(prompt, lang, rng)
                if prompt in seen:
                    continue
                seen.add(prompt)
                rows.append((key, label, category, lang, prompt))
                made += 1
    with open(EVAL_CORPUS, encoding="utf-8") as f:
        next(f)
        for line in f:
            label, category, lang, prompt = line.rstrip("\n").split("\t")
            if prompt not in seen:
                seen.add(prompt)
                rows.append((("eval", prompt), label, category, lang, prompt))
    return rows


def write(path, rows):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("label\tcategory\tlang\tprompt\n")
        for _, label, category, lang, prompt in rows:
            f.write(f"{label}\t{category}\t{lang}\t{prompt}\n")


def main():
    rows = generate()
    train = [r for r in rows if not in_validation(r[0])]
    validation = [r for r in rows if in_validation(r[0])]
    write(os.path.join(HERE, "corpus.tsv"), train)
    write(os.path.join(HERE, "validation.tsv"), validation)
    block = sum(1 for r in rows if r[1] == "block")
    print(f"{len(rows)} prompts ({block} block, {len(rows) - block} allow): "
          f"{len(train)} in corpus.tsv, {len(validation)} in validation.tsv")


if __name__ == "__main__":
    main()
