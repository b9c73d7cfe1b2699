"""Glyphs: an Omniglot-like data set of characters rendered offline from the fonts that ship with matplotlib.

A class is one Unicode character that at least three of matplotlib's DejaVu and
STIX fonts draw (the Computer Modern fonts add their Latin letters and digits).
Its examples are renderings in those fonts (regular, bold, oblique, serif, mono,
...), each moved by a small random rotation, zoom and shift, into 28×28 images:
different "hands" of the same character, as in Omniglot. Accented letters,
ligatures and other characters that Unicode composes from others are left out,
so that classes differ by more than a dot.

The scripts are split in two (see SCRIPTS): `split="train"` holds 12 scripts
(Latin, Greek, Cyrillic, Arabic, Canadian syllabics and symbol families),
`split="test"` 9 others (Armenian, Hebrew, Lao, Georgian, Braille, ...) that a
model pretrained on "train" has never seen: the set for transfer and few-shot
learning. Rendering is deterministic for a given seed and matplotlib's fonts; the
result is cached under d2lite.data.data_dir()/glyphs: the first load renders
(measured on a busy 2-core machine: 6 s for "test", 16 s for "train"), later ones
read the file in about a second.
"""
import os
import tempfile
import unicodedata
from pathlib import Path
from typing import NamedTuple

import numpy as np

from d2lite.data.downloads import data_dir

SIZE = 28          # image side, pixels
EM = 26            # a font's em square, in pixels of the final image
OVERSAMPLE = 2     # glyphs are drawn at twice the size and shrunk with antialiasing
CM_FONTS = ("cmb10.ttf", "cmr10.ttf", "cmss10.ttf", "cmti10.ttf", "cmtt10.ttf")
CM_CHARS = set(range(0x30, 0x3A)) | set(range(0x41, 0x5B)) | set(range(0x61, 0x7B))  # TeX encodings agree only here
VERSION = 1        # bump when rendering changes, so old caches are not reused

# script: (split, Unicode ranges)
SCRIPTS = {
    "Latin": ("train", [(0x0041, 0x024F), (0x0250, 0x02AF)]),
    "Greek": ("train", [(0x0370, 0x03FF)]),
    "Cyrillic": ("train", [(0x0400, 0x052F)]),
    "Arabic": ("train", [(0x0600, 0x06FF)]),
    "Canadian syllabics": ("train", [(0x1400, 0x167F)]),
    "Mathematical operators": ("train", [(0x2200, 0x22FF), (0x2A00, 0x2AFF), (0x27C0, 0x27EF), (0x2980, 0x29FF)]),
    "Arrows": ("train", [(0x2190, 0x21FF), (0x27F0, 0x27FF), (0x2900, 0x297F), (0x2B00, 0x2BFF)]),
    "Technical symbols": ("train", [(0x2300, 0x23FF)]),
    "Box drawing": ("train", [(0x2500, 0x259F)]),
    "Geometric shapes": ("train", [(0x25A0, 0x25FF)]),
    "Miscellaneous symbols": ("train", [(0x2600, 0x26FF)]),
    "Dingbats": ("train", [(0x2700, 0x27BF)]),
    "Armenian": ("test", [(0x0530, 0x058F)]),
    "Hebrew": ("test", [(0x0590, 0x05FF)]),
    "Lao": ("test", [(0x0E80, 0x0EFF)]),
    "Georgian": ("test", [(0x10A0, 0x10FF), (0x2D00, 0x2D2F)]),
    "Letterlike symbols": ("test", [(0x2100, 0x214F)]),
    "Braille": ("test", [(0x2801, 0x28FF)]),
    "Tai Xuan Jing": ("test", [(0x1D300, 0x1D35F)]),
    "Old Italic": ("test", [(0x10300, 0x1032F)]),
    "Lisu": ("test", [(0xA4D0, 0xA4FF)]),
}


class Glyphs(NamedTuple):
    images: np.ndarray     # (N, 1, 28, 28) float32 in [0, 1], ink bright on black
    labels: np.ndarray     # (N,) int64 class index into `chars`
    chars: list            # the character of each class
    scripts: list          # the script of each class
    fonts: np.ndarray      # (N,) the font file each image was drawn from

    def classes_of(self, script):
        """The class indices of one script."""
        return [i for i, s in enumerate(self.scripts) if s == script]


def font_folder():
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def _fonts():
    """The font files used: DejaVu and STIX text fonts (size variants and placeholders excluded), and CM."""
    names = sorted(p.name for p in font_folder().glob("*.ttf"))
    return [n for n in names if n.startswith(("DejaVu", "STIXGeneral")) and "Display" not in n] + \
        [n for n in CM_FONTS if n in names]


def _coverage():
    """{code point: [font files that draw it]} over the chosen fonts."""
    from matplotlib.ft2font import FT2Font

    cover = {}
    for name in _fonts():
        allowed = CM_CHARS if name in CM_FONTS else None
        for cp in FT2Font(str(font_folder() / name)).get_charmap():
            if allowed is None or cp in allowed:
                cover.setdefault(cp, []).append(name)
    return cover


def catalogue(split, min_fonts=3):
    """[(character, script, [fonts])] of a split, in code-point order within each script."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    cover = _coverage()
    found = []
    for script, (part, ranges) in SCRIPTS.items():
        if part != split:
            continue
        for lo, hi in ranges:
            for cp in range(lo, hi + 1):
                ch = chr(cp)
                fonts = cover.get(cp, [])
                if len(fonts) >= min_fonts and unicodedata.category(ch)[0] in "LNS" \
                        and not unicodedata.decomposition(ch):
                    found.append((ch, script, fonts))
    return found


def _render(font, ch):
    """One glyph as a SIZE×SIZE float array in [0, 1], ink centred, scaled to the em box (None if blank)."""
    import torch
    import torch.nn.functional as F

    font.set_text(ch)
    font.draw_glyphs_to_bitmap(antialiased=True)
    ink = np.asarray(font.get_image(), dtype=np.float32) / 255.0
    rows, cols = np.nonzero(ink > 0.05)
    if len(rows) == 0:
        return None
    ink = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    scale = min(1.0 / OVERSAMPLE, EM / max(ink.shape))  # shrink glyphs wider than the em box to fit
    h, w = (max(1, round(n * scale)) for n in ink.shape)
    small = F.interpolate(torch.from_numpy(ink)[None, None], size=(h, w), mode="bilinear",
                          antialias=True, align_corners=False)[0, 0].numpy()
    out = np.zeros((SIZE, SIZE), dtype=np.float32)
    top, left = (SIZE - h) // 2, (SIZE - w) // 2
    out[top:top + h, left:left + w] = small
    return out


def render(split, examples=20, seed=0, degrees=10.0, scale=(0.85, 1.1), shift=0.08):
    """Render a split afresh (no cache): `examples` images per class, fonts taken in turn (in a
    seeded order per class), each moved by a random affine (see d2lite.torch.augment.random_affine)."""
    import torch
    from matplotlib.ft2font import FT2Font

    from d2lite.torch.augment import random_affine

    rng = np.random.default_rng(seed)
    opened = {}
    masters, labels, fonts, chars, scripts = [], [], [], [], []
    for ch, script, font_names in catalogue(split):
        drawn = []
        for name in font_names:
            if name not in opened:
                opened[name] = FT2Font(str(font_folder() / name))
                opened[name].set_size(EM * OVERSAMPLE, 72)  # 72 dpi: one point is one pixel
            glyph = _render(opened[name], ch)
            if glyph is not None:
                drawn.append((name, glyph))
        if len(drawn) < 3:
            continue
        order = rng.permutation(len(drawn))
        label = len(chars)
        chars.append(ch)
        scripts.append(script)
        for k in range(examples):
            name, glyph = drawn[order[k % len(drawn)]]
            masters.append(glyph)
            labels.append(label)
            fonts.append(name)
    generator = torch.Generator().manual_seed(seed)
    images = random_affine(torch.from_numpy(np.stack(masters))[:, None], degrees, scale, shift, generator)
    images = images.clamp(0, 1).numpy()
    return Glyphs(images, np.array(labels, dtype=np.int64), chars, scripts, np.array(fonts))


def load_glyphs(split="train", examples=20, seed=0):
    """The glyph data set's `split` ("train" or "test" scripts), from the cache or rendered and cached.

    Returns Glyphs(images, labels, chars, scripts, fonts); images are (N, 1, 28, 28)
    float32 in [0, 1], `examples` per class, grouped by class. The cache is stored as
    8-bit images (the rendering's own precision is far coarser than the 1/255 step).
    """
    path = data_dir() / "glyphs" / f"glyphs-v{VERSION}-{split}-{examples}-{seed}.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as f:
            return Glyphs(f["images"].astype(np.float32) / 255.0, f["labels"], list(f["chars"]),
                          list(f["scripts"]), f["fonts"])
    data = render(split, examples, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
    os.close(fd)
    try:
        np.savez_compressed(tmp, images=np.round(data.images * 255).astype(np.uint8), labels=data.labels,
                            chars=np.array(data.chars), scripts=np.array(data.scripts), fonts=data.fonts)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return data._replace(images=np.round(data.images * 255).astype(np.uint8).astype(np.float32) / 255.0)
