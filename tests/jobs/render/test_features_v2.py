"""The schema 2 feature table: every feature rendered by both paths, checked where a person would look.

Each row is a tiny timeline (160×90, 10 fps, one or two seconds) rendered by the ffmpeg graph and by the
moviepy compositor. For every row: both files last as long as planned, every sampled frame agrees
(PSNR ≥ 30 dB) and the sound agrees (RMS within 1 dB). Then each row's own check looks at the picture or
the sound of both files: the red logo really is at the top-right, half opacity really is half, a wipe has
really reached halfway, a slowed clip's tone keeps its pitch.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from config.tools import ffmpeg_exe
from jobs.render import render_timeline
from jobs.render.quality import audio_rms_db, frames_rgb, probe, psnr
from tests.jobs.render.conftest import source, video

W, H, FPS = 160, 90, 10
PATHS = ("ffmpeg", "moviepy")
TYPES = ("fade", "crossfade", "dissolve", "wipe_left", "wipe_right", "wipe_up", "wipe_down", "slide_left",
         "slide_right", "slide_up", "slide_down", "zoom_in", "circle_open", "fade_white")


def doc(*tracks, background="#000000") -> dict:
    return {"schema": 2, "output": {"width": W, "height": H, "fps": FPS, "background": background},
            "tracks": list(tracks), "markers": [], "view": {}}


def colour(clip_id, color, start, duration, **extra) -> dict:
    return {"id": clip_id, "color": color, "start": start, "duration": duration, **extra}


def track(track_id, *clips, kind="video") -> dict:
    return {"id": track_id, "kind": kind, "clips": list(clips)}


def still(path, size, fill, *, mode="RGB"):
    Image.new(mode, size, fill).save(path)
    return path


def halves(path):
    """Left half red, right half green: 80×60."""
    picture = Image.new("RGB", (80, 60), (255, 0, 0))
    picture.paste((0, 255, 0), (40, 0, 80, 60))
    picture.save(path)
    return path


def bar(path):
    """A white 60×12 bar on a transparent ground (RGBA 60×12)."""
    Image.new("RGBA", (60, 12), (255, 255, 255, 255)).save(path)
    return path


TITLE_STYLE = {"size": 16, "color": "#ffffff", "background": {"color": "#ffffff", "opacity": 1, "padding": 6}}


def title(**extra) -> dict:
    """"HI" on a white box (about 30×24 at 160×90), animated as `animation` says."""
    animation = extra.pop("animation")
    return {"id": "x", "text": "HI", "start": 0, "duration": 1.0, "style": {**TITLE_STYLE, "animation": animation},
            **extra}


def ink(picture: np.ndarray, level: int = 60) -> tuple[float, float, int]:
    """(centre x, centre y, pixel count) of what is brighter than `level` on a black frame."""
    ys, xs = np.nonzero(picture.max(axis=2) > level)
    return (float(xs.mean()), float(ys.mean()), xs.size) if xs.size else (math.nan, math.nan, 0)


# --- the rows -------------------------------------------------------------------------------------------------
def rows(workdir) -> dict:
    assets = {
        "logo": source("logo", still(workdir / "logo.png", (40, 40), (255, 0, 0)), "image"),
        "halves": source("halves", halves(workdir / "halves.png"), "image"),
        "bar": source("bar", bar(workdir / "bar.png"), "image"),
        "clip": video("clip", seconds=2.0, width=160, height=90, fps=10, source="testsrc2", tone_hz=440),
        "pip": video("pip", seconds=1.0, width=160, height=90, fps=10, source="rgbtestsrc", tone_hz=None),
    }
    base = track("v1", colour("bg", "#0000ff", 0, 1.0))
    table = {
        "corner_logo": (doc(base, track("v2", {"id": "l", "asset_id": "logo", "start": 0, "duration": 1.0,
                                                "transform": {"x": 0.85, "y": 0.2, "scale": 0.5}})), 1.0),
        "picture_in_picture": (doc(track("v1", {"id": "c", "asset_id": "clip", "start": 0, "in": 0, "out": 1}),
                                   track("v2", {"id": "p", "asset_id": "pip", "start": 0, "in": 0, "out": 1,
                                                "transform": {"x": 0.25, "y": 0.25, "scale": 0.4}})), 1.0),
        "opacity": (doc(track("v1", colour("w", "#ffffff", 0, 1.0, transform={"opacity": 0.5}))), 1.0),
        "crop": (doc(track("v1", {"id": "h", "asset_id": "halves", "start": 0, "duration": 1.0,
                                  "transform": {"crop": {"right": 0.5}}})), 1.0),
        "rotation": (doc(base, track("v2", {"id": "b", "asset_id": "bar", "start": 0, "duration": 1.0,
                                            "fit": "contain", "transform": {"scale": 0.5, "rotation": 90}})), 1.0),
        "ken_burns": (doc(track("v1", {"id": "c", "asset_id": "clip", "start": 0, "in": 0, "out": 1.5,
                                       "keyframes": {"scale": [{"t": 0, "v": 1}, {"t": 1.5, "v": 1.5,
                                                                                  "ease": "ease_in_out"}],
                                                     "x": [{"t": 0, "v": 0.5}, {"t": 1.5, "v": 0.4}]}})), 1.5),
        "opacity_keyframes": (doc(track("v1", colour("w", "#ffffff", 0, 1.0, keyframes={
            "opacity": [{"t": 0, "v": 0}, {"t": 1.0, "v": 1}]}))), 1.0),
        "position_keyframes": (doc(base, track("v2", {"id": "l", "asset_id": "logo", "start": 0, "duration": 1.0,
                                                      "transform": {"scale": 0.5},
                                                      "keyframes": {"x": [{"t": 0, "v": 0.2, "ease": "hold"},
                                                                          {"t": 0.5, "v": 0.8}]}})), 1.0),
        "speed_half": (doc(track("v1", {"id": "c", "asset_id": "clip", "start": 0, "in": 0, "out": 1,
                                        "speed": 0.5})), 2.0),
        "speed_double": (doc(track("v1", {"id": "c", "asset_id": "clip", "start": 0, "in": 0, "out": 2,
                                          "speed": 2})), 1.0),
        "reverse": (doc(track("v1", {"id": "c", "asset_id": "clip", "start": 0, "in": 0, "out": 1,
                                     "reverse": True})), 1.0),
        "freeze": (doc(track("v1", {"id": "c", "asset_id": "clip", "start": 0, "freeze": {"at": 0.5,
                                                                                          "duration": 1.0}})), 1.0),
        "gradient": (doc(track("v1", colour("g", "#ff0000", 0, 1.0, gradient={"to": "#0000ff", "angle": 180}))),
                     1.0),
        "lower_third_bar": (doc(track("v1", {"id": "c", "asset_id": "clip", "start": 0, "in": 0, "out": 1}),
                                track("v2", colour("k", "#ffcc00", 0, 1.0, transform={
                                    "y": 0.85, "crop": {"top": 0.8}}))), 1.0),
        "adjust": (doc(track("v1", {"id": "c", "asset_id": "clip", "start": 0, "in": 0, "out": 1,
                                    "adjust": {"saturation": 0, "blur": 2}})), 1.0),
        "sound_fades": (doc(track("v1", {"id": "c", "asset_id": "clip", "start": 0, "in": 0, "out": 2,
                                         "fade_in": 1.0})), 2.0),
        "volume_keyframes": (doc(track("v1", {"id": "c", "asset_id": "clip", "start": 0, "in": 0, "out": 2,
                                              "keyframes": {"volume": [{"t": 0, "v": 1, "ease": "hold"},
                                                                       {"t": 1.0, "v": 0.1}]}})), 2.0),
        "text_under_transform": (doc(base, track("t1", {"id": "x", "text": "HI", "start": 0, "duration": 1.0,
                                                        "style": {"size": 24, "color": "#ffffff"},
                                                        "transform": {"x": 0.2, "y": 0.25, "opacity": 0.8},
                                                        "keyframes": {"rotation": [{"t": 0, "v": 0},
                                                                                   {"t": 1, "v": 30}]}},
                                                       kind="text")), 1.0),
        # Animated titles (style.animation) take the schema-2 transform, keyframes and transitions as still
        # titles do. A white box (the title's background) makes the ink easy to find.
        "animated_title_corner": (doc(track("t1", title(animation={"in": "slide_up", "duration": 0.4},
                                                        transform={"x": 0.8, "y": 0.2}), kind="text")), 1.0),
        "animated_title_opacity": (doc(track("t1", title(animation={"in": "pop", "duration": 0.2},
                                                         transform={"opacity": 0.5}), kind="text")), 1.0),
        "animated_title_wipe": (doc(track("t1", title(animation={"in": "fade", "out": "typewriter",
                                                                 "duration": 0.3},
                                                      transition={"type": "wipe_left", "duration": 0.4}),
                                          kind="text")), 1.0),
        "title_scaled": (doc(track("t1", {"id": "x", "text": "HI", "start": 0, "duration": 1.0, "style": TITLE_STYLE,
                                          "transform": {"x": 0.25, "scale": 0.5}}, kind="text")), 1.0),
        "animated_title_keyframes": (doc(track("t1", title(animation={"in": "typewriter", "duration": 0.3},
                                                           transform={"scale": 1.5},
                                                           keyframes={"x": [{"t": 0, "v": 0.25},
                                                                            {"t": 1, "v": 0.75}]}),
                                             kind="text")), 1.0),
    }
    for kind in TYPES:
        # As a transition between neighbours (green over red), and as in and out against what lies beneath
        # (a white box over both). Not every type pairs: fade always plays against what lies beneath.
        paired = kind != "fade"
        green = colour("g", "#00ff00", 0.6 if paired else 1.0, 1.0,
                       transition={"type": kind, "duration": 0.4})
        white = colour("w", "#ffffff", 0.2, 0.8, transform={"scale": 0.5},
                       transition={"type": kind, "duration": 0.3})
        if kind not in ("crossfade", "dissolve"):
            white["transition_out"] = {"type": kind, "duration": 0.3}
        table[f"transition_{kind}"] = (doc(track("v1", colour("r", "#ff0000", 0, 1.0), green),
                                           track("v2", white)), 2.0 if not paired else 1.6)
    return {name: (document, assets, seconds) for name, (document, seconds) in table.items()}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("features-v2")
    table = rows(workdir)
    results = {}
    for name, (document, assets, seconds) in table.items():
        results[name] = {
            path: render_timeline(document, assets, "project", workdir / f"{name}-{path}.mp4", path=path).path
            for path in PATHS
        }
        results[name]["seconds"] = seconds
    return results


def frame(path, index) -> np.ndarray:
    return frames_rgb(path, [index], (W, H))[0].astype(int)


def near(pixel, colour, tolerance=40) -> bool:
    return all(abs(int(a) - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


ROW_NAMES = [*("corner_logo", "picture_in_picture", "opacity", "crop", "rotation", "ken_burns", "opacity_keyframes",
               "position_keyframes", "speed_half", "speed_double", "reverse", "freeze", "gradient",
               "lower_third_bar", "adjust", "sound_fades", "volume_keyframes", "text_under_transform",
               "title_scaled", "animated_title_corner", "animated_title_opacity", "animated_title_wipe",
               "animated_title_keyframes"),
             *(f"transition_{kind}" for kind in TYPES)]


@pytest.mark.parametrize("name", ROW_NAMES)
def test_both_paths_render_the_feature_alike(rendered, name):
    row = rendered[name]
    frames = round(row["seconds"] * FPS)
    for path in PATHS:
        facts = probe(row[path])
        assert (facts.width, facts.height, facts.frames) == (W, H, frames), path
    first, second = (frames_rgb(row[path], list(range(frames)), (W, H)) for path in PATHS)
    assert len(first) == len(second) == frames
    worst = min(psnr(a, b) for a, b in zip(first, second, strict=True))
    assert worst >= 30.0, f"{name}: the paths differ (worst frame {worst:.1f} dB)"
    levels = [audio_rms_db(row[path], 0.05, row["seconds"] - 0.05) for path in PATHS]
    if math.isinf(levels[0]):
        assert math.isinf(levels[1])
    else:
        assert levels[0] == pytest.approx(levels[1], abs=1.0)


@pytest.mark.parametrize("path", PATHS)
def test_a_red_logo_sits_in_the_top_right_corner(rendered, path):
    picture = frame(rendered["corner_logo"][path], 5)
    assert near(picture[18, 136], (255, 0, 0))  # x 0.85, y 0.2: the logo's centre
    assert near(picture[45, 80], (0, 0, 255))  # the middle: the blue beneath
    assert near(picture[80, 20], (0, 0, 255))  # bottom-left: nothing but blue


@pytest.mark.parametrize("path", PATHS)
def test_half_opacity_is_half(rendered, path):
    picture = frame(rendered["opacity"][path], 5)
    assert abs(picture[45, 80].mean() - 127.5) <= 6


@pytest.mark.parametrize("path", PATHS)
def test_crop_keeps_only_the_chosen_part(rendered, path):
    picture = frame(rendered["crop"][path], 5)
    assert near(picture[45, 80], (255, 0, 0))
    assert not (picture[:, :, 1] > 150).any()  # no green anywhere: the right half was cropped away


@pytest.mark.parametrize("path", PATHS)
def test_a_bar_turned_a_quarter_stands_upright(rendered, path):
    picture = frame(rendered["rotation"][path], 5)
    # The bar is 80×16 at scale 0.5 of its contained size (160×32): upright it spans y 5..85 at x 80.
    assert near(picture[20, 80], (255, 255, 255))
    assert near(picture[45, 40], (0, 0, 255))


@pytest.mark.parametrize("path", PATHS)
def test_ken_burns_zooms_in(rendered, path):
    start, end = frame(rendered["ken_burns"][path], 0), frame(rendered["ken_burns"][path], 14)
    assert psnr(start.astype(np.uint8), end.astype(np.uint8)) < 25  # the picture really moved


@pytest.mark.parametrize("path", PATHS)
def test_opacity_keyframes_ramp_up(rendered, path):
    levels = [frame(rendered["opacity_keyframes"][path], i)[45, 80].mean() for i in (0, 5, 9)]
    assert levels[0] < 30 and abs(levels[1] - 127) < 15 and levels[2] > 200


@pytest.mark.parametrize("path", PATHS)
def test_hold_keeps_the_position_until_the_next_keyframe(rendered, path):
    early, late = frame(rendered["position_keyframes"][path], 2), frame(rendered["position_keyframes"][path], 7)
    assert near(early[45, 32], (255, 0, 0)) and near(late[45, 128], (255, 0, 0))


def dominant_hz(path, start, end) -> float:
    import subprocess

    done = subprocess.run([ffmpeg_exe(), "-v", "error", "-ss", str(start), "-t", str(end - start), "-i", str(path),
                           "-vn", "-ac", "1", "-ar", "48000", "-f", "f32le", "-"], capture_output=True, check=True)
    samples = np.frombuffer(done.stdout, dtype="<f4")
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    return float(np.fft.rfftfreq(samples.size, 1 / 48000)[spectrum.argmax()])


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("name", ["speed_half", "speed_double"])
def test_speed_keeps_the_pitch(rendered, path, name):
    assert dominant_hz(rendered[name][path], 0.2, 0.8) == pytest.approx(440, abs=15)


@pytest.mark.parametrize("path", PATHS)
def test_reverse_plays_backwards(rendered, path):
    forward = frames_rgb(rendered["speed_double"][path], [0], (W, H))[0]  # source frame 0 (speed 2: frame 0 = 0 s)
    backward = frames_rgb(rendered["reverse"][path], [9], (W, H))[0]  # the reversed clip ends on source 0 s
    assert psnr(forward, backward) >= 28


@pytest.mark.parametrize("path", PATHS)
def test_freeze_holds_one_picture(rendered, path):
    frames = frames_rgb(rendered["freeze"][path], [0, 9], (W, H))
    assert psnr(*frames) >= 40


@pytest.mark.parametrize("path", PATHS)
def test_gradient_runs_from_its_colour_to_the_other(rendered, path):
    picture = frame(rendered["gradient"][path], 5)
    assert near(picture[1, 80], (255, 0, 0), 50) and near(picture[88, 80], (0, 0, 255), 50)


@pytest.mark.parametrize("path", PATHS)
def test_lower_third_bar_sits_low(rendered, path):
    picture = frame(rendered["lower_third_bar"][path], 5)
    assert near(picture[77, 80], (255, 204, 0)) and not near(picture[40, 80], (255, 204, 0))


@pytest.mark.parametrize("path", PATHS)
def test_saturation_zero_is_grey(rendered, path):
    picture = frame(rendered["adjust"][path], 5)
    assert np.abs(picture[:, :, 0] - picture[:, :, 2]).mean() < 6


@pytest.mark.parametrize("path", PATHS)
def test_clip_sound_fades_in(rendered, path):
    quiet, loud = audio_rms_db(rendered["sound_fades"][path], 0.0, 0.2), audio_rms_db(rendered["sound_fades"][path],
                                                                                        1.2, 1.8)
    assert loud - quiet > 10


@pytest.mark.parametrize("path", PATHS)
def test_volume_keyframes_duck_the_sound(rendered, path):
    before, after = (audio_rms_db(rendered["volume_keyframes"][path], *window) for window in ((0.1, 0.9),
                                                                                             (1.1, 1.9)))
    assert before - after == pytest.approx(20.0, abs=1.5)  # 1 → 0.1 is -20 dB


@pytest.mark.parametrize("path", PATHS)
def test_a_wipe_between_neighbours_is_halfway_at_half_time(rendered, path):
    # red until 1.0 s, green from 0.6 s wiping in leftwards over 0.4 s: at 0.8 s the right half is green.
    picture = frame(rendered["transition_wipe_left"][path], 8)
    assert near(picture[10, 150], (0, 255, 0)) and near(picture[10, 10], (255, 0, 0))


@pytest.mark.parametrize("path", PATHS)
def test_crossfade_mixes_the_neighbours(rendered, path):
    picture = frame(rendered["transition_crossfade"][path], 8)
    assert near(picture[10, 10], (128, 128, 0), 30)


@pytest.mark.parametrize("path", PATHS)
def test_an_animated_title_moved_to_the_top_right_slides_up_there(rendered, path):
    row = rendered["animated_title_corner"][path]
    middle, settled = frame(row, 2), frame(row, 6)
    x, y, count = ink(middle, 20)
    assert count > 200 and x > 0.65 * W and y < 0.45 * H  # mid-animation, already in the top-right area
    assert 0 < middle.max() < 220  # still fading in
    x, y, _count = ink(settled)
    assert abs(x - 0.8 * W) <= 3 and abs(y - 0.2 * H) <= 3  # settled: the box's centre at x 0.8, y 0.2
    assert settled.max() > 240
    assert ink(settled)[1] < ink(middle)[1]  # it slid up
    assert near(settled[70, 30], (0, 0, 0), 10)  # nothing elsewhere


@pytest.mark.parametrize("path", PATHS)
def test_an_animated_title_at_half_opacity_is_half_as_bright(rendered, path):
    brightness = frame(rendered["animated_title_opacity"][path], 5).max(axis=2)
    box = brightness[brightness > 20]
    assert box.size > 500
    assert abs(np.median(box) - 127.5) <= 8  # the white box at half opacity over black
    assert brightness.max() < 150


@pytest.mark.parametrize("path", PATHS)
def test_a_wipe_on_an_animated_title_is_halfway_at_half_time(rendered, path):
    row = rendered["animated_title_wipe"][path]
    halfway, settled = frame(row, 2), frame(row, 5)
    columns = np.nonzero((settled.max(axis=2) > 200).any(axis=0))[0]
    rows_ = np.nonzero((settled.max(axis=2) > 200).any(axis=1))[0]
    left, right, top = columns.min(), columns.max(), rows_.min()
    middle_y = top + 2  # in the box's padding: white without the letters' outline
    quarter, three_quarters = left + (right - left) // 4, left + 3 * (right - left) // 4
    # wipe_left going in shows the right part first: at q = 0.5 the box's right half, fading in.
    assert halfway[middle_y, quarter].max() < 20
    assert halfway[middle_y, three_quarters].min() > 80
    assert settled[middle_y, quarter].min() > 200


@pytest.mark.parametrize("path", PATHS)
def test_keyframes_carry_an_animated_title_across(rendered, path):
    row = rendered["animated_title_keyframes"][path]
    early, late = ink(frame(row, 4)), ink(frame(row, 9))
    assert early[0] < 0.45 * W < 0.55 * W < late[0]  # x keyframes 0.25 → 0.75
    assert late[2] > 1.5 * 30 * 24  # scale 1.5: about 2.25 times the unscaled box's area


@pytest.mark.parametrize("path", PATHS)
def test_a_title_at_half_scale_is_half_as_wide(rendered, path):
    brightness = frame(rendered["title_scaled"][path], 5).max(axis=2)
    columns = np.nonzero((brightness > 100).any(axis=0))[0]
    rows_ = np.nonzero((brightness > 100).any(axis=1))[0]
    assert 12 <= columns.max() - columns.min() + 1 <= 18  # the ~30×24 box at half size
    assert 10 <= rows_.max() - rows_.min() + 1 <= 14
    assert abs((columns.max() + columns.min()) / 2 - 0.25 * W) <= 2
