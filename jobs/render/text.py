"""Titles and captions drawn with Pillow into transparent PNGs that both render paths overlay.

This is the one place text is drawn: the ffmpeg path overlays the PNGs, the moviepy compositor blends the
same PNGs, so both paths show the same glyphs by construction. Fonts come from jobs.render.fonts (installed
Noto/DejaVu/Liberation families with a fallback chain per line; RTL shaping through libraqm). Images are
cropped to the ink plus stroke, shadow and background, and never exceed the output frame, so overlaying
them costs only their own area and memory stays bounded whatever the text.

Animations (`style.animation`) are a short series of images, one per step, each shown for a few frames:
opacity for `fade`, an offset for `slide_up`, a size for `pop`, a growing prefix for `typewriter`. Both
paths already show images over frame ranges exactly, so animated text needs no path-specific code.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from config.even import even_ceil, even_floor
from jobs.render.fonts import DEFAULT_FAMILY, EMOJI, EMOJI_STRIKE, emoji_font, font_load, font_runs, raqm_available
from jobs.render.values import finite_or

DEFAULT_SIZE = 48
DEFAULT_LINE_HEIGHT = 1.2
MAX_ANIMATION_STEPS = 12  # images per animated entrance or exit (typewriter: up to 40)
MAX_TYPEWRITER_STEPS = 40
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




def _is_rtl(line: str) -> bool:
    return any(unicodedata.bidirectional(c) in ("R", "AL") for c in line)


@dataclass
class _Run:
    text: str
    font: Any  # None: colour emoji
    advance: float
    rtl: bool = False


@dataclass
class _Line:
    text: str
    runs: list[_Run]
    width: int
    rtl: bool


@dataclass
class _Layout:
    lines: list[_Line]
    width: int  # of the text block (widest line)
    line_step: int
    ascent_pad: int
    height: int


def _emoji_picture(text: str, size: int) -> Image.Image:
    """Colour emoji at `size` pixels: drawn at the font's only strike and scaled (they are bitmaps)."""
    font = emoji_font()
    probe = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    left, top, right, bottom = probe.textbbox((0, 0), text, font=font, anchor="ls", embedded_color=True)
    image = Image.new("RGBA", (max(1, right - left), max(1, bottom - top)), (0, 0, 0, 0))
    ImageDraw.Draw(image).text((-left, -top), text, font=font, anchor="ls", embedded_color=True)
    factor = size / EMOJI_STRIKE
    scaled = image.resize((max(1, round(image.width * factor)), max(1, round(image.height * factor))),
                          Image.Resampling.LANCZOS)
    scaled.info["offset"] = (round(left * factor), round(top * factor))
    return scaled


def _direction(text: str) -> str | None:
    """"rtl" for a run with right-to-left letters when libraqm can lay it out so, else None (automatic)."""
    return "rtl" if _is_rtl(text) and raqm_available() else None


def _runs_for(line: str, family: str, weight: int, italic: bool, size: int) -> list[_Run]:
    runs = []
    pieces = font_runs(line, family)
    for fam, text in pieces:
        if fam == EMOJI:
            runs.append(_Run(text, None, emoji_font().getlength(text) * size / EMOJI_STRIKE))
            continue
        font = font_load(fam, weight, italic, size)
        # Spaces between runs are neutral: on their own they fall between the runs in either direction.
        body = text.rstrip() if len(pieces) > 1 else text
        for part in (body, text[len(body):]):
            if part:
                direction = _direction(part)
                runs.append(_Run(part, font, font.getlength(part, direction=direction), rtl=direction == "rtl"))
    return runs


def _base_rtl(text: str) -> bool:
    """The paragraph direction of a line: that of its first strong character (Unicode bidi rules P2, P3)."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


def _measure_runs(draw: ImageDraw.ImageDraw, runs: list[_Run], stroke: int) -> int:
    if len(runs) == 1 and runs[0].font is not None:
        return _measure(draw, runs[0].text, runs[0].font, stroke)
    return math.ceil(sum(run.advance for run in runs)) + 2 * stroke


def _measure(draw: ImageDraw.ImageDraw, text: str, font: Any, stroke: int) -> int:
    if not text:
        return 0
    left, _top, right, _bottom = draw.textbbox((0, 0), text, font=font, stroke_width=stroke, anchor="ls")
    return math.ceil(right - min(0, left))


def _wrap(paragraph: str, bits: dict[str, Any], max_width: int | None,
          draw: ImageDraw.ImageDraw) -> list[str]:
    """The paragraph broken at spaces (or anywhere, for text without spaces) to fit `max_width`."""
    if not max_width:
        return [paragraph]
    words = paragraph.split(" ") if " " in paragraph else list(paragraph)
    joiner = " " if " " in paragraph else ""
    lines: list[str] = []
    current = ""

    def width(text: str) -> int:
        # Advances, not ink boxes: a stroked bounding box costs a FreeType stroker run per candidate.
        runs = _runs_for(text, bits["family"], bits["weight"], bits["italic"], bits["size"])
        return math.ceil(sum(run.advance for run in runs)) + 2 * bits["stroke"]

    for word in words:
        candidate = f"{current}{joiner}{word}" if current else word
        if current and width(candidate) > max_width:
            lines.append(current)
            current = word
        else:
            current = candidate
    lines.append(current)
    return lines


def _style_bits(style: dict[str, Any], scale: float) -> dict[str, Any]:
    size = max(4, round(finite_or(style.get("size"), DEFAULT_SIZE) * scale))
    weight = int(finite_or(style.get("weight"), 400))
    stroke_spec = style.get("stroke")
    if isinstance(stroke_spec, dict):
        stroke = max(0, round(finite_or(stroke_spec.get("width"), 0) * scale))
        stroke_color = parse_color(stroke_spec.get("color"), (0, 0, 0, 255))
    else:
        # The default: a thin dark outline keeps white titles readable on bright footage.
        stroke = max(1, round(size / 24))
        stroke_color = (0, 0, 0, 255)
    max_width = style.get("max_width")
    return {
        "size": size,
        "family": str(style.get("font") or DEFAULT_FAMILY),
        "weight": 700 if weight >= 600 else 400,
        "italic": bool(style.get("italic")),
        "align": style.get("align") if style.get("align") in ("left", "center", "right") else "center",
        "line_height": max(0.5, finite_or(style.get("line_height"), DEFAULT_LINE_HEIGHT)),
        "stroke": stroke,
        "stroke_color": stroke_color,
        "max_width": round(finite_or(max_width, 0) * scale) if max_width else None,
        "color": parse_color(style.get("color") or DEFAULT_COLOR),
    }


def _layout(text: str, bits: dict[str, Any], frame_w: int) -> _Layout:
    draw = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    size, stroke = bits["size"], bits["stroke"]
    max_width = min(bits["max_width"] or frame_w, frame_w)
    lines = []
    for paragraph in (text or " ").split("\n"):
        for line in _wrap(paragraph, bits, max_width if bits["max_width"] else None, draw):
            runs = _runs_for(line, bits["family"], bits["weight"], bits["italic"], size)
            kept = "".join(run.text for run in runs)
            lines.append(_Line(kept, runs, _measure_runs(draw, runs, stroke) if runs else 0, _base_rtl(kept)))
    line_step = max(1, round(size * bits["line_height"]))
    # Room above the first baseline and below the last for ascenders, descenders, marks and the stroke.
    ascent_pad = round(size * 1.1) + stroke
    height = ascent_pad + line_step * (len(lines) - 1) + round(size * 0.45) + stroke
    return _Layout(lines, max([1, *(line.width for line in lines)]), line_step, ascent_pad, height)


def _draw_text(layout: _Layout, bits: dict[str, Any], *, fill: tuple[int, int, int, int],
               stroke_fill: tuple[int, int, int, int], visible: int | None, margin: int,
               silhouette: bool = False) -> Image.Image:
    """The text block on a transparent canvas of the layout's size plus `margin` on every side.

    `silhouette`: colour emoji are drawn in `fill` too (for shadows)."""
    width, height = layout.width + 2 * margin, layout.height + 2 * margin
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    remaining = visible
    for index, line in enumerate(layout.lines):
        if bits["align"] == "left":
            x = margin
        elif bits["align"] == "right":
            x = margin + layout.width - line.width
        else:
            x = margin + (layout.width - line.width) / 2
        baseline = margin + layout.ascent_pad + index * layout.line_step
        if len(line.runs) == 1 and line.runs[0].font is not None:
            # One run: libraqm lays out the whole line; a partly typed right-to-left line grows from its right end.
            run = line.runs[0]
            text = run.text if remaining is None else run.text[: max(0, remaining)]
            if remaining is not None:
                remaining -= len(run.text)
            if text:
                anchor, at = ("rs", x + line.width) if run.rtl else ("ls", x)
                draw.text((at, baseline), text, font=run.font, fill=fill, anchor=anchor, direction=_direction(text),
                          stroke_width=bits["stroke"], stroke_fill=stroke_fill)
            continue
        # Several runs: typed in logical order, placed in visual order (a right-to-left line reverses them).
        shown = []
        for run in line.runs:
            shown.append(run.text if remaining is None else run.text[: max(0, remaining)])
            if remaining is not None:
                remaining -= len(run.text)
        order = list(zip(line.runs, shown, strict=True))
        if line.rtl:
            order.reverse()
        cursor = x + bits["stroke"]
        for run, text in order:
            if text and run.font is not None:
                anchor, at = ("rs", cursor + run.advance) if run.rtl else ("ls", cursor)
                draw.text((at, baseline), text, font=run.font, fill=fill, anchor=anchor, direction=_direction(text),
                          stroke_width=bits["stroke"], stroke_fill=stroke_fill)
            elif text:
                picture = _emoji_picture(text, bits["size"])
                dx, dy = picture.info["offset"]
                if silhouette:
                    solid = Image.new("RGBA", picture.size, (*fill[:3], 0))
                    solid.putalpha(picture.getchannel("A").point(lambda a: a * fill[3] // 255))
                    picture = solid
                image.alpha_composite(picture, (max(0, round(cursor + dx)), max(0, round(baseline + dy))))
            cursor += run.advance
    return image


def _with_opacity(image: Image.Image, opacity: float) -> Image.Image:
    if opacity >= 1.0:
        return image
    alpha = image.getchannel("A").point(lambda a: round(a * max(0.0, opacity)))
    image = image.copy()
    image.putalpha(alpha)
    return image


def text_picture(text: str, style: dict[str, Any] | None, *, frame_size: tuple[int, int], scale: float,
                 visible: int | None = None, size_factor: float = 1.0) -> Image.Image:
    """The styled text as an RGBA image, at most the frame's size (a larger one keeps its middle)."""
    style = style or {}
    frame_w, frame_h = frame_size
    bits = _style_bits(style, scale)
    if size_factor != 1.0:
        bits["size"] = max(4, round(bits["size"] * size_factor))
        bits["stroke"] = round(bits["stroke"] * size_factor)
    layout = _layout(text, bits, frame_w)
    background = style.get("background") if isinstance(style.get("background"), dict) else None
    shadow = style.get("shadow") if isinstance(style.get("shadow"), dict) else None
    padding = round(max(0.0, finite_or((background or {}).get("padding"), 0)) * scale * size_factor)
    shadow_x = round(finite_or((shadow or {}).get("x"), 0) * scale)
    shadow_y = round(finite_or((shadow or {}).get("y"), 0) * scale)
    blur = max(0.0, finite_or((shadow or {}).get("blur"), 0) * scale)
    margin = padding + (abs(shadow_x) + abs(shadow_y) + math.ceil(blur * 2) if shadow else 0) + 2

    def compose(shown: int | None) -> Image.Image:
        text_layer = _draw_text(layout, bits, fill=bits["color"], stroke_fill=bits["stroke_color"], visible=shown,
                                margin=margin)
        canvas = Image.new("RGBA", text_layer.size, (0, 0, 0, 0))
        if background:
            color = parse_color(background.get("color"), (0, 0, 0, 255))
            opacity = min(1.0, max(0.0, finite_or(background.get("opacity"), 1.0)))
            ink = text_layer.getbbox()
            if ink is not None:
                left, top, right, bottom = ink
                box = (left - padding, top - padding, right + padding - 1, bottom + padding - 1)
                radius = round(max(0.0, finite_or(background.get("radius"), 0)) * scale * size_factor)
                ImageDraw.Draw(canvas).rounded_rectangle(box, radius=radius,
                                                         fill=(*color[:3], round(color[3] * opacity)))
        if shadow:
            color = parse_color(shadow.get("color"), (0, 0, 0, 160))
            silhouette = _draw_text(layout, bits, fill=color, stroke_fill=color, visible=shown, margin=margin,
                                    silhouette=True)
            silhouette = ImageChops.offset(silhouette, shadow_x, shadow_y)
            if blur > 0:
                silhouette = silhouette.filter(ImageFilter.GaussianBlur(blur))
            canvas = Image.alpha_composite(canvas, silhouette)
        return Image.alpha_composite(canvas, text_layer)

    image = compose(None)
    # A partly typed text is cut like the whole one, so every step lines up with the finished title.
    ink = image.getbbox() or (0, 0, 2, 2)
    if visible is not None:
        image = compose(visible)
    image = image.crop(ink)
    # Even sizes keep the chroma planes of yuv420p aligned with the image in the ffmpeg overlay.
    width, height = even_ceil(image.width), even_ceil(image.height)
    if (width, height) != image.size:
        padded = Image.new("RGBA", (width, height), (0, 0, 0, 0))
        padded.paste(image, (0, 0))
        image = padded
    if image.width > frame_w or image.height > frame_h:
        crop_w, crop_h = even_floor(min(image.width, frame_w)), even_floor(min(image.height, frame_h))
        left, top = (image.width - crop_w) // 2, (image.height - crop_h) // 2
        image = image.crop((left, top, left + crop_w, top + crop_h))
    return image


def text_image(text: str, *, size: int, color: Any) -> Image.Image:
    """The text in the default family at `size` pixels, white-on-outline as titles were in schema 1."""
    return text_picture(text, {"size": size, "color": color}, frame_size=(1 << 14, 1 << 14), scale=1.0)


def text_render(text: str, style: dict[str, Any] | None, *, frame_size: tuple[int, int], scale: float,
                path: Path) -> TextBox:
    """Draw a text clip for a frame of `frame_size` (style sizes are in timeline pixels × `scale`)."""
    style = style or {}
    image = text_picture(text, style, frame_size=frame_size, scale=scale)
    box = text_box(image.size, frame_size, style.get("position", "center"))
    image.save(path, format="PNG", compress_level=1)
    return TextBox(box.x, box.y, image.width, image.height)


@dataclass(frozen=True)
class TextStep:
    """One image of a (possibly animated) text clip, shown over frames [start, end) relative to the clip."""

    path: Path
    box: TextBox
    start: int
    end: int


def _steps(frames: int, limit: int) -> list[tuple[int, int]]:
    """Split `frames` frames into at most `limit` consecutive runs: [(first, end), ...]."""
    count = max(1, min(limit, frames))
    edges = [round(i * frames / count) for i in range(count + 1)]
    return [(edges[i], edges[i + 1]) for i in range(count) if edges[i + 1] > edges[i]]


def text_animation(style: dict[str, Any] | None) -> tuple[str, str, float]:
    spec = (style or {}).get("animation")
    if not isinstance(spec, dict):
        return "none", "none", 0.0
    return str(spec.get("in") or "none"), str(spec.get("out") or "none"), max(0.0, finite_or(spec.get("duration"), 0.5))


def text_steps(text: str, style: dict[str, Any] | None, *, frame_size: tuple[int, int], scale: float, fps: float,
               frames: int, directory: Path, stem: str, clamp: bool = True) -> list[TextStep]:
    """The images of one text clip lasting `frames` frames: one when still, a series when animated.

    `clamp`: keep sliding and popping images inside the frame (titles placed by their style). A title that a
    transform moves afterwards (text_sequence) is not clamped: where it ends up is not known here."""
    style = style or {}
    anim_in, anim_out, duration = text_animation(style)
    ramp = min(frames // 2 if anim_in != "none" and anim_out != "none" else frames, max(1, round(duration * fps)))
    final = text_picture(text, style, frame_size=frame_size, scale=scale)
    final_box = text_box(final.size, frame_size, style.get("position", "center"))
    full_len = len(text)
    steps: list[TextStep] = []
    cache: dict[tuple, Path] = {}

    def emit(start: int, end: int, key: tuple, make) -> None:
        if key not in cache:
            image, box = make()
            path = directory / f"{stem}-{len(cache)}.png"
            image.save(path, format="PNG", compress_level=1)
            cache[key] = (path, box)
        path, box = cache[key]
        if steps and steps[-1].path == path and steps[-1].end == start:
            steps[-1] = TextStep(path, box, steps[-1].start, end)
        else:
            steps.append(TextStep(path, box, start, end))

    def state(kind: str, progress: float) -> tuple[tuple, Any]:
        """The image for `kind` at `progress` (0 hidden → 1 fully shown)."""
        progress = min(1.0, max(0.0, progress))
        eased = 1 - (1 - progress) ** 2
        if kind == "fade":
            level = round(progress, 3)
            return ("fade", level), lambda: (_with_opacity(final, level), final_box)
        if kind == "slide_up":
            shift = round((1 - eased) * frame_size[1] * 0.08)
            level = round(progress, 3)

            def make_slide():
                y = min(final_box.y + shift, max(0, frame_size[1] - final.height)) if clamp else final_box.y + shift
                box = TextBox(final_box.x, y // 2 * 2, final_box.width, final_box.height)
                return _with_opacity(final, level), box
            return ("slide", shift, level), make_slide
        if kind == "pop":
            factor = round(0.5 + 0.5 * eased, 3) if progress < 1 else 1.0

            def make_pop():
                image = text_picture(text, style, frame_size=frame_size, scale=scale, size_factor=factor)
                cx, cy = final_box.x + final.width / 2, final_box.y + final.height / 2
                x, y = round(cx - image.width / 2), round(cy - image.height / 2)
                if clamp:
                    x = min(max(0, x), max(0, frame_size[0] - image.width))
                    y = min(max(0, y), max(0, frame_size[1] - image.height))
                x, y = x // 2 * 2, y // 2 * 2
                return image, TextBox(x, y, image.width, image.height)
            return ("pop", factor), make_pop
        if kind == "typewriter":
            count = round(full_len * progress)

            def make_typed():
                image = text_picture(text, style, frame_size=frame_size, scale=scale, visible=count)
                return image, final_box
            return ("type", count), make_typed
        return ("still",), lambda: (final, final_box)

    hold_start, hold_end = 0, frames
    if anim_in != "none" and ramp > 0:
        limit = MAX_TYPEWRITER_STEPS if anim_in == "typewriter" else MAX_ANIMATION_STEPS
        runs = _steps(ramp, limit)
        for i, (a, b) in enumerate(runs):
            key, make = state(anim_in, (i + 1) / (len(runs) + 1) if anim_in != "typewriter" else (i + 1) / len(runs))
            if key == ("type", 0):
                continue
            emit(a, b, key, make)
        hold_start = ramp
    if anim_out != "none" and ramp > 0:
        hold_end = max(hold_start, frames - ramp)
    if hold_end > hold_start:
        emit(hold_start, hold_end, ("still",), lambda: (final, final_box))
    if anim_out != "none" and ramp > 0 and hold_end < frames:
        limit = MAX_TYPEWRITER_STEPS if anim_out == "typewriter" else MAX_ANIMATION_STEPS
        runs = _steps(frames - hold_end, limit)
        for i, (a, b) in enumerate(runs):
            key, make = state(anim_out, 1 - (i + 1) / (len(runs) + 1))
            if key == ("type", 0):
                continue
            emit(hold_end + a, hold_end + b, key, make)
    return steps


@dataclass(frozen=True)
class TextSequence:
    """An animated title as one picture that changes over time, so that a transform, keyframes and transitions
    move it as they move a still title: every image has the same size and the finished title's centre."""

    box: TextBox  # where the images go before any transform: centred on the finished title
    steps: list[list]  # [[PNG path, first frame, end frame], ...] relative to the clip, covering [0, frames)
    path: Path  # the file ffmpeg reads: the series as a concat-demuxer playlist (the image itself when only one)


def _fit_parity(needed: int, twice_centre: int) -> int:
    """An even size ≥ `needed` whose left edge, centred on twice_centre / 2, lands on an even pixel."""
    size = needed + needed % 2
    return size + 2 if (twice_centre - size) % 4 else size


def text_sequence(text: str, style: dict[str, Any] | None, *, frame_size: tuple[int, int], scale: float, fps: float,
                  frames: int, directory: Path, stem: str) -> TextSequence:
    """The images of an animated title (text_steps) on one canvas each, centred where the finished title's
    centre is: a transform's x/y, scale and rotation then act on the finished title exactly as on a still
    one, and the animation plays inside. Frames no image covers (typewriter's first) are transparent."""
    style = style or {}
    steps = text_steps(text, style, frame_size=frame_size, scale=scale, fps=fps, frames=frames, directory=directory,
                       stem=stem, clamp=False)
    final = text_picture(text, style, frame_size=frame_size, scale=scale)
    final_box = text_box(final.size, frame_size, style.get("position", "center"))
    cx2, cy2 = 2 * final_box.x + final_box.width, 2 * final_box.y + final_box.height  # twice the centre
    width = _fit_parity(max([final_box.width, *(max(cx2 - 2 * s.box.x, 2 * (s.box.x + s.box.width) - cx2)
                                                   for s in steps)]), cx2)
    height = _fit_parity(max([final_box.height, *(max(cy2 - 2 * s.box.y, 2 * (s.box.y + s.box.height) - cy2)
                                                     for s in steps)]), cy2)
    box = TextBox((cx2 - width) // 2, (cy2 - height) // 2, width, height)
    drawn: dict[Path, Path] = {}
    series: list[list] = []

    def canvas_for(step: TextStep | None) -> Path:
        key = step.path if step is not None else directory / f"{stem}-blank"
        if key not in drawn:
            canvas = Image.new("RGBA", (width, height), (0, 0, 0, 0))
            if step is not None:
                with Image.open(step.path) as image:
                    canvas.paste(image.convert("RGBA"), (step.box.x - box.x, step.box.y - box.y))
            path = directory / f"{stem}-seq-{len(drawn)}.png"
            canvas.save(path, format="PNG", compress_level=1)
            drawn[key] = path
        return drawn[key]

    cursor = 0
    for step in steps:
        if step.start > cursor:
            series.append([str(canvas_for(None)), cursor, step.start])
        series.append([str(canvas_for(step)), step.start, step.end])
        cursor = step.end
    if cursor < frames:
        series.append([str(canvas_for(None)), cursor, frames])
    for step in steps:
        step.path.unlink(missing_ok=True)  # redrawn on their canvases
    # Times in whole microseconds (the demuxer's unit) from frame numbers, so the runs never drift.
    lines = ["ffconcat version 1.0"]
    for path, first, end in series:
        lines += [f"file '{Path(path).name}'",
                  f"duration {(round(end * 1e6 / fps) - round(first * 1e6 / fps)) / 1e6:.6f}"]
    # The last image once more, at the end: without a frame after it, `fps` may drop the last run at EOF.
    lines.append(f"file '{Path(series[-1][0]).name}'")
    if len(series) == 1:
        return TextSequence(box, series, Path(series[0][0]))
    playlist = directory / f"{stem}.ffconcat"
    playlist.write_text("\n".join(lines) + "\n")
    return TextSequence(box, series, playlist)


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
    Image.fromarray(pixels).save(path, format="PNG", compress_level=1)
