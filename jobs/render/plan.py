"""The render plan: what a timeline document compiles to (see compiler.py), in frames and pixels.

The plan is the one description both render paths execute, so they agree by construction: every time is
an integer frame (video) or sample (audio) number, every picture has its scaled size and place on the
canvas, every transition is an opacity ramp. Nothing after this module reads the raw JSON.

The compositing model (both paths implement exactly this):
- The canvas starts as the background colour. Tracks stack in document order; within a track, a clip
  that starts later is drawn over the one before it.
- Clips on the first video track are opaque full frames: a "contain" picture is letterboxed with the
  background colour. Clips on later video tracks are transparent outside their picture.
- A clip's opacity ramps from 0 over its `fade_in` frames (frame i of the ramp has opacity i/n) and
  down over its `fade_out` frames (the last frame has 1/n). A crossfade is the later clip ramping in
  over the earlier one, which stays opaque until it ends; a "fade" ramps in from what is below
  (the background, i.e. black by default) and, when the previous clip ends exactly where it starts,
  ramps that one out too (a dip to the background).
- Audio: each part is trimmed, scaled by its volume, faded linearly, placed at its start sample and
  summed. A video clip's own sound follows its picture's ramps; muted tracks contribute nothing.

Schema 2 adds, per layer: source filters both paths run through ffmpeg (`pre_filter` before the fit:
crop; `post_filter` after it: eq, gblur), speed/reverse/freeze, and for an `animated` layer a per-frame
transform (motion.py: keyframes, rotation, opacity, transition masks, slides, zooms). A layer that is not
`animated` renders exactly as in schema 1; a static position, scale or crop is folded into x/y/width/height.
A text layer with `steps` is a picture that changes over time (an animated title that a transform, keyframes
or transitions move; text.text_sequence) or a title scaled by the paths; both paths draw it like an image.
Audio parts add speed (pitch kept: atempo), reverse and a volume curve.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

# Plain data only (no Django): the moviepy compositor child process imports this module.
AUDIO_BITRATE = "128k"
SAMPLE_RATE = 48000


@dataclass(frozen=True)
class MediaFacts:
    """What the render-time probe found in an asset's file (it overrides the stored metadata)."""

    has_video: bool
    has_audio: bool
    duration: float | None
    fps: float | None
    width: int | None
    height: int | None
    alpha: bool = False


@dataclass
class OutputSpec:
    width: int
    height: int
    fps_num: int
    fps_den: int
    background: tuple[int, int, int]
    x264_preset: str
    crf: int
    audio_bitrate: str = AUDIO_BITRATE
    sample_rate: int = SAMPLE_RATE
    threads: int = 2
    format: str = "mp4"  # jobs.render.formats
    still_at: float = 0.0  # seconds: the frame a "png" render shows

    @property
    def fps(self) -> float:
        return self.fps_num / self.fps_den

    @property
    def fps_expr(self) -> str:
        return f"{self.fps_num}/{self.fps_den}"

    @property
    def background_hex(self) -> str:
        r, g, b = self.background
        return f"0x{r:02x}{g:02x}{b:02x}"


@dataclass
class Layer:
    """One picture on the timeline: a video, image or text clip, in frames and canvas pixels."""

    clip_id: str
    track_id: str
    track_index: int
    kind: str  # "video" | "image" | "text"
    path: str
    start: int  # first frame on the timeline
    end: int  # one past the last frame
    x: int  # the scaled picture's top-left corner on the canvas (negative when "cover" crops it)
    y: int
    width: int  # the scaled picture's size
    height: int
    src_in: float = 0.0  # source second of the first frame, on the source's frame grid
    src_fps: float | None = None
    src_duration: float | None = None  # the source file's length (video), as the media check found it
    full_frame: bool = False  # opaque, letterboxed with the background (first video track)
    fade_in: int = 0
    fade_out: int = 0
    crossfade: bool = False  # `fade_in` is a crossfade over the previous clip of this track
    alpha: bool = False
    # --- schema 2 (see the module docstring and motion.py) ---
    pre_filter: str = ""  # ffmpeg filters on the source picture before it is fitted (crop)
    post_filter: str = ""  # after fitting (eq, gblur)
    speed: float = 1.0
    reverse: bool = False
    src_length: float | None = None  # seconds of source a reversed clip plays
    freeze_at: float | None = None  # kind "freeze": the source second shown
    animated: bool = False  # drawn through motion.layer_state every frame
    base_w: int = 0  # animated: the fitted picture's size before the per-frame scale
    base_h: int = 0
    center_x: float = 0.0  # animated: static centre in canvas pixels
    center_y: float = 0.0
    scale: float = 1.0
    rotation: float = 0.0
    static_opacity: float = 1.0
    keys: dict[str, list[list]] | None = None  # prop -> [[local frame, value, ease], ...] (x/y in pixels)
    trans_in: str = ""  # the transition type of `fade_in` ("" = a v1 fade/crossfade)
    trans_out: str = ""
    scale_cap: float = 1e9
    box_w: int = 0  # animated and rotated: the fixed box the picture turns in
    box_h: int = 0
    # An animated title under a transform, keyframes or transitions (text.text_sequence): its picture changes
    # over time, [[PNG path, first frame, end frame], ...] relative to the layer's start; `path` is the same
    # series as a playlist for ffmpeg's concat demuxer.
    steps: list[list] | None = None

    @property
    def frames(self) -> int:
        return self.end - self.start

    def covers_canvas(self, width: int, height: int) -> bool:
        return self.x <= 0 and self.y <= 0 and self.x + self.width >= width and self.y + self.height >= height

    def opacity(self, frame: int) -> float:
        """Opacity at a timeline frame (see the module docstring for the ramps)."""
        level = 1.0
        offset = frame - self.start
        if self.fade_in and offset < self.fade_in:
            level = min(level, offset / self.fade_in)
        remaining = self.end - frame
        if self.fade_out and remaining <= self.fade_out:
            level = min(level, remaining / self.fade_out)
        return max(0.0, level)


@dataclass
class AudioPart:
    clip_id: str
    track_id: str
    path: str
    src_in: float  # source seconds
    start: int  # first sample on the timeline
    length: int  # samples
    volume: float
    fade_in: int = 0  # samples
    fade_out: int = 0
    from_video: bool = False  # the sound of a video clip (same clip id as its Layer)
    speed: float = 1.0  # tempo, pitch kept
    reverse: bool = False
    src_length: float | None = None  # seconds of source (speed or reverse)
    keys: list[list] | None = None  # volume curve: [[local sample, factor, ease], ...]


@dataclass
class RenderPlan:
    output: OutputSpec
    frames: int
    samples: int
    layers: list[Layer] = field(default_factory=list)
    audio: list[AudioPart] = field(default_factory=list)
    poster_frame: int = 0
    # Every caption cue shown (seconds, offsets applied, cut to the timeline), for the sidecar files; None
    # when the timeline has no captions track.
    captions: list[dict] | None = None

    @property
    def duration(self) -> float:
        return self.frames / self.output.fps

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> RenderPlan:
        data = json.loads(text)
        output = data["output"]
        output["background"] = tuple(output["background"])
        return cls(
            output=OutputSpec(**output),
            frames=data["frames"],
            samples=data["samples"],
            layers=[Layer(**item) for item in data["layers"]],
            audio=[AudioPart(**item) for item in data["audio"]],
            poster_frame=data["poster_frame"],
            captions=data.get("captions"),
        )

    def video_inputs(self) -> int:
        return sum(1 for layer in self.layers if layer.kind in ("video", "image", "freeze"))
