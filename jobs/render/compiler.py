"""Compile a validated timeline document (CONTRACT.md §2) into a RenderPlan (plan.py explains the model)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

from jobs.render.errors import MediaMissing, MediaUnreadable
from jobs.render.formats import format_get
from jobs.render.plan import AudioPart, Layer, MediaFacts, OutputSpec, RenderPlan
from jobs.render.presets import preset_get, preset_output
from jobs.render.text import parse_color, text_steps
from jobs.render.values import AssetSource
from projects.subtitles import Cue, SubtitlesInvalid, subtitles_parse

POSTER_AT = 0.10  # of the duration


def _num(value: Any, default: float) -> float:
    try:
        result = float(value)
    except (TypeError, ValueError):
        return default
    return result if math.isfinite(result) else default


def _even_floor(value: float) -> int:
    return math.floor(value / 2) * 2


def _even_round(value: float) -> int:
    return max(2, round(value / 2) * 2)


def place(fit: str, source: tuple[int | None, int | None], canvas: tuple[int, int]) -> tuple[int, int, int, int]:
    """(x, y, width, height) of a picture of `source` size fitted into `canvas`; even numbers throughout."""
    canvas_w, canvas_h = canvas
    src_w, src_h = source
    if fit == "stretch" or not src_w or not src_h:
        return 0, 0, canvas_w, canvas_h
    if fit == "cover":
        scale = max(canvas_w / src_w, canvas_h / src_h)
        width = max(canvas_w, _even_round(src_w * scale))
        height = max(canvas_h, _even_round(src_h * scale))
    else:  # contain
        scale = min(canvas_w / src_w, canvas_h / src_h)
        width = min(canvas_w, _even_round(src_w * scale))
        height = min(canvas_h, _even_round(src_h * scale))
    return _even_floor((canvas_w - width) / 2), _even_floor((canvas_h - height) / 2), width, height


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
        tl_height = _num(tl_output.get("height"), output.height) or output.height
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
        tracks = [t for t in self.timeline.get("tracks") or [] if isinstance(t, dict)]
        first_video = next((i for i, t in enumerate(tracks) if t.get("kind") == "video"), None)
        captions: list[tuple[int, dict[str, Any]]] = []
        for index, track in enumerate(tracks):
            kind = track.get("kind")
            clips = sorted((c for c in track.get("clips") or [] if isinstance(c, dict)),
                           key=lambda c: _num(c.get("start"), 0.0))
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
        self.layers.sort(key=lambda layer: layer.track_index)  # stable: document order, as the paths expect
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
            asset, facts = self.asset_for(clip, track)
            if not facts.has_video:
                raise MediaUnreadable(f"{_where(clip, track)}: the media file has no picture.")
            start_s = max(0.0, _num(clip.get("start"), 0.0))
            if asset.kind == "image":
                kind, src_in, src_fps = "image", 0.0, None
                length_s = _num(clip.get("duration"), _num(clip.get("out"), 5.0) - _num(clip.get("in"), 0.0))
            else:
                kind = "video"
                src_fps = facts.fps or asset.fps
                src_in = max(0.0, _num(clip.get("in"), 0.0))
                if src_fps:
                    # Snap to the source's frame grid so both paths start on the same source frame.
                    src_in = math.ceil(src_in * src_fps - 1e-6) / src_fps
                out = _num(clip.get("out"), facts.duration or asset.duration or src_in + 1.0)
                length_s = out - _num(clip.get("in"), 0.0)
            length_s = max(length_s, 1 / self.output.fps)
            self.end_seconds = max(self.end_seconds, start_s + length_s)
            start = self.frame(start_s)
            end = max(start + 1, self.frame(start_s + length_s))
            x, y, width, height = place(
                str(clip.get("fit") or "contain"), (facts.width or asset.width, facts.height or asset.height), canvas
            )
            layer = Layer(
                clip_id=str(clip.get("id", "")), track_id=str(track.get("id", "")), track_index=index, kind=kind,
                path=str(asset.path), start=start, end=end, x=x, y=y, width=width, height=height,
                src_in=src_in, src_fps=src_fps, src_duration=facts.duration if kind == "video" else None,
                full_frame=full_frame, alpha=facts.alpha and not full_frame,
            )
            volume = max(0.0, _num(clip.get("volume"), 1.0))
            part = None
            if kind == "video" and facts.has_audio and not muted and volume > 0:
                part = AudioPart(
                    clip_id=layer.clip_id, track_id=layer.track_id, path=layer.path, src_in=src_in,
                    start=self.frame_samples(start), length=self.frame_samples(end) - self.frame_samples(start),
                    volume=volume, from_video=True,
                )
            self.link_transition(clip, layer, part, previous)
            self.layers.append(layer)
            if part is not None:
                self.audio.append(part)
            previous = (layer, part)

    def link_transition(self, clip: dict[str, Any], layer: Layer, part: AudioPart | None,
                        previous: tuple[Layer, AudioPart | None] | None) -> None:
        transition = clip.get("transition")
        if not isinstance(transition, dict):
            return
        kind = transition.get("type")
        ramp = max(1, self.frame(max(0.0, _num(transition.get("duration"), 0.0))))
        prev_layer, prev_part = previous if previous else (None, None)
        if kind == "crossfade" and prev_layer is not None and prev_layer.end > layer.start:
            overlap = min(prev_layer.end - layer.start, layer.frames)
            layer.fade_in, layer.crossfade = overlap, True
            samples = self.frame_samples(layer.start + overlap) - self.frame_samples(layer.start)
            if part is not None:
                part.fade_in = min(samples, part.length)
            if prev_part is not None:
                prev_part.fade_out = min(samples, prev_part.length)
        elif kind in ("fade", "crossfade"):
            # A crossfade with nothing to cross (first clip, or after a gap) fades in from below.
            layer.fade_in = min(ramp, layer.frames)
            samples = self.frame_samples(layer.start + layer.fade_in) - self.frame_samples(layer.start)
            if part is not None:
                part.fade_in = min(samples, part.length)
            if kind == "fade" and prev_layer is not None and prev_layer.end == layer.start:
                prev_layer.fade_out = min(ramp, prev_layer.frames - prev_layer.fade_in)
                if prev_part is not None:
                    prev_part.fade_out = min(
                        self.frame_samples(prev_layer.end) - self.frame_samples(prev_layer.end - prev_layer.fade_out),
                        prev_part.length,
                    )

    def text_track(self, index: int, track: dict[str, Any], clips: list[dict[str, Any]]) -> None:
        for clip in clips:
            text = str(clip.get("text") or "")
            start_s = max(0.0, _num(clip.get("start"), 0.0))
            length_s = max(_num(clip.get("duration"), 1.0), 1 / self.output.fps)
            self.end_seconds = max(self.end_seconds, start_s + length_s)
            if not text.strip():
                continue
            start = self.frame(start_s)
            end = max(start + 1, self.frame(start_s + length_s))
            self.text_layers(index, track, clip, text, start, end)

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
            return [Cue(_num(c.get("start"), 0.0), _num(c.get("end"), 0.0), str(c.get("text") or ""))
                    for c in track["cues"] if isinstance(c, dict)]
        asset = self.assets.get(str(track.get("asset_id")))
        if asset is None or not asset.path or not Path(asset.path).is_file():
            raise MediaMissing(f"{where}: the subtitles file is missing.")
        kind = "vtt" if Path(asset.path).suffix.lower() == ".vtt" else "srt"
        try:
            parsed = subtitles_parse(Path(asset.path).read_bytes(), kind)
        except (SubtitlesInvalid, OSError):
            raise MediaUnreadable(f"{where}: the subtitles file cannot be read.") from None
        offset = _num(track.get("offset"), 0.0)
        return [Cue(c.start + offset, c.end + offset, c.text) for c in parsed]

    def captions_track(self, index: int, track: dict[str, Any]) -> list[dict[str, Any]]:
        """Burn a captions track in (one text layer per cue, styled like text); the cues it showed."""
        tl_output = self.timeline.get("output") or {}
        style = dict(track.get("style") or {})
        if not style.get("max_width"):
            style["max_width"] = round(_num(tl_output.get("width"), self.output.width) * 0.9)
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
            start_s = max(0.0, _num(clip.get("start"), 0.0))
            src_in = max(0.0, _num(clip.get("in"), 0.0))
            asset = self.assets.get(str(clip.get("asset_id")))
            duration = asset.duration if asset else None
            out = _num(clip.get("out"), duration or src_in + 1.0)
            length_s = max(0.0, out - src_in)
            self.end_seconds = max(self.end_seconds, start_s + length_s)
            volume = max(0.0, _num(clip.get("volume"), 1.0))
            if muted or volume == 0 or length_s <= 0:
                continue
            asset, facts = self.asset_for(clip, track)
            if not facts.has_audio:
                raise MediaUnreadable(f"{_where(clip, track)}: the media file has no sound.")
            length = round(length_s * rate)
            fade_in = min(length, round(max(0.0, _num(clip.get("fade_in"), 0.0)) * rate))
            fade_out = min(length - fade_in, round(max(0.0, _num(clip.get("fade_out"), 0.0)) * rate))
            self.audio.append(AudioPart(
                clip_id=str(clip.get("id", "")), track_id=str(track.get("id", "")), path=str(asset.path),
                src_in=src_in, start=round(start_s * rate), length=length, volume=volume,
                fade_in=fade_in, fade_out=fade_out,
            ))


def output_spec(timeline: dict[str, Any], preset: str, *, threads: int) -> OutputSpec:
    width, height, fps = preset_output(preset, timeline)
    spec = preset_get(preset)
    rate = Fraction(str(fps)).limit_denominator(1001)
    tl_output = timeline.get("output") or {}
    background = parse_color(tl_output.get("background"), (0, 0, 0, 255))[:3]
    return OutputSpec(
        width=width, height=height, fps_num=rate.numerator, fps_den=rate.denominator, background=background,
        x264_preset=spec.x264_preset, crf=spec.crf, threads=threads,
        format=format_get(tl_output.get("format")).name, still_at=max(0.0, _num(tl_output.get("still_at"), 0.0)),
    )


def plan_compile(timeline: dict[str, Any], assets: Mapping[str, AssetSource], facts: Mapping[str, MediaFacts],
                 preset: str, *, text_dir: Path, threads: int = 2) -> RenderPlan:
    """The render plan for a validated timeline; title images are drawn into `text_dir`."""
    output = output_spec(timeline, preset, threads=threads)
    return _Compiler(timeline, assets, facts, output, text_dir).compile()
