"""The font registry: `style.font` / `weight` / `italic` → a font file, with a fallback chain per script.

The fonts are open-licence Debian packages that `make setup` installs (Makefile `system-deps`):
fonts-noto-core (Noto Sans/Serif, Arabic, Hebrew), fonts-noto-cjk (Hangul, kana, Han), fonts-dejavu-core,
fonts-liberation. Nothing is downloaded at render time and nothing depends on fontconfig's guesses: a family
names its files here, and `font_families()` lists only those whose regular file is really present.

Pillow draws one font per call, so a line is split into runs (`font_runs`): each character goes to the
requested family when it has the glyph, else to Noto Color Emoji for emoji, else to the first font of the
fallback chain that has it (Hangul → Noto Sans CJK KR, Arabic → Noto Sans Arabic, Hebrew → Noto Sans Hebrew).
Each run is shaped by libraqm (Debian `libraqm0`); jobs.render.text orders the runs of a right-to-left line.
Characters that no font has are left out rather than drawn as empty boxes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont, features

DEFAULT_FAMILY = "noto_sans"
WEIGHTS = (400, 700)
FONT_DIRS = tuple(
    Path(p) for p in os.environ.get("CUTLINE_FONT_DIRS", "/usr/share/fonts:/usr/local/share/fonts").split(":") if p
)


@dataclass(frozen=True)
class FontFace:
    file: str  # relative to one of FONT_DIRS
    index: int = 0  # face index inside a .ttc collection


@dataclass(frozen=True)
class FontFamily:
    id: str
    name: str
    category: str  # sans, serif, mono
    scripts: tuple[str, ...]
    faces: dict[tuple[int, bool], FontFace] = field(hash=False)
    rtl: bool = False

    def face(self, weight: int, italic: bool) -> FontFace:
        """The nearest face: the asked weight and slant, else the other slant, else regular."""
        for key in ((weight, italic), (weight, False), (400, italic), (400, False)):
            if key in self.faces:
                return self.faces[key]
        return next(iter(self.faces.values()))


def _four(folder: str, stem: str) -> dict[tuple[int, bool], FontFace]:
    return {
        (400, False): FontFace(f"{folder}/{stem}-Regular.ttf"),
        (700, False): FontFace(f"{folder}/{stem}-Bold.ttf"),
        (400, True): FontFace(f"{folder}/{stem}-Italic.ttf"),
        (700, True): FontFace(f"{folder}/{stem}-BoldItalic.ttf"),
    }


def _dejavu(stem: str, italic_word: str) -> dict[tuple[int, bool], FontFace]:
    folder = "truetype/dejavu"
    return {
        (400, False): FontFace(f"{folder}/{stem}.ttf"),
        (700, False): FontFace(f"{folder}/{stem}-Bold.ttf"),
        (400, True): FontFace(f"{folder}/{stem}-{italic_word}.ttf"),
        (700, True): FontFace(f"{folder}/{stem}-Bold{italic_word}.ttf"),
    }


def _two(folder: str, stem: str, index: int = 0, ext: str = "ttf") -> dict[tuple[int, bool], FontFace]:
    return {
        (400, False): FontFace(f"{folder}/{stem}-Regular.{ext}", index),
        (700, False): FontFace(f"{folder}/{stem}-Bold.{ext}", index),
    }


LATIN = ("latin", "latin-ext", "greek", "cyrillic")
FAMILIES: dict[str, FontFamily] = {f.id: f for f in (
    FontFamily("noto_sans", "Noto Sans", "sans", LATIN, _four("truetype/noto", "NotoSans")),
    FontFamily("noto_serif", "Noto Serif", "serif", LATIN, _four("truetype/noto", "NotoSerif")),
    FontFamily("noto_sans_kr", "Noto Sans CJK KR", "sans", ("hangul", "han", "kana", "latin"),
               _two("opentype/noto", "NotoSansCJK", 1, "ttc")),
    FontFamily("noto_serif_kr", "Noto Serif CJK KR", "serif", ("hangul", "han", "kana", "latin"),
               _two("opentype/noto", "NotoSerifCJK", 1, "ttc")),
    FontFamily("noto_sans_jp", "Noto Sans CJK JP", "sans", ("kana", "han", "hangul", "latin"),
               _two("opentype/noto", "NotoSansCJK", 0, "ttc")),
    FontFamily("noto_sans_arabic", "Noto Sans Arabic", "sans", ("arabic",),
               _two("truetype/noto", "NotoSansArabic"), rtl=True),
    FontFamily("noto_naskh_arabic", "Noto Naskh Arabic", "serif", ("arabic",),
               _two("truetype/noto", "NotoNaskhArabic"), rtl=True),
    FontFamily("noto_sans_hebrew", "Noto Sans Hebrew", "sans", ("hebrew",),
               _two("truetype/noto", "NotoSansHebrew"), rtl=True),
    FontFamily("dejavu_sans", "DejaVu Sans", "sans", LATIN, _dejavu("DejaVuSans", "Oblique")),
    FontFamily("dejavu_serif", "DejaVu Serif", "serif", LATIN, _dejavu("DejaVuSerif", "Italic")),
    FontFamily("dejavu_sans_mono", "DejaVu Sans Mono", "mono", LATIN, _dejavu("DejaVuSansMono", "Oblique")),
    FontFamily("liberation_sans", "Liberation Sans", "sans", LATIN, _four("truetype/liberation", "LiberationSans")),
    FontFamily("liberation_serif", "Liberation Serif", "serif", LATIN,
               _four("truetype/liberation", "LiberationSerif")),
    FontFamily("liberation_mono", "Liberation Mono", "mono", LATIN, _four("truetype/liberation", "LiberationMono")),
)}
# Tried in order for the characters the requested family lacks.
FALLBACK_CHAIN = ("noto_sans", "noto_sans_kr", "noto_sans_arabic", "noto_sans_hebrew", "dejavu_sans")
# Colour emoji: a bitmap (CBDT) font with one strike, drawn at EMOJI_STRIKE pixels and scaled to the text size.
EMOJI = "emoji"
EMOJI_FILE = "truetype/noto/NotoColorEmoji.ttf"
EMOJI_STRIKE = 109
# Characters that belong to the emoji (or letter) before them: joiners, variation selectors, skin tones, tags.
_ATTACHED = {0x200D, 0xFE0E, 0xFE0F, 0x20E3, *range(0x1F3FB, 0x1F400), *range(0xE0020, 0xE0080)}


def _find(relative: str) -> Path | None:
    for root in FONT_DIRS:
        candidate = root / relative
        if candidate.is_file():
            return candidate
    return None


@lru_cache(maxsize=1)
def font_families() -> dict[str, FontFamily]:
    """The families whose regular face is installed on this machine."""
    return {key: fam for key, fam in FAMILIES.items() if _find(fam.face(400, False).file) is not None}


def raqm_available() -> bool:
    return bool(features.check("raqm"))


def _layout() -> int:
    return ImageFont.Layout.RAQM if raqm_available() else ImageFont.Layout.BASIC


@lru_cache(maxsize=64)
def font_load(family: str, weight: int, italic: bool, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A loaded font for drawing; Pillow's bundled font when nothing is installed (it still renders Latin)."""
    fam = font_families().get(family) or font_families().get(DEFAULT_FAMILY)
    if fam is None:
        return ImageFont.load_default(size=size)
    face = fam.face(weight, italic)
    path = _find(face.file)
    if path is None:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(str(path), size=size, index=face.index, layout_engine=_layout())


@lru_cache(maxsize=32)
def _probe_font(family: str) -> ImageFont.FreeTypeFont | None:
    fam = font_families().get(family)
    if fam is None:
        return None
    path = _find(fam.face(400, False).file)
    if path is None:
        return None
    # Basic layout: one glyph per character, so a missing one shows as the font's .notdef box.
    return ImageFont.truetype(str(path), size=24, index=fam.face(400, False).index,
                              layout_engine=ImageFont.Layout.BASIC)


@lru_cache(maxsize=32)
def _notdef(family: str) -> bytes:
    font = _probe_font(family)
    assert font is not None
    return _mask_bytes(font, "\U0010fffd")  # a private-use code point no font maps


def _mask_bytes(font: ImageFont.FreeTypeFont, char: str) -> bytes:
    mask = font.getmask(char)
    return bytes(mask.size) + bytes(mask)


@lru_cache(maxsize=65536)
def font_has_glyph(family: str, char: str) -> bool:
    """Whether `family` draws `char` with a real glyph (not .notdef). Whitespace and controls count as covered."""
    if char.isspace() or not char.isprintable() or ord(char) in (0x200D, 0xFE0F, 0x200E, 0x200F):
        return True
    font = _probe_font(family)
    if font is None:
        return False
    return _mask_bytes(font, char) != _notdef(family)


def font_for_line(line: str, family: str) -> tuple[str, str]:
    """(family to draw `line` with, the line without characters that no font has)."""
    families = font_families()
    if not families:
        return family, line
    if family not in families:
        family = DEFAULT_FAMILY if DEFAULT_FAMILY in families else next(iter(families))
    chars = set(line)
    missing = {c for c in chars if not font_has_glyph(family, c)}
    if not missing:
        return family, line
    best, best_missing = family, missing
    for candidate in FALLBACK_CHAIN:
        if candidate == family or candidate not in families:
            continue
        lacks = {c for c in chars if not font_has_glyph(candidate, c)}
        if len(lacks) < len(best_missing):
            best, best_missing = candidate, lacks
        if not lacks:
            break
    # What the chosen font lacks but another font of the chain has stays (drawn as a box); what no font
    # has at all is dropped, so an emoji does not become an empty rectangle.
    nobody = {c for c in best_missing
              if not any(font_has_glyph(f, c) for f in FALLBACK_CHAIN if f in families)}
    if nobody:
        line = "".join(c for c in line if c not in nobody)
    return best, line


@lru_cache(maxsize=1)
def emoji_font() -> ImageFont.FreeTypeFont | None:
    path = _find(EMOJI_FILE)
    if path is None:
        return None
    return ImageFont.truetype(str(path), size=EMOJI_STRIKE, layout_engine=_layout())


@lru_cache(maxsize=4096)
def emoji_has(char: str) -> bool:
    font = emoji_font()
    if font is None or char.isascii():
        return False
    _left, top, _right, bottom = font.getbbox(char)
    return bottom > top  # .notdef in this font has no height


def font_runs(line: str, family: str) -> list[tuple[str, str]]:
    """(family or EMOJI, text) runs to draw `line` with, in logical order; characters no font has are left out.

    Whitespace stays in the run before it, so a word sequence in one script is one run (shaped as a whole)."""
    families = font_families()
    if not families:
        return [(family, line)] if line else []
    if family not in families:
        family = DEFAULT_FAMILY if DEFAULT_FAMILY in families else next(iter(families))
    runs: list[list[str]] = []
    for char in line:
        if runs and (ord(char) in _ATTACHED or (char.isspace() and runs[-1][0] != EMOJI)):
            runs[-1][1] += char
            continue
        if font_has_glyph(family, char):
            chosen: str | None = family
        elif emoji_has(char):
            chosen = EMOJI
        else:
            chosen = next((f for f in FALLBACK_CHAIN if f in families and font_has_glyph(f, char)), None)
        if chosen is None:
            continue
        if runs and runs[-1][0] == chosen:
            runs[-1][1] += char
        else:
            runs.append([chosen, char])
    return [(f, t) for f, t in runs]


def font_catalog() -> list[dict[str, object]]:
    """What `GET /api/fonts` answers: the installed families, their faces and the scripts they cover."""
    items = []
    for fam in font_families().values():
        items.append({
            "id": fam.id, "name": fam.name, "category": fam.category, "scripts": list(fam.scripts),
            "weights": sorted({w for (w, _i), face in fam.faces.items() if _find(face.file)}),
            "italic": any(i and _find(face.file) for (_w, i), face in fam.faces.items()),
            "rtl": fam.rtl,
        })
    return items
