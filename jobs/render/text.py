"""Titles drawn with Pillow into transparent PNGs that both render paths overlay.

The font is the scalable one Pillow ships (Aileron, through FreeType), so renders look the same on every
machine without ImageMagick or system fonts. Images are cropped to the ink plus the stroke, so overlaying
them costs only their own area; glyph descenders are inside the box (moviepy's TextClip clipped them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

DEFAULT_SIZE = 48
DEFAULT_COLOR = "#ffffff"
EDGE_MARGIN = 0.05  # of the frame height, for "top" and "bottom"


@dataclass(frozen=True)
class TextBox:
    x: int
    y: int
    width: int
    height: int


def parse_color(value: Any, default: tuple[int, int, int, int] = (255, 255, 255, 255)) -> tuple[int, int, int, int]:
    """'#rgb', '#rrggbb' or '#rrggbbaa' → RGBA; anything else → default."""
    if not isinstance(value, str) or not value.startswith("#"):
        return default
    digits = value[1:]
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    if len(digits) not in (6, 8):
        return default
    try:
        parts = [int(digits[i : i + 2], 16) for i in range(0, len(digits), 2)]
    except ValueError:
        return default
    if len(parts) == 3:
        parts.append(255)
    return parts[0], parts[1], parts[2], parts[3]


@lru_cache(maxsize=32)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _stroke_width(size: int) -> int:
    # A thin dark outline keeps white titles readable on bright footage.
    return max(1, round(size / 24))


def text_image(text: str, *, size: int, color: Any) -> Image.Image:
    """The text as an RGBA image cropped to its ink (with stroke), at `size` pixels."""
    size = max(4, int(size))
    font = _font(size)
    stroke = _stroke_width(size)
    probe = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    left, top, right, bottom = probe.multiline_textbbox(
        (0, 0), text or " ", font=font, stroke_width=stroke, align="center"
    )
    left, top, right, bottom = math.floor(left), math.floor(top), math.ceil(right), math.ceil(bottom)
    pad = 2
    width = max(2, right - left + 2 * pad)
    height = max(2, bottom - top + 2 * pad)
    # Even sizes keep the chroma planes of yuv420p aligned with the image in the ffmpeg overlay.
    width += width % 2
    height += height % 2
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    fill = parse_color(color)
    ImageDraw.Draw(image).multiline_text(
        (pad - left, pad - top), text or " ", font=font, fill=fill, align="center",
        stroke_width=stroke, stroke_fill=(0, 0, 0, fill[3]),
    )
    return image


def text_box(image_size: tuple[int, int], frame_size: tuple[int, int], position: Any) -> TextBox:
    """Where an image of `image_size` goes in a frame for a style position (center/top/bottom/{x, y})."""
    width, height = image_size
    frame_w, frame_h = frame_size
    margin = round(frame_h * EDGE_MARGIN)
    cx = (frame_w - width) / 2
    if isinstance(position, dict):
        try:
            fx, fy = float(position.get("x", 0.5)), float(position.get("y", 0.5))
        except (TypeError, ValueError):
            fx, fy = 0.5, 0.5
        x, y = fx * frame_w - width / 2, fy * frame_h - height / 2
    elif position == "top":
        x, y = cx, margin
    elif position == "bottom":
        x, y = cx, frame_h - height - margin
    else:
        x, y = cx, (frame_h - height) / 2
    # Keep the title inside the frame (when it fits), on even coordinates for the chroma planes.
    x = min(max(0, x), max(0, frame_w - width))
    y = min(max(0, y), max(0, frame_h - height))
    return TextBox(int(x) // 2 * 2, int(y) // 2 * 2, width, height)


def _even_floor(value: int) -> int:
    return max(2, value - value % 2)


def text_render(text: str, style: dict[str, Any] | None, *, frame_size: tuple[int, int], scale: float,
                path: Path) -> TextBox:
    """Draw a text clip for a frame of `frame_size` (style sizes are in timeline pixels × `scale`)."""
    style = style or {}
    try:
        size = float(style.get("size") or DEFAULT_SIZE)
    except (TypeError, ValueError):
        size = DEFAULT_SIZE
    image = text_image(text, size=round(size * scale), color=style.get("color") or DEFAULT_COLOR)
    # A title wider or taller than the frame keeps its middle, cut at the frame's edges.
    frame_w, frame_h = frame_size
    if image.width > frame_w or image.height > frame_h:
        crop_w, crop_h = _even_floor(min(image.width, frame_w)), _even_floor(min(image.height, frame_h))
        left, top = (image.width - crop_w) // 2, (image.height - crop_h) // 2
        image = image.crop((left, top, left + crop_w, top + crop_h))
    box = text_box(image.size, frame_size, style.get("position", "center"))
    image.save(path, format="PNG", compress_level=1)
    return TextBox(box.x, box.y, image.width, image.height)


def colour_draw(color: str, gradient: dict[str, Any] | None, size: tuple[int, int], path: Path) -> None:
    """A colour layer as an opaque PNG of `size` (the output frame): flat, or a linear gradient from `color`
    to `gradient.to` along `gradient.angle` (degrees clockwise from up, CSS-style: 180 = top to bottom)."""
    import numpy as np

    width, height = size
    start = np.array(parse_color(color, (0, 0, 0, 255))[:3], dtype=np.float32)
    if not gradient:
        Image.new("RGB", size, tuple(int(c) for c in start)).save(path, format="PNG", compress_level=1)
        return
    end = np.array(parse_color(gradient.get("to"), (0, 0, 0, 255))[:3], dtype=np.float32)
    angle = math.radians(float(gradient.get("angle", 180.0)))
    dx, dy = math.sin(angle), -math.cos(angle)
    xs = np.arange(width, dtype=np.float32)[None, :] - (width - 1) / 2
    ys = np.arange(height, dtype=np.float32)[:, None] - (height - 1) / 2
    reach = abs(dx) * (width - 1) / 2 + abs(dy) * (height - 1) / 2 or 1.0
    t = np.clip(((xs * dx + ys * dy) / reach + 1) / 2, 0, 1)[..., None]
    pixels = (start + (end - start) * t + 0.5).astype(np.uint8)
    Image.fromarray(pixels, "RGB").save(path, format="PNG", compress_level=1)
