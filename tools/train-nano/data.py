"""Emoji dataset for banana-nano.

Renders every single-codepoint emoji of Noto Color Emoji that has a
unicodedata name, at the only size the CBDT bitmap font supports (109 px,
embedded_color=True), crops to the alpha bounding box, pads to a square and
resizes to 64x64 RGBA (the emoji fills 56x56, 4 px margin).

Captions: lower-cased unicode name ("grinning face", "red apple").
Augmentation: composite on a background colour; white is the canonical
background (caption = plain name), other colours add " on a <colour> background".

    /usr/bin/python3 data.py --out /work/nano-run/emoji64.npz
"""
import argparse
import unicodedata

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"

# colour word -> RGB. "white" is the default background (no colour phrase).
BACKGROUNDS = {
    "red": (220, 40, 40),
    "orange": (245, 140, 30),
    "yellow": (250, 220, 50),
    "green": (50, 170, 70),
    "blue": (40, 90, 220),
    "purple": (130, 60, 190),
    "pink": (250, 150, 200),
    "black": (0, 0, 0),
    "gray": (128, 128, 128),
    "brown": (120, 75, 40),
}

RANGES = [
    (0x00A9, 0x00AE), (0x203C, 0x2049), (0x2122, 0x2139), (0x2194, 0x21AA),
    (0x231A, 0x23FF), (0x24C2, 0x24C2), (0x25AA, 0x25FE), (0x2600, 0x27BF),
    (0x2934, 0x2935), (0x2B05, 0x2B55), (0x3030, 0x303D), (0x3297, 0x3299),
    (0x1F000, 0x1FAFF),
]


def render_one(font, ch, size=64, margin=4):
    im = Image.new("RGBA", (160, 160), (0, 0, 0, 0))
    ImageDraw.Draw(im).text((0, 0), ch, font=font, embedded_color=True)
    a = np.asarray(im)
    ys, xs = np.nonzero(a[..., 3] > 0)
    if len(ys) == 0:
        return None
    im = im.crop((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1))
    w, h = im.size
    s = max(w, h)
    sq = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    sq.paste(im, ((s - w) // 2, (s - h) // 2))
    inner = size - 2 * margin
    # premultiplied resize avoids dark fringes
    arr = np.asarray(sq).astype(np.float32) / 255.0
    arr[..., :3] *= arr[..., 3:4]
    chans = [Image.fromarray(arr[..., c]).resize((inner, inner), Image.LANCZOS) for c in range(4)]
    arr = np.stack([np.asarray(c) for c in chans], -1).clip(0, 1)
    rgb = np.where(arr[..., 3:4] > 1e-4, arr[..., :3] / np.maximum(arr[..., 3:4], 1e-4), 0).clip(0, 1)
    out = np.zeros((size, size, 4), np.float32)
    out[margin:margin + inner, margin:margin + inner, :3] = rgb
    out[margin:margin + inner, margin:margin + inner, 3] = arr[..., 3]
    return (out * 255 + 0.5).astype(np.uint8)


def render_all(size=64):
    font = ImageFont.truetype(FONT, 109)
    imgs, names, cps = [], [], []
    seen = set()
    for lo, hi in RANGES:
        for cp in range(lo, hi + 1):
            ch = chr(cp)
            try:
                name = unicodedata.name(ch).lower()
            except ValueError:
                continue
            if name in seen:
                continue
            img = render_one(font, ch, size)
            if img is None or img[..., 3].sum() < 255 * 20:
                continue
            seen.add(name)
            imgs.append(img)
            names.append(name)
            cps.append(cp)
    return np.stack(imgs), names, cps


def composite(rgba, bg):
    """rgba uint8 [...,H,W,4], bg (r,g,b) -> float32 [...,H,W,3] in [0,1]."""
    a = rgba[..., 3:4].astype(np.float32) / 255.0
    rgb = rgba[..., :3].astype(np.float32) / 255.0
    bg = np.asarray(bg, np.float32) / 255.0
    return rgb * a + bg * (1 - a)


def caption_for(name, bg_word):
    return name if bg_word == "white" else f"{name} on a {bg_word} background"


def load(path="/work/nano-run/emoji64.npz"):
    d = np.load(path, allow_pickle=False)
    return d["rgba"], [str(n) for n in d["names"]], d["cps"]


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="/work/nano-run/emoji64.npz")
    args = ap.parse_args()
    rgba, names, cps = render_all()
    np.savez_compressed(args.out, rgba=rgba, names=np.array(names), cps=np.array(cps))
    print("rendered", len(names), "emoji ->", args.out)
    grid = composite(rgba[:256], (255, 255, 255)).reshape(16, 16, 64, 64, 3).transpose(0, 2, 1, 3, 4).reshape(1024, 1024, 3)
    Image.fromarray((grid * 255).astype(np.uint8)).save(args.out.replace(".npz", "_grid.png"))
