#!/usr/bin/env python3
"""Expands the moderation categories' concepts through WordNet 3.0 (Debian's `wordnet` package) into
BananaLab.Core/Moderation/Lexicon/wordnet-en.tsv, so that a paraphrase made of other words still lands in its category
(issue 18). Run it again after changing the seeds below; the product only reads the generated file (nothing is
downloaded, and WordNet need not be installed where BananaLab runs).

    /usr/bin/python3 tools/moderation-lexicon/build_wordnet_lexicon.py [--wordnet /usr/share/wordnet]

For each seed synset it takes the synset's own lemmas (synonyms) and those of its hyponyms (and instance hyponyms;
for genitalia also part meronyms), to the depth given. A lemma is kept only when its most frequent sense (the first
one in WordNet's index for its part of speech) is one of the synsets reached: "screw" reaches copulation only in a rare
sense, so it stays out. Nouns get their plural, verbs their -s, -ed and -ing forms.

Source: WordNet 3.0 database files (wndb(5WN) format: data.noun, data.verb, index.noun, index.verb).
"""
import argparse
import os

# (category, pos, synset offset, depth, take the seed's own lemmas, relations)
SEEDS = [
    # sexual activity and pornography (genital anatomy stays out: anatomy diagrams and medicine are allowed)
    ("sexual", "n", "00845523", 3, True, ("~",)),        # sexual intercourse, copulation, coitus
    ("sexual", "v", "01428871", 2, True, ("~",)),        # copulate, mate, couple
    ("sexual", "v", "01426415", 1, True, ("~",)),        # fuck, screw, bed...
    ("sexual", "n", "00855674", 2, True, ("~",)),        # masturbation
    ("sexual", "v", "01430970", 1, True, ("~",)),        # masturbate (oneself)
    ("sexual", "v", "01430651", 1, True, ("~",)),        # masturbate (another)
    ("sexual", "n", "00855169", 1, True, ("~",)),        # fellatio
    ("sexual", "n", "00747215", 2, True, ("~",)),        # pornography
    # killing made gruesome, torture, chemical and biological weapons (nuclear ones and riot gas are history and news)
    ("violence", "n", "01165224", 1, True, ("~",)),      # decapitation, beheading
    ("violence", "v", "01571372", 1, True, ("~",)),      # behead, decapitate
    ("violence", "v", "00197590", 1, True, ("~",)),      # disembowel, eviscerate
    ("violence", "v", "01572242", 1, True, ("~",)),      # dismember
    ("violence", "n", "07433510", 1, True, ("~",)),      # dismemberment
    ("violence", "n", "00223983", 1, True, ("~",)),      # massacre, mass murder (not its named instances: history)
    ("violence", "v", "01802707", 1, True, ("~",)),      # torture
    ("violence", "n", "03013162", 2, True, ("~",)),      # chemical weapon
    ("violence", "n", "02842303", 2, True, ("~",)),      # bioweapon, biological weapon
    ("violence", "n", "03205903", 1, True, ("~",)),      # dirty bomb
    ("violence", "n", "14960721", 2, True, ("~",)),      # nerve agent, nerve gas (sarin, tabun, soman, VX)
    # suicide: its kinds only; "suicide" alone is the lists' business (prevention posters are fine)
    ("self_harm", "n", "00222485", 2, False, ("~",)),
    # a child: context for the minors rule, never blocking alone
    ("minors", "n", "09917593", 2, True, ("~",)),        # child, kid, youngster
    ("minors", "n", "09827683", 2, True, ("~",)),        # baby, infant, babe
]

# Lemmas reached that name something else in everyday prompts; kept out by hand, with the reason.
EXCLUDED = {
    "bed": "furniture", "lie with": "archaic; 'lie' is too common", "sleep with": "euphemism, common in other senses",
    "do it": "'do it yourself'", "have a go at it": "idiom: to try", "scarf": "clothing", "screw": "hardware", "bugger": "idiom",
    "puss": "a cat", "pussy": "a cat; the lists decide", "hanky panky": "idiom", "hank panky": "idiom", "free love": "history",
    "adultery": "art history (the woman taken in adultery)", "incest": "mythology and news", "carnal knowledge": "a film title",
    "criminal conversation": "a legal term", "erotica": "a book genre", "self-abuse": "ambiguous", "piece of tail": "ambiguous",
    "bang": "a noise", "bonk": "a hit", "hump": "a camel's hump", "jazz": "music", "love": "too common", "make love": "the lists decide",
    "butchery": "a butcher's shop", "carnage": "the lists decide", "slaughter": "cooking and farming", "bloodbath": "the lists decide",
    "torment": "common figuratively", "excruciate": "pain in medicine", "guillotine": "history; paper cutters",
    "taking apart": "repair", "take apart": "repair", "botulin": "Botox", "botulinus toxin": "Botox", "botulismotoxin": "Botox",
    "aflatoxin": "food safety", "clostridium perfringens": "food safety", "staphylococcal enterotoxin b": "microbiology",
    "bacillus anthracis": "microbiology", "anthrax bacillus": "microbiology", "assisted suicide": "news and debate",
    "physician-assisted suicide": "news and debate", "suttee": "history",
    "babe": "a term of endearment", "nipper": "a claw", "shaver": "a razor", "tiddler": "a small fish", "fry": "cooking",
    "small fry": "idiom", "cherub": "angels in art", "urchin": "sea urchins", "yearling": "horses", "waif": "a fashion look",
    "brat": "common", "silly": "common", "scamp": "common", "holy terror": "idiom", "little terror": "idiom", "poster boy": "idiom",
    "poster child": "idiom", "poster girl": "idiom", "wonder child": "idiom", "child prodigy": "talent", "infant prodigy": "talent",
    "tear gas": "riot police in the news", "teargas": "riot police in the news", "pepper spray": "self-defence", "cs gas": "riot control",
    "cn gas": "riot control", "lachrymator": "riot control", "lacrimator": "riot control", "chloroacetophenone": "riot control",
    "chlorobenzylidenemalononitrile": "riot control", "mate": "chess, friends", "be intimate": "close friends", "screwing": "hardware",
    "sleep together": "children at a sleepover", "roll in the hay": "farm idiom", "get it on": "idiom", "have it away": "idiom",
    "have it off": "to remove", "criminal congress": "legal term",
}

# Nouns whose plural is not regular.
IRREGULAR_PLURAL = {"child": "children"}

IRREGULAR = {
    "be": ["be", "is", "are", "was", "were", "been", "being"], "do": ["do", "does", "did", "done", "doing"],
    "get": ["get", "gets", "got", "gotten", "getting"], "have": ["have", "has", "had", "having"], "make": ["make", "makes", "made", "making"],
    "lie": ["lie", "lies", "lay", "lain", "lying"], "sleep": ["sleep", "sleeps", "slept", "sleeping"],
}

def read_index(wordnet, pos):
    first_sense = {}
    with open(os.path.join(wordnet, f"index.{'noun' if pos == 'n' else 'verb'}"), encoding="latin-1") as f:
        for line in f:
            if line.startswith("  "): continue
            parts = line.split()
            lemma, p_cnt = parts[0], int(parts[3])
            offsets = parts[6 + p_cnt:]
            if offsets: first_sense[lemma] = offsets[0]
    return first_sense

def read_data(wordnet, pos):
    synsets = {}
    with open(os.path.join(wordnet, f"data.{'noun' if pos == 'n' else 'verb'}"), encoding="latin-1") as f:
        for line in f:
            if line.startswith("  "): continue
            parts = line.split(" | ")[0].split()
            offset, w_cnt = parts[0], int(parts[3], 16)
            words = [parts[4 + 2 * i].lower() for i in range(w_cnt)]
            i = 4 + 2 * w_cnt
            p_cnt = int(parts[i]); i += 1
            pointers = []
            for _ in range(p_cnt):
                symbol, target, target_pos = parts[i], parts[i + 1], parts[i + 2]
                pointers.append((symbol, target, "n" if target_pos == "n" else "v" if target_pos == "v" else target_pos))
                i += 4
            synsets[offset] = (words, pointers)
    return synsets

def clean(lemma):
    # WordNet marks adjective positions "(a)" and uses underscores between words.
    return lemma.split("(")[0].replace("_", " ").strip()

def inflections(term, pos):
    words = term.split(" ")
    def plural(w):
        for singular, irregular in IRREGULAR_PLURAL.items():
            if w.endswith(singular): return w[:-len(singular)] + irregular  # godchild, foster-child
        if w.endswith("s") and not w.endswith("ss"): return w  # already plural (genitals, bollocks)
        if w.endswith(("ss", "x", "z", "ch", "sh")): return w + "es"
        if w.endswith("y") and len(w) > 2 and w[-2] not in "aeiou": return w[:-1] + "ies"
        return w + "s"
    if pos == "n":
        # Only a one- or two-word noun ending in a noun takes a plural ("jerking off" does not).
        if len(words) > 2 or words[-1] in ("off", "it", "with", "up", "on"): return {term}
        return {term, " ".join(words[:-1] + [plural(words[-1])])}
    head, rest = words[0], words[1:]
    if head in IRREGULAR: forms = set(IRREGULAR[head])
    elif head.endswith("e"): forms = {head, head + "s", head + "d", head[:-1] + "ing"}
    elif head.endswith("y") and len(head) > 2 and head[-2] not in "aeiou": forms = {head, head[:-1] + "ies", head[:-1] + "ied", head + "ing"}
    else: forms = {head, head + "s", head + "ed", head + "ing"}
    return {" ".join([f] + rest) for f in forms}

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wordnet", default="/usr/share/wordnet")
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "BananaLab.Core", "Moderation", "Lexicon", "wordnet-en.tsv"))
    args = ap.parse_args()
    data = {p: read_data(args.wordnet, p) for p in "nv"}
    first = {p: read_index(args.wordnet, p) for p in "nv"}
    rows = {}
    for category, pos, seed, depth, own, relations in SEEDS:
        reached = {}
        frontier = [(seed, 0)]
        while frontier:
            offset, d = frontier.pop()
            if offset in reached: continue
            reached[offset] = d
            if d >= depth: continue
            for symbol, target, target_pos in data[pos][offset][1]:
                if target_pos == pos and symbol in relations:
                    frontier.append((target, d + 1))
        for offset in reached:
            if offset == seed and not own: continue
            words = data[pos][offset][0]
            for lemma in words:
                key = clean(lemma).lower()
                if first[pos].get(clean(lemma).replace(" ", "_").lower()) not in reached: continue  # not its main sense
                if key in EXCLUDED: continue
                if len(key) < 4: continue
                synset = f"{clean(words[0]).replace(' ', '_')}.{pos}.{offset}"
                for form in sorted(inflections(key, pos)):
                    rows.setdefault((category, form), synset)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("# Generated by tools/moderation-lexicon/build_wordnet_lexicon.py from WordNet 3.0; do not edit by hand.\n")
        f.write("# category\tterm\tsynset (first lemma.pos.offset) the term was reached through\n")
        for (category, term), synset in sorted(rows.items()):
            f.write(f"{category}\t{term}\t{synset}\n")
    print(f"{len(rows)} terms written to {os.path.relpath(args.out)}")

if __name__ == "__main__":
    main()
