"""banana-nano 2 images: 128x128 single emoji and two-emoji compositions.

Singles: the same 1,392 single-codepoint emoji as data.py (same ranges, same name
de-duplication), rendered from Noto Color Emoji's native bitmaps (136x128 cell, 109 px
font size), cropped to the alpha box, padded square and resized (premultiplied Lanczos)
to 120x120 inside a 128x128 RGBA canvas (4 px margin), i.e. almost native size.

Compositions: `compose(first, second, relation, bg)` is THE renderer for two-object
images. Training (pre-rendered latents, autoencoder batches) and the quality gate (true
image of a held-out pair) must all call it, so the layout lives only here (LAYOUT):

    "next to"     first on the left, second on the right, same size, side by side
    "on"          first (smaller) on top of second, stacked vertically, no overlap
    "in front of" second large at the top right (behind), first at the bottom left,
                  drawn over it (they overlap)

There is no random jitter: a (first, second, relation, background) tuple has exactly one
image.

    /usr/bin/python3 data2.py --out /work/nano2-run/emoji128.npz
"""
import argparse

import numpy as np
from PIL import Image, ImageFont

import data

SIZE = 128
MARGIN = 4
RELATIONS = ("next to", "on", "in front of")
# background word -> RGB. White first (index 0), then data.BACKGROUNDS' order.
BG = {"white": (255, 255, 255), **data.BACKGROUNDS}
BG_WORDS = list(BG)

# relation -> [(which, x, y, size), ...] drawn in this order (later = in front).
# which: 0 = first object of the caption, 1 = second.
LAYOUT = {
    "next to": [(0, 4, 35, 58), (1, 66, 35, 58)],
    "on": [(1, 32, 62, 64), (0, 38, 6, 52)],
    "in front of": [(1, 40, 4, 84), (0, 6, 52, 70)],
}


def render_all():
    """-> rgba uint8 [N,128,128,4], names, codepoints (same order as data.render_all)."""
    font = ImageFont.truetype(data.FONT, 109)
    imgs, names, cps = [], [], []
    seen = set()
    import unicodedata
    for lo, hi in data.RANGES:
        for cp in range(lo, hi + 1):
            ch = chr(cp)
            try:
                name = unicodedata.name(ch).lower()
            except ValueError:
                continue
            if name in seen:
                continue
            # selection identical to data.render_all (decided on the 64 px render)
            small = data.render_one(font, ch, 64)
            if small is None or small[..., 3].sum() < 255 * 20:
                continue
            seen.add(name)
            imgs.append(data.render_one(font, ch, SIZE, MARGIN))
            names.append(name)
            cps.append(cp)
    return np.stack(imgs), names, cps


def sprite(rgba, size):
    """128x128 RGBA single -> its 120x120 content resized to size x size, premultiplied
    Lanczos (no dark fringes). Returns float32 [size,size,4] in [0,1], colour premultiplied."""
    arr = rgba[MARGIN:SIZE - MARGIN, MARGIN:SIZE - MARGIN].astype(np.float32) / 255.0
    arr[..., :3] *= arr[..., 3:4]
    if size == SIZE - 2 * MARGIN:
        return arr
    chans = [np.asarray(Image.fromarray(np.ascontiguousarray(arr[..., c])).resize((size, size), Image.LANCZOS))
             for c in range(4)]
    out = np.stack(chans, -1)
    out[..., 3] = out[..., 3].clip(0, 1)
    out[..., :3] = np.minimum(out[..., :3].clip(0, 1), out[..., 3:4])
    return out


def compose(first, second, relation, bg):
    """THE two-object renderer. first, second: 128x128 RGBA uint8 singles (rows of
    emoji128.npz); relation in RELATIONS; bg: RGB tuple (0..255) or a BG word.
    Returns float32 [128,128,3] in [0,1]."""
    if isinstance(bg, str):
        bg = BG[bg]
    out = np.empty((SIZE, SIZE, 3), np.float32)
    out[:] = np.asarray(bg, np.float32) / 255.0
    objs = (first, second)
    for which, x, y, s in LAYOUT[relation]:
        sp = sprite(objs[which], s)
        a = sp[..., 3:4]
        reg = out[y:y + s, x:x + s]
        out[y:y + s, x:x + s] = sp[..., :3] + reg * (1 - a)  # premultiplied "over"
    return out


def single(rgba, bg):
    """One emoji on a background: float32 [...,128,128,3] in [0,1]."""
    if isinstance(bg, str):
        bg = BG[bg]
    return data.composite(rgba, bg)


def load(path="/work/nano2-run/emoji128.npz"):
    d = np.load(path, allow_pickle=False)
    return d["rgba"], [str(n) for n in d["names"]], [int(c) for c in d["cps"]]


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="/work/nano2-run/emoji128.npz")
    args = ap.parse_args()
    rgba, names, cps = render_all()
    np.savez_compressed(args.out, rgba=rgba, names=np.array(names), cps=np.array(cps))
    print("rendered", len(names), "emoji", rgba.shape, "->", args.out)
    # preview: 8 singles + the three relations on two backgrounds
    ix = {n: i for i, n in enumerate(names)}
    a, b = rgba[ix["cat"]], rgba[ix["banana"]]
    tiles = [single(rgba[i], "white") for i in range(0, 800, 100)]
    for bgw in ("white", "blue"):
        tiles += [compose(a, b, r, bgw) for r in RELATIONS] + [compose(b, a, r, bgw) for r in RELATIONS[:1]]
    g = np.stack(tiles).reshape(4, 4, SIZE, SIZE, 3).transpose(0, 2, 1, 3, 4).reshape(4 * SIZE, 4 * SIZE, 3)
    Image.fromarray((g * 255 + 0.5).astype(np.uint8)).save(args.out.replace(".npz", "_preview.png"))
