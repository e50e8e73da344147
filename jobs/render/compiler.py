"""Compile a validated timeline document (CONTRACT.md §2, schema 2 in docs/timeline.md) into a RenderPlan
(plan.py explains the model, motion.py the per-frame transforms)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

from config.even import even_floor, even_round
from jobs.render import motion
from jobs.render.errors import MediaMissing, MediaUnreadable
from jobs.render.formats import format_get
from jobs.render.motion import MAX_DRAWN, round_half_up
from jobs.render.plan import AudioPart, Layer, MediaFacts, OutputSpec, RenderPlan
from jobs.render.presets import preset_get, preset_output
from jobs.render.text import colour_draw, parse_color, text_animation, text_render, text_sequence, text_steps
from jobs.render.values import AssetSource, finite_or
from projects.subtitles import Cue, SubtitlesInvalid, subtitles_parse

POSTER_AT = 0.10  # of the duration


def place(fit: str, source: tuple[int | None, int | None], canvas: tuple[int, int]) -> tuple[int, int, int, int]:
    """(x, y, width, height) of a picture of `source` size fitted into `canvas`; even numbers throughout."""
    canvas_w, canvas_h = canvas
    src_w, src_h = source
    if fit == "stretch" or not src_w or not src_h:
        return 0, 0, canvas_w, canvas_h
    if fit == "cover":
        scale = max(canvas_w / src_w, canvas_h / src_h)
        width = max(canvas_w, even_round(src_w * scale))
        height = max(canvas_h, even_round(src_h * scale))
    else:  # contain
        scale = min(canvas_w / src_w, canvas_h / src_h)
        width = min(canvas_w, even_round(src_w * scale))
        height = min(canvas_h, even_round(src_h * scale))
    return even_floor((canvas_w - width) / 2, None), even_floor((canvas_h - height) / 2, None), width, height


def _where(clip: dict[str, Any], track: dict[str, Any]) -> str:
    return f"clip {clip.get('id', '?')} on track {track.get('id', '?')}"


class _Compiler:
    def __init__(self, timeline: dict[str, Any], assets: Mapping[str, AssetSource],
                 facts: Mapping[str, MediaFacts], output: OutputSpec, text_dir: Path) -> None:
        self.timeline = timeline
        self.assets = assets
        self.facts = facts
        self.output = output
        self.text_dir = text_dir
        self.fps = Fraction(output.fps_num, output.fps_den)
        tl_output = timeline.get("output") or {}
        tl_height = finite_or(tl_output.get("height"), output.height) or output.height
        self.text_scale = output.height / tl_height
        self.layers: list[Layer] = []
        self.audio: list[AudioPart] = []
        self.end_seconds = 0.0

    def frame(self, seconds: float) -> int:
        return round(Fraction(seconds).limit_denominator(1_000_000) * self.fps)

    def frame_samples(self, frames: int) -> int:
        return round(Fraction(frames) / self.fps * self.output.sample_rate)

    def asset_for(self, clip: dict[str, Any], track: dict[str, Any]) -> tuple[AssetSource, MediaFacts]:
        asset = self.assets.get(str(clip.get("asset_id")))
        if asset is None or not asset.path or not Path(asset.path).is_file():
            raise MediaMissing(f"{_where(clip, track)}: the media file is missing.")
        facts = self.facts.get(asset.asset_id)
        if facts is None:
            raise MediaUnreadable(f"{_where(clip, track)}: the media file cannot be read.")
        return asset, facts

    def compile(self) -> RenderPlan:
        tracks = track_switches_apply([t for t in self.timeline.get("tracks") or [] if isinstance(t, dict)])
        hidden = {i for i, t in enumerate(tracks) if t.get("hidden")}
        first_video = next((i for i, t in enumerate(tracks) if t.get("kind") == "video" and i not in hidden), None)
        captions: list[tuple[int, dict[str, Any]]] = []
        for index, track in enumerate(tracks):
            kind = track.get("kind")
            clips = sorted((c for c in track.get("clips") or [] if isinstance(c, dict)),
                           key=lambda c: finite_or(c.get("start"), 0.0))
            if kind == "video":
                self.video_track(index, track, clips, full_frame=index == first_video)
            elif kind == "text":
                self.text_track(index, track, clips)
            elif kind == "audio":
                self.audio_track(track, clips)
            elif kind == "captions":
                captions.append((index, track))
        # Captions last: they are cut to where the rest of the timeline ends, so that must be known.
        cues = [cue for index, track in captions for cue in self.captions_track(index, track)]
        # A hidden track is compiled like the others (its clips still set the length, a video track's sound
        # still plays, hidden captions still go to the sidecar files); only its pictures are left out.
        self.layers = [layer for layer in self.layers if layer.track_index not in hidden]
        self.layers.sort(key=lambda layer: layer.track_index)  # stable: document order, as the paths expect
        for layer in self.layers:
            if layer.animated:
                self.motion_box(layer)
        frames = max([1, self.frame(self.end_seconds), *(layer.end for layer in self.layers)])
        samples = self.frame_samples(frames)
        return RenderPlan(
            output=self.output, frames=frames, samples=samples, layers=self.layers, audio=self.audio,
            poster_frame=min(frames - 1, round(frames * POSTER_AT)),
            captions=sorted(cues, key=lambda c: (c["start"], c["end"])) if captions else None,
        )

    def video_track(self, index: int, track: dict[str, Any], clips: list[dict[str, Any]], *, full_frame: bool) -> None:
        canvas = (self.output.width, self.output.height)
        muted = bool(track.get("muted"))
        previous: tuple[Layer, AudioPart | None] | None = None
        for clip in clips:
            start_s = max(0.0, finite_or(clip.get("start"), 0.0))
            speed = min(4.0, max(0.25, finite_or(clip.get("speed"), 1.0)))
            src_fps, src_duration, src_in, has_audio = None, None, 0.0, False
            freeze = clip.get("freeze") if isinstance(clip.get("freeze"), dict) else None
            if "color" in clip and not clip.get("asset_id"):
                kind, path = "image", str(self.colour_picture(clip))
                source_size, alpha = canvas, False
                length_s = finite_or(clip.get("duration"), 1.0)
            else:
                asset, facts = self.asset_for(clip, track)
                if not facts.has_video:
                    raise MediaUnreadable(f"{_where(clip, track)}: the media file has no picture.")
                path, alpha = str(asset.path), facts.alpha
                source_size = (facts.width or asset.width, facts.height or asset.height)
                if asset.kind == "image":
                    kind = "image"
                    length_s = finite_or(clip.get("duration"),
                                         finite_or(clip.get("out"), 5.0) - finite_or(clip.get("in"), 0.0))
                elif freeze is not None:
                    kind, alpha = "freeze", False
                    src_in = max(0.0, finite_or(freeze.get("at"), 0.0))
                    length_s = finite_or(freeze.get("duration"), 1.0)
                else:
                    kind, alpha = "video", False
                    src_fps = facts.fps or asset.fps
                    src_in = max(0.0, finite_or(clip.get("in"), 0.0))
                    if src_fps:
                        # Snap to the source's frame grid so both paths start on the same source frame.
                        src_in = math.ceil(src_in * src_fps - 1e-6) / src_fps
                    out = finite_or(clip.get("out"), facts.duration or asset.duration or src_in + 1.0)
                    length_s = (out - finite_or(clip.get("in"), 0.0)) / speed
                    src_duration, has_audio = facts.duration, facts.has_audio
            length_s = max(length_s, 1 / self.output.fps)
            self.end_seconds = max(self.end_seconds, start_s + length_s)
            start = self.frame(start_s)
            end = max(start + 1, self.frame(start_s + length_s))
            layer = Layer(
                clip_id=str(clip.get("id", "")), track_id=str(track.get("id", "")), track_index=index, kind=kind,
                path=path, start=start, end=end, x=0, y=0, width=2, height=2,
                src_in=src_in, src_fps=src_fps, src_duration=src_duration,
                full_frame=full_frame, alpha=alpha and not full_frame, speed=speed,
                reverse=bool(clip.get("reverse")) and kind == "video",
                freeze_at=src_in if kind == "freeze" else None,
            )
            if layer.reverse:
                layer.src_length = length_s * speed
            self.shape(layer, clip, source_size, str(clip.get("fit") or "contain"))
            volume = max(0.0, finite_or(clip.get("volume"), 1.0))
            part = None
            if kind == "video" and has_audio and not muted and (volume > 0 or clip.get("keyframes", {}).get("volume")):
                part = AudioPart(
                    clip_id=layer.clip_id, track_id=layer.track_id, path=layer.path, src_in=src_in,
                    start=self.frame_samples(start), length=self.frame_samples(end) - self.frame_samples(start),
                    volume=volume, from_video=True, speed=speed, reverse=layer.reverse,
                    src_length=length_s * speed if (speed != 1.0 or layer.reverse) else None,
                )
                part.keys = self.volume_keys(clip)
            self.link_transition(clip, layer, part, previous)
            self.link_transition_out(clip, layer, part)
            if part is not None:
                rate = self.output.sample_rate
                part.fade_in = min(part.length, max(part.fade_in, round(finite_or(clip.get("fade_in"), 0.0) * rate)))
                part.fade_out = min(part.length - part.fade_in,
                                    max(part.fade_out, round(finite_or(clip.get("fade_out"), 0.0) * rate)))
            self.layers.append(layer)
            if part is not None:
                self.audio.append(part)
            previous = (layer, part)

    # --- schema 2: shape (crop, fit, transform, adjust) and motion -----------------------------------------
    def shape(self, layer: Layer, clip: dict[str, Any], source_size: tuple[Any, Any], fit: str,
              text_box: tuple[int, int, int, int] | None = None) -> None:
        """Where and how big the layer's picture is; animated layers get their per-frame description."""
        canvas_w, canvas_h = self.output.width, self.output.height
        transform = clip.get("transform") if isinstance(clip.get("transform"), dict) else {}
        crop = transform.get("crop") if isinstance(transform.get("crop"), dict) else {}
        left, top = finite_or(crop.get("left"), 0.0), finite_or(crop.get("top"), 0.0)
        keep_w = max(0.1, 1 - left - finite_or(crop.get("right"), 0.0))
        keep_h = max(0.1, 1 - top - finite_or(crop.get("bottom"), 0.0))
        filters = []
        if (left, top, keep_w, keep_h) != (0.0, 0.0, 1.0, 1.0):
            filters.append(f"crop=w=iw*{keep_w!r}:h=ih*{keep_h!r}:x=iw*{left!r}:y=ih*{top!r}:exact=1")
        src_w, src_h = source_size
        if src_w and src_h:
            source_size = (max(1, round(src_w * keep_w)), max(1, round(src_h * keep_h)))
        adjust = clip.get("adjust") if isinstance(clip.get("adjust"), dict) else {}
        post = []
        brightness, contrast = finite_or(adjust.get("brightness"), 0.0), finite_or(adjust.get("contrast"), 1.0)
        saturation, blur = finite_or(adjust.get("saturation"), 1.0), finite_or(adjust.get("blur"), 0.0)
        if (brightness, contrast, saturation) != (0.0, 1.0, 1.0):
            post.append(f"eq=brightness={brightness!r}:contrast={contrast!r}:saturation={saturation!r}")
        if blur > 0:
            post.append(f"gblur=sigma={blur * self.text_scale!r}")
        layer.pre_filter, layer.post_filter = ",".join(filters), ",".join(post)
        if text_box is not None:
            fx, fy, fw, fh = text_box
        else:
            fx, fy, fw, fh = place(fit, source_size, (canvas_w, canvas_h))
        scale = finite_or(transform.get("scale"), 1.0)
        cx = finite_or(transform.get("x"), 0.5) * canvas_w if "x" in transform else fx + fw / 2
        cy = finite_or(transform.get("y"), 0.5) * canvas_h if "y" in transform else fy + fh / 2
        rotation, opacity = finite_or(transform.get("rotation"), 0.0), finite_or(transform.get("opacity"), 1.0)
        keys = self.motion_keys(clip)
        if transform or keys:
            layer.full_frame = False  # a transformed picture shows what lies beneath around it
            layer.alpha = layer.alpha or layer.kind == "text"
        if keys or rotation % 360 or opacity < 1.0:
            self.animate(layer, fw, fh, cx, cy, scale, rotation, opacity, keys)
            return
        width, height = even_round(fw * scale), even_round(fh * scale)
        x, y = even_floor(round_half_up(cx - width / 2), None), even_floor(round_half_up(cy - height / 2), None)
        layer.x, layer.y, layer.width, layer.height = x, y, width, height
        self.crop_to_canvas(layer)

    def crop_to_canvas(self, layer: Layer) -> None:
        """A picture much larger than the frame is cut to what shows before it is scaled: memory follows
        the output, never the scale asked for (docs/rendering.md)."""
        canvas_w, canvas_h = self.output.width, self.output.height
        if layer.width <= 2 * canvas_w and layer.height <= 2 * canvas_h:
            return
        x0, y0 = max(0, -layer.x), max(0, -layer.y)
        x1, y1 = min(layer.width, canvas_w - layer.x), min(layer.height, canvas_h - layer.y)
        if x1 - x0 < 2 or y1 - y0 < 2:  # entirely off-frame: a tiny transparent corner
            x0, y0, x1, y1 = 0, 0, 2, 2
            layer.alpha, layer.full_frame = True, False
        fx, fy = x0 / layer.width, y0 / layer.height
        fw, fh = (x1 - x0) / layer.width, (y1 - y0) / layer.height
        cut = f"crop=w=iw*{fw!r}:h=ih*{fh!r}:x=iw*{fx!r}:y=ih*{fy!r}:exact=1"
        layer.pre_filter = ",".join(f for f in (layer.pre_filter, cut) if f)
        layer.x, layer.y = layer.x + x0, layer.y + y0
        layer.width, layer.height = even_round(x1 - x0), even_round(y1 - y0)

    def animate(self, layer: Layer, fw: int, fh: int, cx: float, cy: float, scale: float, rotation: float,
                opacity: float, keys: dict[str, list[list]]) -> None:
        canvas_w, canvas_h = self.output.width, self.output.height
        layer.animated, layer.alpha, layer.full_frame = True, True, False
        layer.base_w, layer.base_h = fw, fh
        layer.x, layer.y, layer.width, layer.height = 0, 0, fw, fh
        layer.center_x, layer.center_y = cx, cy
        layer.scale, layer.rotation, layer.static_opacity = scale, rotation, opacity
        layer.keys = keys or None
        layer.scale_cap = min(MAX_DRAWN * canvas_w / fw, MAX_DRAWN * canvas_h / fh)

    def motion_box(self, layer: Layer) -> None:
        """The fixed box an animated layer is drawn in when its size or angle changes over time: filters
        after a per-frame scale need frames of one size (ffmpeg), so the picture is centred in it."""
        keys = layer.keys or {}
        turning = bool(layer.rotation % 360) or "rotation" in keys
        if not (turning or motion.scale_animated(layer)):
            return
        zoom = 1 + (1 - motion.ZOOM_FROM) if layer.trans_out == "zoom_in" else 1.0
        biggest = min(layer.scale_cap, max([layer.scale, *(v for _f, v, _e in keys.get("scale", []))]) * zoom)
        width, height = layer.base_w * biggest, layer.base_h * biggest
        # Multiples of 4: half the box is even, so a centred picture lands on the pixel it would unboxed.
        if turning:
            layer.box_w = layer.box_h = 4 * math.ceil((math.hypot(width, height) + 2) / 4)
        else:
            layer.box_w, layer.box_h = 4 * math.ceil((width + 2) / 4), 4 * math.ceil((height + 2) / 4)

    def motion_keys(self, clip: dict[str, Any]) -> dict[str, list[list]]:
        keyframes = clip.get("keyframes") if isinstance(clip.get("keyframes"), dict) else {}
        fps = float(self.fps)
        unit = {"x": self.output.width, "y": self.output.height}
        result = {}
        for prop in ("x", "y", "scale", "rotation", "opacity"):
            points = keyframes.get(prop)
            if isinstance(points, list) and points:
                result[prop] = [[finite_or(p.get("t"), 0.0) * fps, finite_or(p.get("v"), 0.0) * unit.get(prop, 1),
                                 str(p.get("ease") or "linear")] for p in points if isinstance(p, dict)]
        return result

    def volume_keys(self, clip: dict[str, Any]) -> list[list] | None:
        points = (clip.get("keyframes") or {}).get("volume") if isinstance(clip.get("keyframes"), dict) else None
        if not isinstance(points, list) or not points:
            return None
        rate = self.output.sample_rate
        return [[finite_or(p.get("t"), 0.0) * rate, finite_or(p.get("v"), 1.0), str(p.get("ease") or "linear")]
                for p in points if isinstance(p, dict)]

    def colour_picture(self, clip: dict[str, Any]) -> Path:
        """A colour layer as a frame-sized PNG (a gradient when asked); the crop and fit then shape it."""
        number = sum(1 for _ in self.text_dir.glob("colour-*.png"))
        path = self.text_dir / f"colour-{number}.png"
        gradient = clip.get("gradient") if isinstance(clip.get("gradient"), dict) else None
        colour_draw(str(clip.get("color") or "#000000"), gradient, (self.output.width, self.output.height), path)
        return path

    def link_transition(self, clip: dict[str, Any], layer: Layer, part: AudioPart | None,
                        previous: tuple[Layer, AudioPart | None] | None) -> None:
        transition = clip.get("transition")
        if not isinstance(transition, dict):
            return
        kind = transition.get("type")
        kind = "crossfade" if kind == "dissolve" else kind
        ramp = max(1, self.frame(max(0.0, finite_or(transition.get("duration"), 0.0))))
        prev_layer, prev_part = previous if previous else (None, None)
        paired = prev_layer is not None and prev_layer.end > layer.start
        if kind not in ("fade", "crossfade"):
            # Schema 2 types: drawn by motion.py, over the previous clip when paired with it, else over
            # whatever lies beneath.
            if layer.full_frame:
                layer.full_frame = False
            if not layer.animated:
                self.animate(layer, *self.layer_box(layer), 1.0, 0.0, 1.0, {})
            layer.trans_in = kind
            frames = min(prev_layer.end - layer.start, layer.frames) if paired else min(ramp, layer.frames)
            layer.fade_in = frames
            samples = self.frame_samples(layer.start + frames) - self.frame_samples(layer.start)
            if part is not None:
                part.fade_in = min(samples, part.length)
            if paired and prev_part is not None:
                prev_part.fade_out = min(samples, prev_part.length)
            return
        if kind == "crossfade" and paired:
            overlap = min(prev_layer.end - layer.start, layer.frames)
            layer.fade_in, layer.crossfade = overlap, True
            samples = self.frame_samples(layer.start + overlap) - self.frame_samples(layer.start)
            if part is not None:
                part.fade_in = min(samples, part.length)
            if prev_part is not None:
                prev_part.fade_out = min(samples, prev_part.length)
        else:
            # A crossfade with nothing to cross (first clip, or after a gap) fades in from below.
            layer.fade_in = min(ramp, layer.frames)
            samples = self.frame_samples(layer.start + layer.fade_in) - self.frame_samples(layer.start)
            if part is not None:
                part.fade_in = min(samples, part.length)
            if (kind == "fade" and prev_layer is not None and prev_layer.end == layer.start
                    and not prev_layer.fade_out):
                prev_layer.fade_out = min(ramp, prev_layer.frames - prev_layer.fade_in)
                if prev_part is not None:
                    prev_part.fade_out = min(
                        self.frame_samples(prev_layer.end) - self.frame_samples(prev_layer.end - prev_layer.fade_out),
                        prev_part.length,
                    )

    def link_transition_out(self, clip: dict[str, Any], layer: Layer, part: AudioPart | None) -> None:
        transition = clip.get("transition_out")
        if not isinstance(transition, dict):
            return
        kind = str(transition.get("type"))
        ramp = max(1, self.frame(max(0.0, finite_or(transition.get("duration"), 0.0))))
        layer.fade_out = min(ramp, max(1, layer.frames - layer.fade_in))
        if kind != "fade":
            if not layer.animated:
                self.animate(layer, *self.layer_box(layer), 1.0, 0.0, 1.0, {})
            layer.trans_out = kind
        if part is not None:
            samples = self.frame_samples(layer.end) - self.frame_samples(layer.end - layer.fade_out)
            part.fade_out = min(samples, part.length - part.fade_in)

    def layer_box(self, layer: Layer) -> tuple[int, int, float, float]:
        """(width, height, centre x, centre y) of a static layer, to animate it from there."""
        return layer.width, layer.height, layer.x + layer.width / 2, layer.y + layer.height / 2

    def text_track(self, index: int, track: dict[str, Any], clips: list[dict[str, Any]]) -> None:
        previous: tuple[Layer, AudioPart | None] | None = None
        for clip in clips:
            text = str(clip.get("text") or "")
            start_s = max(0.0, finite_or(clip.get("start"), 0.0))
            length_s = max(finite_or(clip.get("duration"), 1.0), 1 / self.output.fps)
            self.end_seconds = max(self.end_seconds, start_s + length_s)
            if not text.strip():
                continue
            start = self.frame(start_s)
            end = max(start + 1, self.frame(start_s + length_s))
            moved = any(clip.get(key) for key in ("transform", "keyframes", "adjust", "transition", "transition_out"))
            animated = text_animation(clip.get("style"))[:2] != ("none", "none")
            if animated and not moved:
                # An animated title is a series of images (jobs.render.text.text_steps), each overlaid on its own.
                self.text_layers(index, track, clip, text, start, end)
                continue
            number = sum(1 for layer in self.layers if layer.kind == "text")
            path, steps = self.text_dir / f"text-{number}.png", None
            frame_size = (self.output.width, self.output.height)
            if animated:
                # Moved as well: the series as one changing picture, which the transform, keyframes and
                # transitions then move exactly as they move a still title.
                sequence = text_sequence(text, clip.get("style"), frame_size=frame_size, scale=self.text_scale,
                                         fps=float(self.fps), frames=end - start, directory=self.text_dir,
                                         stem=f"anim-{number}")
                box, path, steps = sequence.box, sequence.path, sequence.steps
            else:
                box = text_render(text, clip.get("style"), frame_size=frame_size, scale=self.text_scale, path=path)
            layer = Layer(
                clip_id=str(clip.get("id", "")), track_id=str(track.get("id", "")), track_index=index, kind="text",
                path=str(path), start=start, end=end, x=box.x, y=box.y, width=box.width, height=box.height,
                alpha=True, steps=steps,
            )
            if clip.get("transform") or clip.get("keyframes") or clip.get("adjust"):
                self.shape(layer, clip, (box.width, box.height), "contain",
                           text_box=(box.x, box.y, box.width, box.height))
                if steps is None and (layer.width, layer.height) != (box.width, box.height):
                    # A statically scaled title is scaled by both paths' general overlay, like an image.
                    layer.steps = [[str(path), 0, end - start]]
            self.link_transition(clip, layer, None, previous)
            self.link_transition_out(clip, layer, None)
            self.layers.append(layer)
            previous = (layer, None)

    def text_layers(self, index: int, track: dict[str, Any], clip: dict[str, Any], text: str, start: int,
                    end: int) -> None:
        """A text clip (or caption cue) as one layer per image: one when still, a series when animated."""
        number = len({layer.clip_id for layer in self.layers if layer.kind == "text"})
        steps = text_steps(text, clip.get("style"), frame_size=(self.output.width, self.output.height),
                           scale=self.text_scale, fps=float(self.fps), frames=end - start, directory=self.text_dir,
                           stem=f"text-{number}")
        for step in steps:
            self.layers.append(Layer(
                clip_id=str(clip.get("id", "")), track_id=str(track.get("id", "")), track_index=index, kind="text",
                path=str(step.path), start=start + step.start, end=start + step.end, x=step.box.x, y=step.box.y,
                width=step.box.width, height=step.box.height, alpha=True,
            ))

    def caption_cues(self, track: dict[str, Any]) -> list[Cue]:
        where = f"captions track {track.get('id', '?')}"
        if isinstance(track.get("cues"), list):
            return [Cue(finite_or(c.get("start"), 0.0), finite_or(c.get("end"), 0.0), str(c.get("text") or ""))
                    for c in track["cues"] if isinstance(c, dict)]
        asset = self.assets.get(str(track.get("asset_id")))
        if asset is None or not asset.path or not Path(asset.path).is_file():
            raise MediaMissing(f"{where}: the subtitles file is missing.")
        kind = "vtt" if Path(asset.path).suffix.lower() == ".vtt" else "srt"
        try:
            parsed = subtitles_parse(Path(asset.path).read_bytes(), kind)
        except (SubtitlesInvalid, OSError):
            raise MediaUnreadable(f"{where}: the subtitles file cannot be read.") from None
        offset = finite_or(track.get("offset"), 0.0)
        return [Cue(c.start + offset, c.end + offset, c.text) for c in parsed]

    def captions_track(self, index: int, track: dict[str, Any]) -> list[dict[str, Any]]:
        """Burn a captions track in (one text layer per cue, styled like text); the cues it showed."""
        tl_output = self.timeline.get("output") or {}
        style = dict(track.get("style") or {})
        if not style.get("max_width"):
            style["max_width"] = round(finite_or(tl_output.get("width"), self.output.width) * 0.9)
        end_limit = self.end_seconds if self.end_seconds > 0 else math.inf
        shown = []
        for number, cue in enumerate(self.caption_cues(track), 1):
            start_s, end_s = max(0.0, cue.start), min(cue.end, end_limit)
            if end_s <= start_s or not cue.text.strip():
                continue
            start = self.frame(start_s)
            end = max(start + 1, self.frame(end_s))
            clip = {"id": f"{track.get('id', 'captions')}#{number}", "style": style}
            self.text_layers(index, track, clip, cue.text, start, end)
            shown.append({"start": round(start_s, 3), "end": round(end_s, 3), "text": cue.text})
        return shown

    def audio_track(self, track: dict[str, Any], clips: list[dict[str, Any]]) -> None:
        muted = bool(track.get("muted"))
        rate = self.output.sample_rate
        for clip in clips:
            start_s = max(0.0, finite_or(clip.get("start"), 0.0))
            src_in = max(0.0, finite_or(clip.get("in"), 0.0))
            asset = self.assets.get(str(clip.get("asset_id")))
            duration = asset.duration if asset else None
            out = finite_or(clip.get("out"), duration or src_in + 1.0)
            length_s = max(0.0, out - src_in)
            self.end_seconds = max(self.end_seconds, start_s + length_s)
            volume = max(0.0, finite_or(clip.get("volume"), 1.0))
            if muted or volume == 0 or length_s <= 0:
                continue
            asset, facts = self.asset_for(clip, track)
            if not facts.has_audio:
                raise MediaUnreadable(f"{_where(clip, track)}: the media file has no sound.")
            length = round(length_s * rate)
            fade_in = min(length, round(max(0.0, finite_or(clip.get("fade_in"), 0.0)) * rate))
            fade_out = min(length - fade_in, round(max(0.0, finite_or(clip.get("fade_out"), 0.0)) * rate))
            self.audio.append(AudioPart(
                clip_id=str(clip.get("id", "")), track_id=str(track.get("id", "")), path=str(asset.path),
                src_in=src_in, start=round(start_s * rate), length=length, volume=volume,
                fade_in=fade_in, fade_out=fade_out,
            ))


def track_switches_apply(tracks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tracks as the render hears them (docs/timeline.md, "Track switches"): when any video or audio
    track is `solo`, every other track with sound is muted. `hidden` is left for `compile` to apply."""
    if not any(t.get("solo") and t.get("kind") in ("video", "audio") for t in tracks):
        return tracks
    return [{**t, "muted": True} if t.get("kind") in ("video", "audio") and not t.get("solo") else t for t in tracks]


def output_spec(timeline: dict[str, Any], preset: str, *, threads: int) -> OutputSpec:
    width, height, fps = preset_output(preset, timeline)
    spec = preset_get(preset)
    rate = Fraction(str(fps)).limit_denominator(1001)
    tl_output = timeline.get("output") or {}
    background = parse_color(tl_output.get("background"), (0, 0, 0, 255))[:3]
    return OutputSpec(
        width=width, height=height, fps_num=rate.numerator, fps_den=rate.denominator, background=background,
        x264_preset=spec.x264_preset, crf=spec.crf, threads=threads,
        format=format_get(tl_output.get("format")).name, still_at=max(0.0, finite_or(tl_output.get("still_at"), 0.0)),
    )


def plan_compile(timeline: dict[str, Any], assets: Mapping[str, AssetSource], facts: Mapping[str, MediaFacts],
                 preset: str, *, text_dir: Path, threads: int = 2) -> RenderPlan:
    """The render plan for a validated timeline; title images are drawn into `text_dir`."""
    output = output_spec(timeline, preset, threads=threads)
    return _Compiler(timeline, assets, facts, output, text_dir).compile()
