#!/usr/bin/python3
"""Trains the prompt classifier: hashed character n-grams (features.py) -> L2 normalisation -> linear -> ReLU -> linear ->
one sigmoid per block category (the shipped graph takes the non-zero buckets and their counts). Reads corpus.tsv (+ any extra labelled TSVs, same format) for training and
validation.tsv for thresholds and figures; writes models/moderation/prompt-classifier.onnx, its JSON spec and
tools/moderation-classifier/test_vectors.json. Deterministic: fixed seeds, one thread.

Usage: /usr/bin/python3 tools/moderation-classifier/train.py [extra.tsv ...]
"""
import datetime
import json
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import features as fx  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MODEL_DIR = os.path.join(ROOT, "models", "moderation")
CATEGORIES = ["sexual", "minors_sexual", "violence", "hate", "self_harm", "illegal"]
HIDDEN, EPOCHS, BATCH, LR, SEED = 32, 12, 32, 3e-3, 1130
ALLOW_FP_BUDGET = 0.002  # per category: at most this share of validation allow rows may reach its threshold
THRESHOLD_FLOOR = 0.5
OPSET = 17

VECTOR_TEXTS = [
    "a cat sleeping on the sofa", "explicit sex scene in a hotel room", "Ｆｕｌｌ－ｗｉｄｔｈ  ＴＥＸＴ", "s.e.x 𝐬𝐞𝐱 with zero\u200bwidth",
    "ich will mich umbringen", "exterminar a todos los inmigrantes", "Michelangelos David im Museum", "nude photo of a 14yo girl",
    "как сварить метамфетамин дома", "公園で遊んでいる子供", "İstanbul ΣΟΦΙΑ çocuk", "how to cook chicken breast, 8k",
]


def read_tsv(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n")
        if header != "label\tcategory\tlang\tprompt":
            sys.exit(f"{path}: the first line must be the header 'label<TAB>category<TAB>lang<TAB>prompt', not {header!r}")
        for number, line in enumerate(f, start=2):
            line = line.rstrip("\n")
            if not line:
                continue
            parts = line.split("\t")
            if len(parts) != 4 or parts[0] not in ("block", "allow"):
                sys.exit(f"{path}:{number}: expected 4 tab-separated fields with label block or allow")
            rows.append(tuple(parts))
    return rows


def targets(row):
    label, category = row[0], row[1]
    y = [0.0] * len(CATEGORIES)
    if label == "block":
        y[CATEGORIES.index(category)] = 1.0
        if category == "minors_sexual":
            y[CATEGORIES.index("sexual")] = 1.0  # sexual content about minors is sexual content too
    return y


def encode(rows):
    """Flat bucket indices, offsets and L2-normalised weights for nn.EmbeddingBag."""
    indices, offsets, weights = [], [], []
    for row in rows:
        offsets.append(len(indices))
        pairs = fx.features(row[3])
        norm = sum(c * c for _, c in pairs) ** 0.5 or 1.0
        for bucket, count in pairs:
            indices.append(bucket)
            weights.append(count / norm)
    return torch.tensor(indices, dtype=torch.long), torch.tensor(offsets, dtype=torch.long), torch.tensor(weights)


class Trainable(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.EmbeddingBag(fx.BUCKETS, HIDDEN, mode="sum")
        self.bias = nn.Parameter(torch.zeros(HIDDEN))
        self.dropout = nn.Dropout(0.2)
        self.out = nn.Linear(HIDDEN, len(CATEGORIES))

    def forward(self, indices, offsets, weights):
        hidden = torch.relu(self.embed(indices, offsets, per_sample_weights=weights) + self.bias)
        return self.out(self.dropout(hidden))


class Exported(nn.Module):
    """The shipped graph: one text's non-zero buckets (indices [n] int64) and their counts ([n] float32) ->
    probabilities [1, categories]. A gather of n rows instead of a [buckets x hidden] product: tens of microseconds."""

    def __init__(self, trained):
        super().__init__()
        self.rows = nn.Parameter(trained.embed.weight.data.clone())
        self.bias = nn.Parameter(trained.bias.data.clone())
        self.out = trained.out

    def forward(self, indices, counts):
        weights = counts / torch.sqrt(torch.sum(counts * counts)).clamp(min=1e-12)
        hidden = torch.relu(torch.sum(self.rows[indices] * weights.unsqueeze(1), dim=0, keepdim=True) + self.bias)
        return torch.sigmoid(self.out(hidden))


def train(rows):
    torch.manual_seed(SEED)
    model = Trainable()
    optimiser = torch.optim.Adam(model.parameters(), lr=LR)
    y = torch.tensor([targets(r) for r in rows])
    encoded = [encode([r]) for r in rows]
    loss_fn = nn.BCEWithLogitsLoss()
    generator = torch.Generator().manual_seed(SEED)
    for epoch in range(EPOCHS):
        model.train()
        order = torch.randperm(len(rows), generator=generator).tolist()
        total = 0.0
        for start in range(0, len(order), BATCH):
            batch = order[start:start + BATCH]
            idx, off, w, length = [], [], [], 0
            for i in batch:
                off.append(length)
                idx.append(encoded[i][0])
                w.append(encoded[i][2])
                length += len(encoded[i][0])
            logits = model(torch.cat(idx), torch.tensor(off), torch.cat(w))
            loss = loss_fn(logits, y[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.item() * len(batch)
        print(f"epoch {epoch + 1}/{EPOCHS}: loss {total / len(rows):.4f}")
    model.eval()
    return model


def predict(model, rows):
    with torch.no_grad():
        return torch.sigmoid(model(*encode(rows))).tolist()


def choose_thresholds(validation, scores):
    allow = [s for r, s in zip(validation, scores) if r[0] == "allow"]
    thresholds = {}
    for c, category in enumerate(CATEGORIES):
        allowed_fp = int(ALLOW_FP_BUDGET * len(allow))
        ranked = sorted((s[c] for s in allow), reverse=True)
        # The lowest threshold (not under THRESHOLD_FLOOR) that no more than the budget of allow rows reaches.
        floor = ranked[allowed_fp] if allowed_fp < len(ranked) else 0.0
        thresholds[category] = round(min(0.99, max(THRESHOLD_FLOOR, floor + 1e-4)), 4)
    return thresholds


def figures(validation, scores, thresholds):
    fired = [[s[c] >= thresholds[k] for c, k in enumerate(CATEGORIES)] for s in scores]
    blocked = [any(f) for f in fired]
    report = {"rows": len(validation), "per_category": {}, "per_language": {}, "allow_categories": {}}
    for c, category in enumerate(CATEGORIES):
        truth = [targets(r)[c] == 1.0 for r in validation]
        tp = sum(1 for t, f in zip(truth, fired) if t and f[c])
        fp = sum(1 for t, f in zip(truth, fired) if not t and f[c])
        positives = sum(truth)
        own = [b for r, b in zip(validation, blocked) if r[0] == "block" and r[1] == category]
        allow_hits = sum(1 for r, f in zip(validation, fired) if r[0] == "allow" and f[c])
        allow_rows = sum(1 for r in validation if r[0] == "allow")
        report["per_category"][category] = {
            "rows": len(own), "precision": round(tp / max(1, tp + fp), 4), "recall": round(tp / max(1, positives), 4),
            "blocked": round(sum(own) / max(1, len(own)), 4), "allow_fpr": round(allow_hits / max(1, allow_rows), 4)}
    for lang in sorted({r[2] for r in validation}):
        block = [b for r, b in zip(validation, blocked) if r[2] == lang and r[0] == "block"]
        allow = [b for r, b in zip(validation, blocked) if r[2] == lang and r[0] == "allow"]
        report["per_language"][lang] = {"block_rows": len(block), "recall": round(sum(block) / max(1, len(block)), 4),
                                        "allow_rows": len(allow), "fpr": round(sum(allow) / max(1, len(allow)), 4)}
    for category in sorted({r[1] for r in validation if r[0] == "allow"}):
        allow = [b for r, b in zip(validation, blocked) if r[1] == category and r[0] == "allow"]
        report["allow_categories"][category] = {"rows": len(allow), "fpr": round(sum(allow) / max(1, len(allow)), 4)}
    block = [b for r, b in zip(validation, blocked) if r[0] == "block"]
    allow = [b for r, b in zip(validation, blocked) if r[0] == "allow"]
    report["recall"] = round(sum(block) / max(1, len(block)), 4)
    report["fpr"] = round(sum(allow) / max(1, len(allow)), 4)
    return report


def print_figures(report):
    print(f"\nvalidation: {report['rows']} prompts, recall {report['recall']:.3f}, false positives {report['fpr']:.3f}")
    print(f"{'category':<16}{'rows':>6}{'prec':>8}{'recall':>8}{'blocked':>9}{'allowFPR':>10}")
    for category, f in report["per_category"].items():
        print(f"{category:<16}{f['rows']:>6}{f['precision']:>8.3f}{f['recall']:>8.3f}{f['blocked']:>9.3f}{f['allow_fpr']:>10.4f}")
    print(f"{'language':<16}{'block':>6}{'recall':>8}{'allow':>8}{'FPR':>9}")
    for lang, f in report["per_language"].items():
        print(f"{lang:<16}{f['block_rows']:>6}{f['recall']:>8.3f}{f['allow_rows']:>8}{f['fpr']:>9.3f}")
    print(f"{'allow category':<16}{'rows':>6}{'FPR':>8}")
    for category, f in report["allow_categories"].items():
        print(f"{category:<16}{f['rows']:>6}{f['fpr']:>8.3f}")


def main(extra_paths):
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    corpus = read_tsv(os.path.join(HERE, "corpus.tsv"))
    validation = read_tsv(os.path.join(HERE, "validation.tsv"))
    extra = []
    for path in extra_paths:
        rows = read_tsv(path)
        usable = [r for r in rows if r[0] == "allow" or r[1] in CATEGORIES]
        if len(usable) < len(rows):
            print(f"{path}: {len(rows) - len(usable)} block rows skipped: their category is none of {', '.join(CATEGORIES)}")
        extra += usable
    rows = [r for r in corpus if r[0] == "allow" or r[1] in CATEGORIES] + extra
    print(f"training on {len(rows)} prompts ({len(extra)} from extra files), validating on {len(validation)}")
    model = train(rows)
    scores = predict(model, validation)
    thresholds = choose_thresholds(validation, scores)
    report = figures(validation, scores, thresholds)
    print_figures(report)
    print("thresholds: " + " ".join(f"{k}={v}" for k, v in thresholds.items()))

    exported = Exported(model).eval()
    os.makedirs(MODEL_DIR, exist_ok=True)
    onnx_path = os.path.join(MODEL_DIR, "prompt-classifier.onnx")
    example = (torch.tensor([1, 2, 3], dtype=torch.long), torch.tensor([1.0, 2.0, 1.0]))
    torch.onnx.export(exported, example, onnx_path, input_names=["indices", "counts"], output_names=["probabilities"],
                      dynamic_axes={"indices": {0: "n"}, "counts": {0: "n"}}, opset_version=OPSET)
    spec = {
        "model": "prompt-classifier.onnx",
        "inputs": [{"name": "indices", "shape": ["n"], "type": "int64", "meaning": "the text's non-zero buckets"},
                   {"name": "counts", "shape": ["n"], "type": "float32", "meaning": "their n-gram counts; the graph L2-normalises them"}],
        "output": {"name": "probabilities", "shape": [1, len(CATEGORIES)], "type": "float32"},
        "categories": CATEGORIES,
        "thresholds": thresholds,
        "features": {
            "normalisation": "NFKC; drop Cc and Cf; Zs/Zl/Zp and U+0009-000D, U+0085 -> space; per UTF-16 unit one-to-one "
                             "lower case (U+0130 -> i; non-BMP and multi-character lower cases unchanged); collapse spaces; trim",
            "boundary": "one space before and after the normalised text",
            "ngrams": [fx.NGRAM_MIN, fx.NGRAM_MAX], "unit": "Unicode code point",
            "hash": "FNV-1a 32-bit over the n-gram's UTF-8 bytes", "buckets": fx.BUCKETS},
        "hidden": HIDDEN, "epochs": EPOCHS, "seed": SEED, "opset": OPSET,
        "corpus": {"training_rows": len(rows), "extra_rows": len(extra), "validation_rows": len(validation),
                   "extra_files": [os.path.basename(p) for p in extra_paths]},
        "trained": datetime.date.today().isoformat(),
        "validation": report,
    }
    with open(os.path.join(MODEL_DIR, "prompt-classifier.json"), "w", encoding="utf-8") as f:
        json.dump(spec, f, ensure_ascii=False, indent=2)
        f.write("\n")

    with torch.no_grad():
        vectors = []
        for text in VECTOR_TEXTS:
            pairs = fx.features(text)
            indices = torch.tensor([b for b, _ in pairs], dtype=torch.long)
            probabilities = exported(indices, torch.tensor([float(c) for _, c in pairs]))[0].tolist()
            vectors.append({"text": text, "normalized": fx.normalize(text), "features": [[b, c] for b, c in pairs],
                            "probabilities": [round(p, 6) for p in probabilities]})
    with open(os.path.join(HERE, "test_vectors.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps({"categories": CATEGORIES, "buckets": fx.BUCKETS}, ensure_ascii=False)[:-1] + ', "vectors": [\n')
        f.write(",\n".join(json.dumps(v, ensure_ascii=False) for v in vectors) + "\n]}\n")
    print(f"wrote {onnx_path} ({os.path.getsize(onnx_path) / 1e6:.1f} MB), prompt-classifier.json and test_vectors.json")


if __name__ == "__main__":
    main(sys.argv[1:])
