"""Test vectors for a C# port of the banana-nano 2 lexicon rule (lexicon2.Lexicon).
    /usr/bin/python3 make_lexicon_vectors.py --lexicon /work/nano2-run/tokenizer2
Writes lexicon_test_vectors.json: for each text, the words (rule steps 1-2), the concept ids
(step 3) and the 77 input ids (step 4), plus the sha256 of the lexicon.tsv they came from.
"""
import argparse, hashlib, json, os
from lexicon2 import Lexicon, words

CASES = [
    "", "cat", "Cat", "CATS", "a cat next to a banana on a blue background",
    "red apple on an orange background", "an apple in front of a pear", "a dog on a skateboard",
    "Katze", "gâteau", "Ölkanne", "l’orange", "man's shoe", "hot dog", "hot  dogs",
    "thumbs-up", "smiley!!!", "mice", "berries", "boxes", "crimson heart", "grey cat",
    "zyxqv", "the the the", "🍌 banana", "fire\tand ice", "ＣＡＴ (fullwidth)", "grinning face with smiling eyes",
    "on", "next to", "in front of", "background", "1 2 3", "école", "İstanbul", "ΓΑΤΑ", "ΟΔΟΣ ΑΣ.", "ΚΟΣΜΟΣ καλός", "𝐀𝐁c apple", "x\x1cy",
    " ".join(["cat"] * 80),
]

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--lexicon", default="/work/nano2-run/tokenizer2")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "lexicon_test_vectors.json"))
    a = ap.parse_args()
    lex = Lexicon.load(a.lexicon)
    sha = hashlib.sha256(open(os.path.join(a.lexicon, "lexicon.tsv"), "rb").read()).hexdigest()
    out = {"lexicon_tsv_sha256": sha, "n_concepts": lex.V, "bos": lex.bos, "eos": lex.eos,
           "cases": [{"text": t, "words": words(t), "concept_ids": lex.concept_ids(t), "input_ids": lex(t)} for t in CASES]}
    json.dump(out, open(a.out, "w", encoding="utf-8"), ensure_ascii=False, indent=1)
    print(len(CASES), "cases ->", a.out)
