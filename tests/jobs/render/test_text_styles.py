"""Styled text: fonts for every script, drawn the same on both render paths, never as tofu."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from PIL import Image, ImageFont

from jobs.render import render_timeline
from jobs.render.fonts import font_catalog, font_for_line, font_has_glyph, raqm_available
from jobs.render.quality import frames_rgb
from jobs.render.text import text_box, text_picture, text_steps
from tests.jobs.render.conftest import timeline

PATHS = ["ffmpeg", "moviepy"]
FRAME = (320, 180)
SAMPLES = {
    "hangul": ("안녕하세요", "noto_sans_kr"),
    "arabic": ("مرحبا بالعالم", "noto_sans_arabic"),
    "accented": ("Héllo ñ – € ç", "noto_sans"),
}


def title_track(text: str, style: dict, duration: float = 0.5) -> dict:
    return {"id": "t1", "kind": "text", "clips": [{"id": "x1", "text": text, "start": 0.0, "duration": duration,
                                                   "style": style}]}


def expected_frame(text: str, style: dict) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """What the frame should show: the Pillow-drawn title composited on the black background."""
    picture = text_picture(text, style, frame_size=FRAME, scale=1.0)
    box = text_box(picture.size, FRAME, style.get("position", "center"))
    canvas = Image.new("RGBA", FRAME, (0, 0, 0, 255))
    canvas.alpha_composite(picture, (box.x, box.y))
    return np.array(canvas.convert("RGB")), (box.x, box.y, picture.width, picture.height)


def test_the_installed_families_cover_latin_hangul_arabic_and_hebrew():
    catalog = {item["id"]: item for item in font_catalog()}
    assert len(catalog) >= 8
    scripts = {script for item in catalog.values() for script in item["scripts"]}
    assert {"latin", "hangul", "arabic", "hebrew"} <= scripts
    assert raqm_available(), "libraqm is needed to shape Arabic and Hebrew (Debian libraqm0)"


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_script_goes_to_a_font_that_has_every_glyph(name):
    text, family = SAMPLES[name]
    chosen, kept = font_for_line(text, "noto_sans")
    assert (chosen, kept) == (family, text)
    assert all(font_has_glyph(chosen, ch) for ch in text)


def test_arabic_is_shaped_into_joined_letters():
    text = "مرحبا"
    shaped = text_picture(text, {"size": 48}, frame_size=FRAME, scale=1.0)
    font = ImageFont.truetype("/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf", 48,
                              layout_engine=ImageFont.Layout.BASIC)
    # Unshaped, the isolated forms sit side by side in logical order; shaped, they join and read right to left.
    loose = sum(font.getbbox(ch)[2] for ch in text)
    assert shaped.width < loose


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_titles_in_every_script_render_as_pillow_draws_them(out_dir, path, name):
    text, _family = SAMPLES[name]
    style = {"size": 32, "color": "#ffffff", "position": "center"}
    result = render_timeline(timeline(title_track(text, style)), {}, "project", out_dir / f"{name}.mp4", path=path)
    (frame,) = frames_rgb(result.path, [5], FRAME)
    expected, (x, y, w, h) = expected_frame(text, style)
    region = frame[y : y + h, x : x + w].astype(int)
    wanted = expected[y : y + h, x : x + w].astype(int)
    assert np.abs(region - wanted).mean() < 12
    # Not tofu: the same string in Pillow's bundled font (no Hangul/Arabic) looks clearly different.
    assert (wanted.sum(axis=2) > 300).mean() > 0.05


@pytest.mark.parametrize("path", PATHS)
def test_a_styled_box_with_background_is_drawn_on_both_paths(out_dir, path):
    style = {"size": 24, "color": "#ffff00", "font": "liberation_serif", "weight": 700, "italic": True,
             "align": "left", "max_width": 200, "line_height": 1.3,
             "background": {"color": "#2040c0", "opacity": 1.0, "padding": 8, "radius": 6},
             "stroke": {"color": "#000000", "width": 1}, "shadow": {"color": "#000000", "x": 2, "y": 2, "blur": 1}}
    text = "A longer caption that wraps onto more lines"
    result = render_timeline(timeline(title_track(text, style)), {}, "project", out_dir / "box.mp4", path=path)
    (frame,) = frames_rgb(result.path, [5], FRAME)
    expected, (x, y, w, h) = expected_frame(text, style)
    assert h > 24 * 2  # wrapped onto at least two lines
    assert np.abs(frame[y : y + h, x : x + w].astype(int) - expected[y : y + h, x : x + w].astype(int)).mean() < 12


def test_text_larger_than_the_frame_is_cut_to_the_frame():
    picture = text_picture("WIDE " * 40, {"size": 200}, frame_size=FRAME, scale=1.0)
    assert picture.width <= FRAME[0] and picture.height <= FRAME[1]


@pytest.mark.parametrize("kind", ["fade", "slide_up", "pop", "typewriter"])
def test_an_animation_is_a_series_of_images_that_ends_on_the_title(tmp_path, kind):
    style = {"size": 30, "animation": {"in": kind, "out": kind, "duration": 0.5}}
    steps = text_steps("Hello there", style, frame_size=FRAME, scale=1.0, fps=30, frames=60, directory=tmp_path,
                       stem="t")
    assert steps[0].start == 0 and steps[-1].end == 60
    assert all(a.end == b.start for a, b in itertools.pairwise(steps))
    assert 3 <= len(steps) <= 2 * 40 + 1
    still = text_picture("Hello there", style, frame_size=FRAME, scale=1.0)
    middle = next(s for s in steps if s.start <= 30 < s.end)
    assert np.array_equal(np.array(Image.open(middle.path)), np.array(still))
    first = np.array(Image.open(steps[0].path))
    assert not np.array_equal(first, np.array(still))  # the entrance starts from something else


@pytest.mark.parametrize("path", PATHS)
def test_a_fading_title_is_dimmer_at_its_start_on_both_paths(out_dir, path):
    style = {"size": 40, "color": "#ffffff", "animation": {"in": "fade", "out": "none", "duration": 0.3}}
    result = render_timeline(timeline(title_track("FADE", style, duration=1.0)), {}, "project",
                             out_dir / "fade.mp4", path=path)
    early, late = frames_rgb(result.path, [1, 20], FRAME)
    assert early.astype(int).sum() < 0.5 * late.astype(int).sum()


def test_a_line_mixing_scripts_draws_each_run_in_a_font_that_has_it():
    from jobs.render.fonts import EMOJI, emoji_has, font_runs

    runs = font_runs("Hi 안녕 שלום 😀!", "liberation_serif")
    assert [family for family, _text in runs] == ["liberation_serif", "noto_sans_kr", "noto_sans_hebrew", EMOJI,
                                                  "liberation_serif"]
    for family, text in runs:
        glyphs = [ch for ch in text if not ch.isspace()]
        assert all(emoji_has(ch) if family == EMOJI else font_has_glyph(family, ch) for ch in glyphs)


def test_emoji_are_drawn_in_colour():
    picture = np.array(text_picture("ok 😀", {"size": 48, "color": "#ffffff"}, frame_size=FRAME, scale=1.0))
    rgb = picture[:, :, :3].astype(int)
    opaque = picture[:, :, 3] > 200
    yellow = opaque & (rgb[:, :, 0] > 180) & (rgb[:, :, 1] > 120) & (rgb[:, :, 2] < 90)
    assert yellow.sum() > 100  # the face is yellow, the text white


def test_a_right_to_left_line_puts_its_runs_right_to_left():
    # Hebrew, then Hangul: in a right-to-left line the Hangul word is drawn to the left of the Hebrew one.
    style = {"size": 40, "color": "#ffffff", "stroke": {"width": 0}}
    whole = np.array(text_picture("שלום 안녕", style, frame_size=(640, 180), scale=1.0))[:, :, 3]
    hangul = np.array(text_picture("안녕", style, frame_size=(640, 180), scale=1.0))[:, :, 3]
    hebrew = np.array(text_picture("שלום", style, frame_size=(640, 180), scale=1.0))[:, :, 3]

    def fit(word, width):
        return word[:, :width] if word.shape[1] >= width else np.pad(word, ((0, 0), (0, width - word.shape[1])))

    def ink_match(region, word):
        rows = min(region.shape[0], word.shape[0])
        return (np.abs(region[:rows].astype(int) - fit(word, region.shape[1])[:rows].astype(int)) < 60).mean()

    left = whole[:, : hangul.shape[1]]
    right = whole[:, whole.shape[1] - hebrew.shape[1] :]
    assert ink_match(left, hangul) > ink_match(left, hebrew)
    assert ink_match(right, hebrew) > ink_match(right, hangul)
