"""The general path: the plan composited frame by frame with moviepy 2.x, in a child process.

Run as `python -m jobs.render.compositor PLAN.json OUT.<format's extension> POSTER.jpg` by moviepy_path.py, in
its own session: the compositor, moviepy's decoder ffmpegs and the encoder form one process group,
which the parent can stop as a whole. Imports no Django. Talks to the parent on stdout, one line each:
`frame N` after N frames were handed to the encoder, `mux` when the soundtrack is being added,
`unreadable I` when the source of plan layer I would not open, `done` at the end.

What keeps it fast (measured on the reference edit, 720p, 2 cores; see docs/rendering.md):
- The timeline is cut into intervals at every clip edge and ramp edge. An interval with one opaque,
  frame-filling picture passes the decoder's frame straight to the encoder; only intervals where
  pictures really overlap (crossfades, titles, picture-in-picture) are blended.
- Blending is integer numpy on the covered region only. moviepy's CompositeVideoClip composes through
  full-frame Pillow RGBA images: 7 ms a frame for a title and 24 ms for a crossfade at 720p, against
  about 1 and 2 ms here.
- The decoders scale (moviepy's reader with `target_resolution`), start at the clip's in point, open
  only when their clip starts and close when it ends, decode on one thread with a two-frame queue
  (SceneReader: ~125 MB each at 1080p instead of ~200 MB), through 1 MiB pipes.
- The sound is mixed by moviepy and encoded (in the output format's sound codec) in a thread while the
  picture encodes (started once the first frames are through), then muxed in with a stream copy. Both are
  encoded once, in the output format's codecs (formats.py): no intermediate file is converted again.
"""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
from moviepy import AudioFileClip, CompositeAudioClip, ImageClip, VideoClip
from moviepy.audio.fx import AudioFadeIn, AudioFadeOut, MultiplyVolume
from moviepy.config import FFMPEG_BINARY
from moviepy.video.io.ffmpeg_reader import FFMPEG_VideoReader
from PIL import Image

from jobs.render import motion
from jobs.render.formats import (
    SOUND_PART_MUXER,
    format_container_args,
    format_get,
    format_picture_args,
    format_sound_args,
)
from jobs.render.plan import Layer, RenderPlan

AUDIO_CHUNK = 48000  # samples per mixing step
AUDIO_AFTER_FRAMES = 3  # start mixing the sound once this many frames went to the encoder
F_SETPIPE_SZ = 1031  # fcntl.F_SETPIPE_SZ (Linux), named in the fcntl module only from Python 3.10 on some builds
PIPE_SIZE = 1 << 20


def _widen_pipe(fileobj) -> None:
    """Let a pipe hold a whole frame or more (default: 64 KiB), so a 720p frame crosses in a few
    system calls and context switches instead of ~40. Best effort: the limit is /proc/sys/fs/pipe-max-size."""
    try:
        import fcntl

        fcntl.fcntl(fileobj.fileno(), F_SETPIPE_SZ, PIPE_SIZE)
    except (OSError, ValueError, AttributeError):
        pass


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class SceneReader(FFMPEG_VideoReader):
    """moviepy's frame reader, with a leaner decoder process behind it.

    Same frame bookkeeping as FFMPEG_VideoReader (it inherits get_frame/read_frame/skip_frames); only the
    decoder command differs: one decoding thread and a queue of two frames before the pipe. moviepy's
    own command lets ffmpeg queue a dozen converted RGB frames: ~200 MB per decoder at 1080p instead of
    ~125 MB (measured), while one thread still decodes 1080p H.264 several times faster than it is
    consumed here. It also starts at the clip's in point (moviepy starts at 0 s and then reads and
    discards up to 100 frames), widens its pipe, and sends ffmpeg's messages to our log instead of an
    unread pipe.
    """

    def __init__(self, filename: str, *, size: tuple[int, int], start: float, fps: float | None,
                 duration: float | None, pre: str = "", post: str = "", seek: float | None = None,
                 limit: float | None = None) -> None:
        self._first_start: float | None = start
        # Schema 2: the layer's source filters around the fit (the ffmpeg path runs the same ones), and
        # for a reversed clip a fixed window of the source played backwards (times then count from 0).
        self._pre, self._post, self._seek, self._limit = pre, post, seek, limit
        if not fps or not duration:
            super().__init__(filename, target_resolution=size, pixel_format="rgb24")
            return
        # The media check already found the rate and length: skip moviepy's second `ffmpeg -i` (a process
        # start on the critical path each time a clip begins). These are the attributes the base class's
        # frame reading uses.
        self.filename, self.proc = filename, None
        self.fps, self.size, self.rotation = fps, size, 0
        self.duration = self.ffmpeg_duration = duration
        self.n_frames, self.bitrate, self.infos = int(duration * fps), 0, {}
        self.resize_algo, self.pixel_format, self.depth = "bicubic", "rgb24", 3
        self.bufsize = 3 * size[0] * size[1] + 100
        self.initialize()

    def initialize(self, start_time: float = 0) -> None:
        if self._first_start is not None:
            start_time, self._first_start = self._first_start, None
        self.close(delete_lastread=False)
        self.pos = self.get_frame_number(start_time)
        # Just before the wanted frame: ffmpeg's (accurate) input seek drops every frame before it.
        seek = ["-ss", f"{self.pos / self.fps - 0.00001:.6f}"] if self.pos else []
        width, height = self.size
        filters = [self._pre, f"scale={width}:{height}", self._post]
        if self._seek is not None:
            # Reversed: always the whole window, backwards (the ffmpeg path cuts the same window).
            seek = (["-ss", f"{self._seek:.6f}"] if self._seek > 0 else []) + ["-t", f"{self._limit:.6f}"]
            filters.insert(0, "reverse")
            self.pos = self.get_frame_number(start_time)
        command = [
            FFMPEG_BINARY, "-nostdin", "-hide_banner", "-loglevel", "error", "-threads", "1", *seek,
            "-i", self.filename, "-an", "-sn", "-vf", ",".join(f for f in filters if f),
            "-sws_flags", self.resize_algo,
            "-thread_queue_size", "2", "-f", "image2pipe", "-pix_fmt", self.pixel_format, "-vcodec", "rawvideo",
            "-",
        ]
        self.proc = subprocess.Popen(command, bufsize=self.bufsize, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        _widen_pipe(self.proc.stdout)
        self.last_read = self.read_frame()

    def close(self, delete_lastread: bool = True) -> None:
        if self.proc:
            if self.proc.poll() is None:
                self.proc.kill()  # a decoder writing into a pipe has nothing to save; SIGTERM makes it complain
            self.proc.stdout.close()
            self.proc.wait()
            self.proc = None
        if delete_lastread and hasattr(self, "last_read"):
            del self.last_read


def still_read(layer: Layer, path: str | None = None) -> np.ndarray:
    """One picture of a layer through ffmpeg with its source filters (images, titles, colours, freezes);
    `path`: one image of an animated title's series instead of the layer's file."""
    seek = ["-ss", f"{layer.freeze_at:.6f}"] if layer.kind == "freeze" and layer.freeze_at else []
    fmt, depth = ("rgba", 4) if layer.alpha else ("rgb24", 3)
    filters = [layer.pre_filter, f"scale={layer.width}:{layer.height}", layer.post_filter]
    done = subprocess.run(
        [FFMPEG_BINARY, "-nostdin", "-hide_banner", "-loglevel", "error", *seek, "-i", path or layer.path, "-an", "-sn",
         "-frames:v", "1", "-vf", ",".join(f for f in filters if f), "-f", "rawvideo", "-pix_fmt", fmt, "-"],
        capture_output=True, check=True, stdin=subprocess.DEVNULL,
    )
    return np.frombuffer(done.stdout, dtype=np.uint8).reshape(layer.height, layer.width, depth).copy()


def blend_at(canvas: np.ndarray, rgb: np.ndarray, alpha: np.ndarray, left: int, top: int) -> None:
    """Blend a float picture with float alpha (0..1) onto the canvas at (left, top), clipped to it."""
    height, width = alpha.shape
    x0, y0 = max(0, left), max(0, top)
    x1, y1 = min(canvas.shape[1], left + width), min(canvas.shape[0], top + height)
    if x1 <= x0 or y1 <= y0:
        return
    region = canvas[y0:y1, x0:x1]
    a = alpha[y0 - top : y1 - top, x0 - left : x1 - left, None]
    src = rgb[y0 - top : y1 - top, x0 - left : x1 - left]
    region[:] = (src * a + region.astype(np.float32) * (1 - a) + 0.5).astype(np.uint8)


class SourceUnreadable(Exception):
    def __init__(self, layer: Layer) -> None:
        super().__init__(f"{layer.track_id} {layer.clip_id}")
        self.layer = layer


class LayerSource:
    """A layer's pictures: a moviepy clip opened on first use, closed after the layer's last frame."""

    def __init__(self, layer: Layer, plan: RenderPlan, background: np.ndarray) -> None:
        self.layer = layer
        self.plan = plan
        self.fps = plan.output.fps
        self.background = background
        self.clip = None
        self.still: np.ndarray | None = None  # images and titles: one picture, reused
        self.reader: SceneReader | None = None
        canvas_w, canvas_h = plan.output.width, plan.output.height
        # The part of the picture inside the canvas, and where it lands.
        self.src_x, self.src_y = max(0, -layer.x), max(0, -layer.y)
        self.dst_x, self.dst_y = max(0, layer.x), max(0, layer.y)
        self.vis_w = min(layer.width - self.src_x, canvas_w - self.dst_x)
        self.vis_h = min(layer.height - self.src_y, canvas_h - self.dst_y)
        self.fills_canvas = layer.covers_canvas(canvas_w, canvas_h) and not layer.alpha
        # The first frame asked for: a render starts at the layer's start, the editor's still (still.py)
        # anywhere in it, so the decoder seeks straight there.
        self.first_frame = layer.start
        self.step: tuple[str, np.ndarray] | None = None  # an animated title's image on screen (layer.steps)

    def open(self) -> None:
        layer = self.layer
        try:
            if layer.kind == "video":
                reverse = {}
                if layer.reverse:
                    src_fps = layer.src_fps or self.fps
                    reverse = {"seek": max(0.0, layer.src_in - 0.1 / src_fps), "limit": layer.src_length}
                self.reader = SceneReader(layer.path, size=(layer.width, layer.height),
                                          start=self.source_time(self.first_frame), fps=layer.src_fps,
                                          duration=layer.src_duration, pre=layer.pre_filter,
                                          post=layer.post_filter, **reverse)
                # Not VideoClip(frame_function=...): its constructor reads the frame at 0 s to learn the
                # size, which would send the decoder back to the start of the file.
                self.clip = VideoClip(duration=self.reader.duration)
                self.clip.frame_function = self.reader.get_frame
                self.clip.size, self.clip.fps = tuple(self.reader.size), self.reader.fps
            elif layer.kind == "freeze" or layer.pre_filter or layer.post_filter:
                picture = still_read(layer)
                self.clip = ImageClip(picture, transparent=False)
                self.still = picture
            elif layer.kind == "image":
                reader = FFMPEG_VideoReader(layer.path, check_duration=False, pixel_format="rgba" if layer.alpha
                                            else "rgb24", target_resolution=(layer.width, layer.height))
                picture = reader.last_read.copy()
                reader.close()
                self.clip = ImageClip(picture, transparent=False)
                self.still = picture
            else:  # text: an RGBA PNG drawn by the parent at its final size
                with Image.open(layer.path) as image:
                    picture = np.array(image.convert("RGBA"))
                self.clip = ImageClip(picture, transparent=False)
                self.still = picture
        except Exception as exc:
            raise SourceUnreadable(layer) from exc

    def close(self) -> None:
        self.step = None
        if self.reader is not None:
            self.reader.close()
            self.reader = None
        if self.clip is not None:
            self.clip.close()
            self.clip = None

    def picture(self, frame: int) -> np.ndarray:
        """The scaled picture for a timeline frame (RGB, or RGBA for titles and transparent images)."""
        if self.layer.steps:
            return self.step_picture(frame)
        if self.clip is None:
            self.open()
        if self.still is not None:
            return self.still
        return self.clip.get_frame(self.source_time(frame))

    def step_picture(self, frame: int) -> np.ndarray:
        """An animated title's image for a timeline frame (text.text_sequence), read when it changes."""
        layer, local = self.layer, frame - self.layer.start
        path = next((p for p, first, end in layer.steps if first <= local < end), layer.steps[-1][0])
        if self.step is None or self.step[0] != path:
            try:
                with Image.open(path) as image:
                    picture = np.array(image.convert("RGBA"))
                if layer.pre_filter or layer.post_filter or picture.shape[:2] != (layer.height, layer.width):
                    picture = still_read(layer, path)  # filtered or scaled by ffmpeg, as the ffmpeg path does
            except Exception as exc:
                raise SourceUnreadable(layer) from exc
            self.step = (path, picture)
        return self.step[1]

    def source_time(self, frame: int) -> float:
        layer = self.layer
        src_fps = layer.src_fps or self.fps
        # Half a source frame later: nearest-frame selection, as ffmpeg's fps filter does.
        if layer.speed != 1.0:
            # Re-timed: ffmpeg's fps filter puts source frame j in the output slot nearest its new time and
            # repeats it until the next one lands: the slot shows the last j whose slot is not later.
            index = max(0, math.ceil((frame - layer.start + 0.5) * layer.speed * src_fps / self.fps) - 1)
            played = (index + 0.5) / src_fps
        else:
            played = (frame - layer.start) / self.fps + 0.5 / src_fps
        return played if layer.reverse else layer.src_in + played

    def draw_animated(self, canvas: np.ndarray, frame: int) -> None:
        """An animated layer (motion.py): scaled, turned, faded, masked and placed for this frame."""
        layer = self.layer
        state = motion.layer_state(layer, frame, (canvas.shape[1], canvas.shape[0]))
        if state.opacity <= 0:
            return
        picture = self.picture(frame)
        # Drawn in YUV 4:2:0 on the ffmpeg path: the box and the picture in it land on even pixels.
        even = ~1 if motion.drawn_in_yuv(layer) else ~0
        if picture.shape[2] == 3 and state.opacity >= 1.0 and state.white <= 0 and not state.rotation % 360:
            self.draw_opaque(canvas, picture, state, even)
            return
        image = Image.fromarray(picture).convert("RGBA")
        if image.size != (state.width, state.height):
            # Bilinear, as the ffmpeg path's per-frame scale (the two bicubics differ in their kernels).
            image = image.resize((state.width, state.height), Image.Resampling.BILINEAR)
        left, top = state.left & even, state.top & even
        if layer.box_w:
            box = Image.new("RGBA", (state.box_w, state.box_h), (0, 0, 0, 0))
            box.paste(image, (((state.box_w - state.width) // 2) & even, ((state.box_h - state.height) // 2) & even))
            image = box.rotate(-state.rotation, resample=Image.Resampling.BILINEAR) if state.rotation % 360 else box
        # Only the part inside the frame goes on to numpy: a zoomed or turned box can be many frames big.
        box_w, box_h = image.size
        x0, y0 = max(0, -left), max(0, -top)
        x1, y1 = min(box_w, canvas.shape[1] - left), min(box_h, canvas.shape[0] - top)
        if x1 <= x0 or y1 <= y0:
            return
        rgba = np.asarray(image.crop((x0, y0, x1, y1)))
        alpha = rgba[:, :, 3].astype(np.float32) * state.opacity
        if state.mask:
            ys, xs = np.mgrid[y0:y1, x0:x1]
            alpha *= motion.mask_visible(state.mask, state.mask_q, state.mask_out, xs, ys, box_w, box_h)
        rgb = rgba[:, :, :3].astype(np.float32)
        if state.white > 0:
            rgb += (255 - rgb) * state.white
        blend_at(canvas, rgb, alpha / 255.0, left + x0, top + y0)

    def draw_opaque(self, canvas: np.ndarray, picture: np.ndarray, state: motion.LayerState, even: int) -> None:
        """`draw_animated` for an opaque picture at full opacity, not turned (a Ken Burns, a moving or masked
        clip): only the part inside the frame is scaled (the same pixels: Pillow's `box` keeps the sampling
        grid), and it is copied where it shows instead of blended through float RGBA (5× the time at 720p)."""
        box_left, box_top = state.left & even, state.top & even
        left, top = box_left, box_top
        if self.layer.box_w:
            left += ((state.box_w - state.width) // 2) & even
            top += ((state.box_h - state.height) // 2) & even
        x0, y0 = max(0, left), max(0, top)
        x1, y1 = min(canvas.shape[1], left + state.width), min(canvas.shape[0], top + state.height)
        if x1 <= x0 or y1 <= y0:
            return
        src_h, src_w = picture.shape[:2]
        if (src_w, src_h) == (state.width, state.height):
            part = picture[y0 - top : y1 - top, x0 - left : x1 - left]
        else:
            sx, sy = src_w / state.width, src_h / state.height
            box = ((x0 - left) * sx, (y0 - top) * sy, (x1 - left) * sx, (y1 - top) * sy)
            part = np.asarray(Image.fromarray(picture).resize((x1 - x0, y1 - y0), Image.Resampling.BILINEAR, box=box))
        region = canvas[y0:y1, x0:x1]
        if state.mask:
            ys, xs = np.ogrid[y0 - box_top : y1 - box_top, x0 - box_left : x1 - box_left]
            shown = motion.mask_visible(state.mask, state.mask_q, state.mask_out, xs, ys, state.box_w, state.box_h)
            np.copyto(region, part, where=np.broadcast_to(shown, region.shape[:2])[:, :, None])
        else:
            region[:] = part

    def visible(self, picture: np.ndarray) -> np.ndarray:
        return picture[self.src_y : self.src_y + self.vis_h, self.src_x : self.src_x + self.vis_w]

    def full_frame(self, frame: int) -> np.ndarray:
        """This layer as a whole canvas: the picture letterboxed with the background colour."""
        picture = self.picture(frame)
        if self.fills_canvas:
            return self.visible(picture)
        canvas = self.background.copy()
        self.blend_into(canvas, picture, 1.0)
        return canvas

    def blend_into(self, canvas: np.ndarray, picture: np.ndarray, opacity: float) -> None:
        region = canvas[self.dst_y : self.dst_y + self.vis_h, self.dst_x : self.dst_x + self.vis_w]
        picture = self.visible(picture)
        if picture.shape[2] == 4:
            alpha = picture[:, :, 3:4].astype(np.uint32) * round(opacity * 256)  # 0..65280
            rgb = picture[:, :, :3].astype(np.uint32)
            region[:] = ((rgb * alpha + region.astype(np.uint32) * (65280 - alpha) + 32640) // 65280).astype(np.uint8)
        elif opacity >= 1.0:
            region[:] = picture
        else:
            weight = round(opacity * 256)
            region[:] = ((picture.astype(np.uint16) * weight + region.astype(np.uint16) * (256 - weight) + 128)
                         >> 8).astype(np.uint8)


class Interval:
    """Frames [start, end) of the output with a fixed set of layers, bottom first."""

    def __init__(self, start: int, end: int, sources: list[LayerSource]) -> None:
        self.start, self.end, self.sources = start, end, sources

    def frame(self, frame: int, background: np.ndarray) -> np.ndarray:
        if not self.sources:
            return background
        layers = [(s, s.layer.opacity(frame)) for s in self.sources]
        # Start from the topmost layer that hides everything beneath it.
        base = 0
        for index in range(len(layers) - 1, -1, -1):
            source, opacity = layers[index]
            if opacity >= 1.0 and not source.layer.animated and (source.layer.full_frame or source.fills_canvas):
                base = index
                break
        else:
            base = -1
        if base >= 0:
            source, _ = layers[base]
            canvas = source.full_frame(frame)
            if base == len(layers) - 1:
                return canvas  # nothing above: the decoder's frame goes straight to the encoder
            canvas = canvas.copy()
        else:
            canvas = background.copy()
        for source, opacity in layers[base + 1 if base >= 0 else 0 :]:
            if source.layer.animated:
                source.draw_animated(canvas, frame)
                continue
            if opacity <= 0:
                continue
            if source.layer.full_frame:
                full = source.full_frame(frame)
                weight = round(opacity * 256)
                canvas[:] = ((full.astype(np.uint16) * weight + canvas.astype(np.uint16) * (256 - weight) + 128)
                             >> 8).astype(np.uint8)
            else:
                source.blend_into(canvas, source.picture(frame), opacity)
        return canvas


def intervals(plan: RenderPlan, sources: list[LayerSource]) -> list[Interval]:
    cuts = {0, plan.frames}
    for source in sources:
        layer = source.layer
        cuts.update((layer.start, layer.end, layer.start + layer.fade_in, layer.end - layer.fade_out))
    edges = sorted(c for c in cuts if 0 <= c <= plan.frames)
    result = []
    for start, end in itertools.pairwise(edges):
        active = [s for s in sources if s.layer.start <= start < s.layer.end]
        result.append(Interval(start, end, active))
    return result


def _sound_clip(part, number: int, rate: int, raw_dir: Path):
    """(opened source, the part as a moviepy clip placed on the timeline, or None when nothing plays)."""
    src_in = part.src_in
    source_path = part.path
    if part.speed != 1.0 or part.reverse:
        # moviepy has no pitch-keeping tempo change: the part's sound is re-timed by ffmpeg's
        # atempo (the same filters as the ffmpeg path), then mixed here like any other.
        source_path, src_in = str(retimed_sound(part, rate, raw_dir / f"part-{number}.wav")), 0.0
    source = AudioFileClip(source_path, fps=rate, nbytes=2)
    end = min(source.duration, src_in + part.length / rate)
    if src_in >= end:
        return source, None
    clip = source.subclipped(src_in, end)
    effects = []
    if part.volume != 1.0:
        effects.append(MultiplyVolume(part.volume))
    if part.fade_in:
        effects.append(AudioFadeIn(part.fade_in / rate))
    if part.fade_out:
        effects.append(AudioFadeOut(part.fade_out / rate))
    if effects:
        clip = clip.with_effects(effects)
    if part.keys:
        clip = clip.transform(volume_curve(part.keys, rate), keep_duration=True)
    return source, clip.with_start(part.start / rate)


def mix_audio(plan: RenderPlan, path: Path, errors: list[BaseException], *, alone: bool = False) -> None:
    """The soundtrack mixed with moviepy as 48 kHz stereo float32, encoded in the output format's sound codec
    (runs in a thread). `alone`: `path` is the delivered file (a sound-only format).

    Each part's source (an ffmpeg reader process) is opened when the mix reaches the part and closed after
    it: a timeline of many clips holds a few readers at a time, not one per clip (48 clips: 2.4 GB of RSS).
    """
    try:
        rate = plan.output.sample_rate
        raw_dir = path.parent
        opened: dict[int, tuple] = {}  # part number -> (source, clip or None), while the part plays
        done: set[int] = set()
        raw = path.with_suffix(".f32")
        with open(raw, "wb") as handle:
            position = 0
            while position < plan.samples:
                ahead = position + AUDIO_CHUNK
                for number, part in enumerate(plan.audio):
                    if (number not in opened and number not in done and part.start < ahead
                            and part.start + part.length > position):
                        opened[number] = _sound_clip(part, number, rate, raw_dir)
                # moviepy 2.2.1's FFMPEG_AudioReader.get_frame mishandles a request spanning more than half
                # its buffer (it recurses with a boolean mask as the times, and returns near-silence); a short
                # file has a short buffer, so keep every request within half of the smallest open one.
                count = min([AUDIO_CHUNK, plan.samples - position,
                             *(max(1, source.reader.buffersize // 2) for source, _clip in opened.values())])
                clips = [clip for number, (_source, clip) in opened.items() if clip is not None
                         and plan.audio[number].start < position + count]
                if clips:
                    chunk = np.asarray(CompositeAudioClip(clips).get_frame(np.arange(position, position + count)
                                                                           / rate), dtype=np.float32)
                    if chunk.ndim == 1:
                        chunk = np.repeat(chunk[:, None], 2, axis=1)
                else:
                    chunk = np.zeros((count, 2), dtype=np.float32)
                handle.write(np.ascontiguousarray(chunk[:, :2], dtype="<f4").tobytes())
                position += count
                for number in [n for n in opened if plan.audio[n].start + plan.audio[n].length <= position]:
                    opened.pop(number)[0].close()
                    done.add(number)
        for source, _clip in opened.values():
            source.close()
        # Encode the sound now, while the picture is still encoding: the final mux is then a stream copy.
        o = plan.output
        codec = format_sound_args(format_get(o.format), audio_bitrate=o.audio_bitrate, sample_rate=rate, alone=alone)
        subprocess.run(
            [FFMPEG_BINARY, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "f32le",
             "-ar", str(rate), "-ac", "2", "-i", str(raw), *codec, str(path)],
            check=True, stdin=subprocess.DEVNULL,
        )
        raw.unlink(missing_ok=True)
    except BaseException as exc:  # reported by the main thread
        errors.append(exc)


def retimed_sound(part, rate: int, out: Path) -> Path:
    seek = ["-ss", f"{part.src_in:.6f}"] if part.src_in > 0 else []
    seconds = (part.src_length or part.length / rate) + 0.1
    subprocess.run(
        [FFMPEG_BINARY, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *seek, "-t", f"{seconds:.6f}",
         "-i", part.path, "-vn", "-af", ",".join(motion.sound_timing(part, rate)), "-c:a", "pcm_f32le", str(out)],
        check=True, stdin=subprocess.DEVNULL,
    )
    return out


def volume_curve(points: list[list], rate: int):
    """A moviepy frame transform multiplying the sound by a keyframed volume curve (local samples)."""
    def apply(get_frame, t):
        chunk = get_frame(t)
        samples = np.atleast_1d(np.asarray(t, dtype=np.float64)) * rate
        factors = np.array([motion.curve_value(points, s) for s in samples], dtype=np.float32)
        return chunk * (factors[:, None] if np.ndim(chunk) == 2 else factors)
    return apply


def encoder_args(plan: RenderPlan, video_path: Path) -> list[str]:
    """The picture encoder, fed raw frames: the output format's own codec (formats.py, as the ffmpeg path)."""
    o = plan.output
    fmt = format_get(o.format)
    return [
        FFMPEG_BINARY, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{o.width}x{o.height}", "-framerate", o.fps_expr, "-i", "-",
        "-an", *format_picture_args(fmt, x264_preset=o.x264_preset, crf=o.crf, threads=o.threads, fps=o.fps,
                                    alone=not fmt.has_audio),
        str(video_path),
    ]


def mux_args(video_path: Path, audio_path: Path, out_path: Path, fmt_name: str = "mp4") -> list[str]:
    return [
        FFMPEG_BINARY, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(video_path),
        "-i", str(audio_path), "-map", "0:v", "-map", "1:a", "-c", "copy",
        *format_container_args(format_get(fmt_name)), str(out_path),
    ]


def composite(plan: RenderPlan, out_path: Path, poster_path: Path) -> None:
    """Composite and encode `plan` into `out_path` in the plan's output format, each stream encoded once in
    its final codec (formats.py): the picture from the frame pipe, the sound from the mix, joined by a
    stream copy. A format with one stream (gif, png, mp3, wav) is written straight to `out_path`."""
    work = out_path.parent
    fmt = format_get(plan.output.format)
    both = fmt.has_video and fmt.has_audio
    video_path = work / f"picture{fmt.extension}" if both else out_path
    audio_path = work / f"sound.{SOUND_PART_MUXER[fmt.name]}" if both else out_path
    audio_errors: list[BaseException] = []
    mixer = threading.Thread(target=mix_audio, args=(plan, audio_path, audio_errors),
                             kwargs={"alone": not both}, daemon=True)
    if not fmt.has_video:
        _say("mux")
        mixer.run()  # sound only: nothing to composite
        if audio_errors:
            raise audio_errors[0]
        return

    o = plan.output
    # A still (png) is one frame: only that one is composited.
    first, end = (0, plan.frames) if not fmt.still else (
        min(plan.frames - 1, round(o.still_at * o.fps)), min(plan.frames - 1, round(o.still_at * o.fps)) + 1)
    background = np.empty((o.height, o.width, 3), dtype=np.uint8)
    background[:] = o.background
    sources = [LayerSource(layer, plan, background) for layer in plan.layers]
    for source in sources:
        source.first_frame = max(source.first_frame, first)
    last_use = {id(s): s.layer.end for s in sources}
    encoder = subprocess.Popen(encoder_args(plan, video_path), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    assert encoder.stdin is not None
    _widen_pipe(encoder.stdin)
    written = 0
    try:
        for interval in intervals(plan, sources):
            if interval.end <= first or interval.start >= end:
                continue
            for frame in range(max(first, interval.start), min(end, interval.end)):
                picture = interval.frame(frame, background)
                if frame == plan.poster_frame:
                    Image.fromarray(np.ascontiguousarray(picture)).save(poster_path, format="JPEG", quality=90)
                encoder.stdin.write(np.ascontiguousarray(picture).data)
                written += 1
                _say(f"frame {written}")
                if written == AUDIO_AFTER_FRAMES and both:
                    # The sound starts once the picture pipeline runs: it finishes long before the
                    # picture does, and starting both at once only delays the first frames.
                    mixer.start()
            for source in interval.sources:
                if last_use[id(source)] <= interval.end:
                    source.close()
    finally:
        for source in sources:
            source.close()
        encoder.stdin.close()
    if encoder.wait() != 0:
        raise RuntimeError(f"the encoder exited with {encoder.returncode}")
    if not both:
        return
    if not mixer.is_alive() and mixer.ident is None:
        mixer.start()  # fewer frames than AUDIO_AFTER_FRAMES
    mixer.join()
    if audio_errors:
        raise audio_errors[0]
    _say("mux")
    subprocess.run(mux_args(video_path, audio_path, out_path, fmt.name), check=True, stdin=subprocess.DEVNULL)
    video_path.unlink(missing_ok=True)
    audio_path.unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    plan = RenderPlan.from_json(Path(argv[1]).read_text())
    started = time.monotonic()
    try:
        composite(plan, Path(argv[2]), Path(argv[3]))
    except SourceUnreadable as exc:
        _say(f"unreadable {plan.layers.index(exc.layer)}")
        raise
    sys.stderr.write(f"composited {plan.frames} frames in {time.monotonic() - started:.2f} s\n")
    _say("done")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
