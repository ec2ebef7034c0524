"""Write tokenizer_test_vectors.json (captions -> 77 input ids) for the C# tokenizer tests.
    /usr/bin/python3 make_test_vectors.py
"""
import json, os
from clip_bpe import CLIPTokenizer, pretokenize, whitespace_clean

tok = CLIPTokenizer.load("/work/main/BananaLab.Tests/Inference/Data/clip-bpe-tokenizer")
caps = [
    "", "red apple", "Red Apple", "  grinning   face  ", "grinning face\twith\nsmiling eyes",
    "red apple on a blue background", "dog face and cat face", "a photo of a banana",
    "zyxqv", "zyxqv banana", "smiling face with sunglasses!!!", "what's up? it's 5 o'clock",
    "I'LL be there, you'd've", "rocket 🚀 to the moon 🌕", "café naïve résumé", "Ünïcödé ÄÖÜ ß",
    "日本語のテキスト", "emoji😀😀 mixed", "number 42 and 3.14159", "1234567890",
    "under_score__double", "hyphen-ated -- dashes", "(parens) [brackets] {braces}", "#hashtag @mention $100 %50",
    "<|startoftext|>red apple<|endoftext|>", "tab\tand\r\nnewline", "ALL CAPS RED HEART",
    "fire fire fire fire", "a-b_c.d,e;f:g", "don't stop",
    " ".join(["red apple"] * 50),  # long: truncated to 75 tokens + eos
]
out = {"description": "banana-nano CLIP-BPE tokenizer test vectors: input_ids = [bos] + bpe(text)[:75] + [eos], "
                       "padded with eos to 77. tokens = BPE tokens before truncation.",
       "bos_token_id": tok.bos_id, "eos_token_id": tok.eos_id, "pad_token_id": tok.eos_id, "model_max_length": 77,
       "cases": []}
for c in caps:
    out["cases"].append({"text": c, "pretokens": pretokenize(whitespace_clean(c).lower()),
                         "tokens": tok.tokenize(c), "input_ids": tok(c)})
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tokenizer_test_vectors.json")
with open(path, "w", encoding="utf-8") as f:
    json.dump(out, f, ensure_ascii=False, indent=1)
print("wrote", path, len(caps), "cases")
for c in out["cases"][:12]:
    print(repr(c["text"]), c["tokens"][:12])
