"""The fast path: the whole plan as one `ffmpeg -filter_complex` invocation.

How the plan maps onto filters:
- Each video clip is its own input, seeked on the input side (`-ss`/`-t`: only the part used is decoded,
  which matters for long sources), brought to the output frame rate, scaled to its planned size,
  cropped/padded to its place and made exactly as many frames long as planned (`tpad` + `trim`).
  Images are scaled once and then repeated (`loop`), titles are one-frame inputs held by `overlay`.
- When the first track is a video track it becomes the base stream directly: its clips and background
  gaps joined by `concat`, crossfades by `xfade`, fades by `fade` to the background colour (no alpha,
  no overlay: the same shape as a hand-written command). Otherwise the base is the background colour.
- Every later track is overlaid in order: each video clip on its own (yuva420p, alpha ramps), delayed
  to its start; title images enabled over their frames.
- Audio: each part read from its own input (never the picture's: see build_audio), trimmed, resampled to
  48 kHz stereo, scaled, faded (`afade`, linear like moviepy's), delayed by whole samples and summed by
  `amix` without normalisation, padded/trimmed to the video length.
Progress comes from `-progress pipe:1`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from config.even import even_round
from config.tools import ffmpeg_exe
from jobs.render import motion
from jobs.render.errors import MediaUnreadable, RenderFailed
from jobs.render.formats import OutputFormat, format_encode_args, format_get, format_pix_fmt, format_video_tail
from jobs.render.plan import Layer, RenderPlan
from jobs.render.procs import ChildProcess
from jobs.render.progress import RenderMonitor

logger = logging.getLogger(__name__)

READ_TIMEOUT = 0.1


def _sec(value: float) -> str:
    return f"{max(0.0, value):.6f}"


@dataclass
class FilterGraph:
    plan: RenderPlan
    inputs: list[list[str]] = field(default_factory=list)
    input_owner: list[str] = field(default_factory=list)  # "clip c1 on track v1", per input
    chains: list[str] = field(default_factory=list)
    _labels: int = 0

    # --- plumbing ---
    def label(self, prefix: str) -> str:
        self._labels += 1
        return f"{prefix}{self._labels}"

    def add_input(self, args: list[str], owner: str) -> int:
        self.inputs.append(args)
        self.input_owner.append(owner)
        return len(self.inputs) - 1

    def chain(self, sources: list[str], filters: str, prefix: str = "v") -> str:
        out = self.label(prefix)
        self.chains.append("".join(f"[{s}]" for s in sources) + filters + f"[{out}]")
        return out

    @property
    def out(self):
        return self.plan.output

    # --- video pieces ---
    def gap(self, frames: int) -> str:
        o = self.out
        label = self.label("g")
        self.chains.append(
            f"color=c={o.background_hex}:s={o.width}x{o.height}:r={o.fps_expr}:d={_sec((frames + 1) / o.fps)},"
            f"format=yuv420p,trim=end_frame={frames},setsar=1[{label}]"
        )
        return label

    def placement(self, layer: Layer, *, pad: bool, alpha: bool) -> str:
        """crop/pad filters that put the scaled picture where the plan says."""
        o = self.out
        vis_x, vis_y = max(0, -layer.x), max(0, -layer.y)
        vis_w = min(layer.width - vis_x, o.width - max(0, layer.x))
        vis_h = min(layer.height - vis_y, o.height - max(0, layer.y))
        filters = []
        if (vis_w, vis_h) != (layer.width, layer.height):
            filters.append(f"crop={vis_w}:{vis_h}:{vis_x}:{vis_y}")
        if pad and (vis_w, vis_h) != (o.width, o.height):
            if layer.full_frame:
                color = f"{o.background_hex}@1.0" if alpha else o.background_hex
            else:
                color = "black@0.0"
            filters.append(f"pad={o.width}:{o.height}:{max(0, layer.x)}:{max(0, layer.y)}:color={color}")
        return ",".join(filters)

    def source(self, layer: Layer, *, fmt: str, shape: str) -> tuple[int, str]:
        """(input index, filters) giving exactly `layer.frames` frames of the clip's picture at the output
        rate: speed, reverse and freeze applied, then `shape` (crop, fit scale, place) and the layer's
        source filters around it."""
        o = self.out
        who = f"clip {layer.clip_id} on track {layer.track_id}"
        scale = ",".join(f for f in (layer.pre_filter, shape, layer.post_filter) if f)
        if layer.steps and len(layer.steps) > 1:
            # An animated title's images, each for its run of frames (text.text_sequence): the concat
            # demuxer's playlist times them, `fps` puts each on the output's frame grid.
            index = self.add_input(["-f", "concat", "-i", f"file:{layer.path}"], who)
            return index, (f"fps={o.fps_expr},{scale},format={fmt},setsar=1,tpad=stop=-1:stop_mode=clone,"
                           f"trim=end_frame={layer.frames},setpts=PTS-STARTPTS")
        if layer.kind in ("image", "text"):
            index = self.add_input(["-framerate", o.fps_expr, "-i", f"file:{layer.path}"], who)
            return index, (f"{scale},format={fmt},setsar=1,loop=loop=-1:size=1,setpts=N,"
                           f"trim=end_frame={layer.frames}")
        if layer.kind == "freeze":
            index = self.add_input(["-ss", _sec(layer.freeze_at or 0.0), "-t", "1", "-an", "-sn", "-dn",
                                    "-i", f"file:{layer.path}"], who)
            return index, (f"trim=end_frame=1,settb={o.fps_den}/{o.fps_num},setpts=PTS-STARTPTS,{scale},"
                           f"format={fmt},setsar=1,loop=loop=-1:size=1,setpts=N,trim=end_frame={layer.frames}")
        src_fps = layer.src_fps or o.fps
        # A tenth of a source frame early, so rounding never skips the planned first frame.
        seek = max(0.0, layer.src_in - 0.1 / src_fps)
        if layer.reverse:
            length = layer.src_length or layer.frames / o.fps * layer.speed
        else:
            length = layer.frames / o.fps * layer.speed + 3 / min(src_fps, o.fps)
        args = ["-ss", _sec(seek)] if seek > 0 else []
        # Picture only: the clip's sound gets its own input (see build_audio).
        index = self.add_input([*args, "-t", _sec(length), "-an", "-sn", "-dn", "-i", f"file:{layer.path}"], who)
        timing = ["setpts=PTS-STARTPTS"]
        if layer.reverse:
            timing.append("reverse")  # the clip is held whole: validation bounds its length
        if layer.speed != 1.0:
            timing.append(f"setpts=PTS/{layer.speed!r}")
        rate = f"fps={o.fps_expr}"
        # Scale after frame-rate conversion when it drops frames, before it when it repeats them.
        steps = [rate, scale] if src_fps / layer.speed > o.fps else [scale, rate]
        return index, (f"{','.join(timing)},{','.join(steps)},format={fmt},setsar=1,"
                       f"tpad=stop=-1:stop_mode=clone,trim=end_frame={layer.frames},setpts=PTS-STARTPTS")

    def segment(self, layer: Layer, *, pad: bool, alpha: bool, fade_in: bool) -> str:
        """Exactly `layer.frames` frames of a video/image clip at the output rate, placed and faded."""
        o = self.out
        fmt = "yuva420p" if alpha else "yuv420p"
        scale = f"scale={layer.width}:{layer.height}"
        place = self.placement(layer, pad=pad, alpha=alpha)
        shape = ",".join(f for f in (scale, place) if f)
        index, head = self.source(layer, fmt=fmt, shape=shape)
        fades = []
        if fade_in and layer.fade_in:
            fades.append(f"fade=t=in:s=0:n={layer.fade_in}" + (":alpha=1" if alpha else f":c={o.background_hex}"))
        if layer.fade_out:
            fades.append(f"fade=t=out:s={layer.frames - layer.fade_out}:n={layer.fade_out}"
                         + (":alpha=1" if alpha else f":c={o.background_hex}"))
        source = f"{index}:v"
        return self.chain([source], ",".join([head, *fades]), "s")

    def overlay_animated(self, canvas: str, layer: Layer) -> str:
        """A schema 2 layer: scaled, turned, faded, masked and moved frame by frame, as motion.py says."""
        o = self.out
        turning = bool(layer.rotation % 360) or bool((layer.keys or {}).get("rotation"))
        # Per-pixel expressions (geq) cost more than everything else in the graph together (3.5 s of CPU for
        # a 15-frame wipe at 720p): only what has no cheaper filter goes through them. A picture drawn in
        # YUV with alpha is overlaid in the canvas's own format; RGB (turned pictures: yuv420p would smear
        # a coloured edge over two pixels) converts the whole canvas to planar RGB and back.
        yuv = motion.drawn_in_yuv(layer)
        per_pixel = bool((layer.keys or {}).get("opacity")) or bool(
            set(motion._kinds(layer)) & {"fade_white", "circle_open"})
        fmt = "yuva420p" if yuv else "rgba"
        index, head = self.source(layer, fmt=fmt, shape=f"scale={layer.base_w}:{layer.base_h}")
        steps = [head]
        if not per_pixel:
            # Opacity and fading ramps on the picture's alpha, while every frame still has one size (the
            # filters' own frame counters are not reliable after a per-frame size change).
            if layer.static_opacity < 1.0:
                lut = "lutrgb" if fmt == "rgba" else "lutyuv"
                steps.append(f"{lut}=a='val*{max(0.0, layer.static_opacity)!r}+0.5'")
            kind_in, kind_out = motion._kinds(layer)
            if kind_in in motion.FADING and kind_in:
                steps.append(f"fade=t=in:s=0:n={layer.fade_in}:alpha=1")
            if kind_out in motion.FADING and kind_out:
                steps.append(f"fade=t=out:s={layer.frames - layer.fade_out}:n={layer.fade_out}:alpha=1")
        # Clip-local frame numbers from timestamps (the filters' own frame counters are not reliable
        # after a per-frame size change); the segment's clock starts at 0.
        n = f"floor(t*{o.fps_num}/{o.fps_den}+0.5)"
        size = (layer.base_w, layer.base_h)
        if motion.scale_animated(layer):
            factor = motion.scale_expr(layer, n)
            steps.append(f"scale=w='max(2,2*floor({layer.base_w}*({factor})/2+0.5))'"
                         f":h='max(2,2*floor({layer.base_h}*({factor})/2+0.5))':eval=frame:flags=bilinear")
        elif layer.scale != 1.0:
            size = (even_round(layer.base_w * min(layer.scale, layer.scale_cap)),
                    even_round(layer.base_h * min(layer.scale, layer.scale_cap)))
            steps.append(f"scale={size[0]}:{size[1]}:flags=bilinear")
        if layer.box_w and not turning:
            # A fixed-size box for the filters after a per-frame scale: the picture centred in it.
            steps.append(f"pad=w={layer.box_w}:h={layer.box_h}:x=(ow-iw)/2:y=(oh-ih)/2:color=black@0.0:eval=frame")
        elif layer.box_w:
            angle = motion._value_expr(layer, "rotation", n)
            # A transparent pixel around the picture: rotate samples up to a pixel past the edge, and
            # would stretch the picture's border there.
            steps.append("pad=w=iw+2:h=ih+2:x=1:y=1:color=black@0.0:eval=frame")
            steps.append(f"rotate=a='({angle})*PI/180':ow={layer.box_w}:oh={layer.box_h}:c=none:bilinear=1")
        if layer.box_w:
            size = (layer.box_w, layer.box_h)
        if per_pixel:
            big_n = f"floor(T*{o.fps_num}/{o.fps_den}+0.5)"
            alpha = f"alpha(X,Y)*({motion.opacity_expr(layer, big_n)})*({motion.mask_full_expr(layer, big_n)})"
            white = motion.white_expr(layer, big_n)
            if white:
                colour = ":".join(f"{c}='{c}(X,Y)+(255-{c}(X,Y))*({white})'" for c in ("r", "g", "b"))
            else:
                colour = "r='r(X,Y)':g='g(X,Y)':b='b(X,Y)'"
            windows = []
            if not ((layer.keys or {}).get("opacity") or layer.static_opacity < 1.0):
                # Only the transitions change the picture: geq (costly per pixel) runs on their frames alone.
                if layer.fade_in:
                    windows.append(f"lt({n},{layer.fade_in})")
                if layer.fade_out:
                    windows.append(f"gte({n},{layer.frames - layer.fade_out})")
            enable = f":enable='{'+'.join(windows)}'" if windows else ""
            steps.append(f"geq={colour}:a='{alpha}'{enable}")
        picture = self.chain([f"{index}:v"], ",".join(steps), "s")
        if not per_pixel:
            picture = self.wipes(picture, layer, size)
        return self.place_animated(canvas, picture, layer, rgb=not yuv)

    def wipes(self, picture: str, layer: Layer, size: tuple[int, int]) -> str:
        """Wipe masks drawn by `xfade` on the picture's alpha plane alone (against a transparent one): a copy
        per pixel, where geq evaluates an expression per pixel, and exact to the pixel where the colour
        planes of a 4:2:0 picture would wipe by pairs. motion.wipe_edge follows xfade's edges."""
        o = self.out
        kind_in, kind_out = motion._kinds(layer)
        xfade = {"wipe_left": "wipeleft", "wipe_right": "wiperight", "wipe_up": "wipeup", "wipe_down": "wipedown"}
        if kind_in not in xfade and kind_out not in xfade:
            return picture
        colour, alpha = self.label("k"), self.label("a")
        self.chains.append(f"[{picture}]split[{colour}][{alpha}]")
        mask = self.chain([alpha], "alphaextract", "a")
        clear = (f"color=c=black:s={size[0]}x{size[1]}:r={o.fps_expr}:d={{seconds}},format=gray,"
                 f"settb={o.fps_den}/{o.fps_num}")
        if kind_in in xfade:
            hidden = self.label("z")
            self.chains.append(clear.format(seconds=_sec((layer.fade_in + 1) / o.fps)) + f"[{hidden}]")
            # xfade also blends the frame after its duration, at progress 0 (a wipe_left then still hides
            # column 0): its frames stop before that one, the untouched alpha follows.
            after = layer.frames - layer.fade_in
            wiping, rest = (self.label("a"), self.label("a")) if after > 0 else (mask, "")
            if rest:
                self.chains.append(f"[{mask}]split[{wiping}][{rest}]")
            mask = self.chain([hidden, wiping], f"xfade=transition={xfade[kind_in]}"
                                                f":duration={_sec(layer.fade_in / o.fps)}:offset=0"
                                                f",trim=end_frame={layer.fade_in}", "w")
            if rest:
                tail = self.chain([rest], f"trim=start_frame={layer.fade_in},setpts=PTS-STARTPTS", "a")
                mask = self.chain([mask, tail], f"concat=n=2:v=1:a=0,settb={o.fps_den}/{o.fps_num}", "w")
        if kind_out in xfade:
            hidden = self.label("z")
            self.chains.append(clear.format(seconds=_sec((layer.fade_out + 1) / o.fps)) + f"[{hidden}]")
            start = layer.frames - layer.fade_out
            mask = self.chain([mask, hidden], f"xfade=transition={xfade[kind_out]}"
                                              f":duration={_sec(layer.fade_out / o.fps)}"
                                              f":offset={_sec(start / o.fps)},trim=end_frame={layer.frames}", "w")
        return self.chain([colour, mask], "alphamerge", "m")

    def place_animated(self, canvas: str, picture: str, layer: Layer, *, rgb: bool) -> str:
        o = self.out
        shifted = self.chain([picture], f"setpts=PTS+{layer.start}", "r")
        # The frame number from the timestamp: overlay's own frame counter is not the main stream's.
        local = f"(floor(t*{o.fps_num}/{o.fps_den}+0.5)-{layer.start})"
        cx = f"{motion._value_expr(layer, 'x', local)}+{motion.slide_expr(layer, local, 0, o.width)}"
        cy = f"{motion._value_expr(layer, 'y', local)}+{motion.slide_expr(layer, local, 1, o.height)}"
        box_w = layer.box_w or "w"
        box_h = layer.box_h or "h"
        x, y = f"floor({cx}-{box_w}/2+0.5)", f"floor({cy}-{box_h}/2+0.5)"
        # gbrp (the whole canvas converted to planar RGB and back) only for pictures drawn in RGB.
        blend = ":format=gbrp" if rgb else ""
        return self.chain([canvas, shifted], f"overlay=x='{x}':y='{y}'{blend}"
                                             ":eval=frame:eof_action=pass:repeatlast=0", "o")

    def join(self, layers: list[Layer], total: int) -> str:
        """The base stream: a track's clips and background gaps over `total` frames, `concat` and `xfade`."""
        pending: list[str] = []
        acc: str | None = None
        acc_frames = 0
        pending_frames = 0
        cursor = 0

        def flush() -> None:
            nonlocal acc, acc_frames, pending, pending_frames
            streams = ([acc] if acc else []) + pending
            if len(streams) > 1:
                acc = self.chain(streams, f"concat=n={len(streams)}:v=1:a=0", "c")
            elif streams:
                acc = streams[0]
            acc_frames += pending_frames
            pending, pending_frames = [], 0

        for i, layer in enumerate(layers):
            nxt = layers[i + 1] if i + 1 < len(layers) else None
            if nxt is not None and not nxt.crossfade and nxt.start < layer.end:
                # Overlapping without a transition (validation forbids it): the later clip cuts in.
                layer = Layer(**{**layer.__dict__, "end": max(layer.start + 1, nxt.start)})
            if layer.crossfade and (acc or pending):
                flush()
                overlap = min(layer.fade_in, acc_frames)
                seg = self.segment(layer, pad=True, alpha=False, fade_in=False)
                offset = (acc_frames - overlap) / self.out.fps
                acc = self.chain([acc, seg], f"xfade=transition=fade:duration={_sec(overlap / self.out.fps)}"
                                            f":offset={_sec(offset)}", "x")
                acc_frames += layer.frames - overlap
            else:
                if layer.start > cursor:
                    pending.append(self.gap(layer.start - cursor))
                    pending_frames += layer.start - cursor
                pending.append(self.segment(layer, pad=True, alpha=False, fade_in=True))
                pending_frames += layer.frames
            cursor = layer.end
        if cursor < total:
            pending.append(self.gap(total - cursor))
            pending_frames += total - cursor
        flush()
        assert acc is not None
        return acc

    def overlay_track(self, canvas: str, layers: list[Layer]) -> str:
        """A later track: each clip overlaid on its own, delayed to its start, fading by its alpha.

        One overlay per clip (rather than xfade within the track) keeps the compositing model exact:
        a crossfading clip ramps in over the previous one, which stays opaque beneath it.
        """
        for layer in layers:
            if layer.animated:
                canvas = self.overlay_animated(canvas, layer)
                continue
            # An opaque picture without ramps needs no alpha plane: overlay then copies its rows.
            alpha = layer.alpha or bool(layer.fade_in or layer.fade_out)
            stream = self.segment(layer, pad=layer.full_frame, alpha=alpha, fade_in=True)
            shifted = self.chain([stream], f"setpts=PTS+{layer.start}", "r")
            x, y = (0, 0) if layer.full_frame else (max(0, layer.x), max(0, layer.y))
            canvas = self.chain([canvas, shifted], f"overlay=x={x}:y={y}:eof_action=pass:repeatlast=0", "o")
        return canvas

    def overlay_texts(self, canvas: str, layers: list[Layer]) -> str:
        o = self.out
        for layer in layers:
            if (layer.animated or layer.pre_filter or layer.post_filter or layer.fade_in or layer.fade_out
                    or layer.steps):
                canvas = self.overlay_track(canvas, [layer])
                continue
            index = self.add_input(["-i", f"file:{layer.path}"], f"clip {layer.clip_id} on track {layer.track_id}")
            title = self.chain([f"{index}:v"], f"format=yuva420p,setpts={layer.start}*{o.fps_den}/({o.fps_num}*TB)",
                               "t")
            on, off = (layer.start - 0.5) / o.fps, (layer.end - 0.5) / o.fps
            canvas = self.chain([canvas, title],
                                f"overlay=x={layer.x}:y={layer.y}:enable='between(t,{on:.6f},{off:.6f})'", "o")
        return canvas

    def build_video(self, fmt: OutputFormat) -> str:
        plan = self.plan
        by_track: dict[int, list[Layer]] = {}
        for layer in plan.layers:
            by_track.setdefault(layer.track_index, []).append(layer)
        order = sorted(by_track)
        canvas: str | None = None
        above: list[Layer] = []
        if order and by_track[order[0]][0].kind != "text":
            # The first video track with nothing beneath it: its full-frame clips and the gaps between them
            # form the base directly (concat, xfade: no alpha, no overlay), unless a clip drawn before one
            # of them (a transformed or animated one) overlaps it; those are overlaid on the base in order.
            first = by_track[order[0]]
            base: list[Layer] = []
            for layer in first:
                beneath = [other for other in above if other.start < layer.end and layer.start < other.end]
                (base if layer.full_frame and not beneath else above).append(layer)
            if base:
                canvas = self.join(base, plan.frames)
                order = order[1:]
            else:
                above = []
        if canvas is None:
            canvas = self.gap(plan.frames)
        if above:
            canvas = self.overlay_track(canvas, above)
        for index in order:
            layers = by_track[index]
            if layers[0].kind == "text":
                canvas = self.overlay_texts(canvas, layers)
            else:
                canvas = self.overlay_track(canvas, layers)
        # The poster is taken from the finished file afterwards (runner.py): one output per run keeps
        # ffmpeg's scheduling simple, for ~0.1 s.
        tail = format_video_tail(fmt, still_frame=min(plan.frames - 1, round(plan.output.still_at * plan.output.fps)),
                                 fps=plan.output.fps)
        return self.chain([canvas], f"format={format_pix_fmt(fmt)}" + (f",{tail}" if tail else ""), "vout")

    def build_audio(self) -> str:
        plan, o = self.plan, self.out
        rate = o.sample_rate
        parts = []
        for part in plan.audio:
            who = f"clip {part.clip_id} on track {part.track_id}"
            # Every sound part reads its own input, even a video clip's sound. Sharing the picture's input
            # made the mix (which needs every part from output time 0, delayed or not) pull a later clip's
            # packets early, and with them its decoded pictures, which then waited for their crossfade:
            # up to 750 MB instead of 260 MB at 720p, now and then.
            args = ["-ss", _sec(part.src_in)] if part.src_in > 0 else []
            source_seconds = part.src_length or part.length / rate
            index = self.add_input([*args, "-t", _sec(source_seconds + 0.1), "-vn", "-sn", "-dn",
                                    "-i", f"file:{part.path}"], who)
            filters = ["asetpts=PTS-STARTPTS", *motion.sound_timing(part, rate), "apad",
                       f"atrim=end_sample={part.length}"]
            if part.volume != 1.0:
                filters.append(f"volume={part.volume:.6f}")
            if part.keys:
                curve = motion.curve_expr(part.keys, f"(t*{rate})")
                filters.append(f"volume=volume='{curve}':eval=frame")
            if part.fade_in:
                filters.append(f"afade=t=in:ss=0:ns={part.fade_in}")
            if part.fade_out:
                filters.append(f"afade=t=out:ss={part.length - part.fade_out}:ns={part.fade_out}")
            if part.start:
                filters.append(f"adelay=delays={part.start}S:all=1")
            parts.append(self.chain([f"{index}:a"], ",".join(filters), "a"))
        if not parts:
            self.chains.append(f"anullsrc=r={rate}:cl=stereo,atrim=end_sample={plan.samples}[aout]")
            return "aout"
        mixed = parts[0] if len(parts) == 1 else self.chain(
            parts, f"amix=inputs={len(parts)}:normalize=0:dropout_transition=0:duration=longest", "m")
        self.chains.append(f"[{mixed}]apad,atrim=end_sample={plan.samples}[aout]")
        return "aout"

    def command(self, out_path: Path, graph_path: Path, extra_args: list[str] | None = None) -> list[str]:
        o = self.out
        fmt = format_get(o.format)
        video = self.build_video(fmt) if fmt.has_video else None
        audio = self.build_audio() if fmt.has_audio else None
        graph_path.write_text(";\n".join(self.chains))
        args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y",
                "-progress", "pipe:1", "-stats_period", "0.2"]
        for item in self.inputs:
            args += item
        args += ["-/filter_complex", str(graph_path)]
        for label in (video, audio):
            if label:
                args += ["-map", f"[{label}]"]
        args += format_encode_args(fmt, x264_preset=o.x264_preset, crf=o.crf, threads=o.threads,
                                   audio_bitrate=o.audio_bitrate, sample_rate=o.sample_rate)
        return [*args, *(extra_args or []), str(out_path)]


_INPUT_ERROR = re.compile(r"(?:in#|input #?|Input #)(\d+)", re.IGNORECASE)


def _failure(graph: FilterGraph, log: str) -> Exception:
    """The error for a failed ffmpeg run: an input it could not read names its clip."""
    lowered = log.lower()
    unreadable = any(word in lowered for word in (
        "invalid data found", "error opening input", "could not find codec", "moov atom not found",
        "error while decoding", "end of file", "no such file",
    ))
    match = _INPUT_ERROR.search(log)
    if unreadable and match and int(match.group(1)) < len(graph.input_owner):
        return MediaUnreadable(f"{graph.input_owner[int(match.group(1))]}: the media file cannot be read.")
    return RenderFailed("The encoder failed while rendering the timeline.")


def render_with_ffmpeg(plan: RenderPlan, out_path: Path, work_dir: Path, monitor: RenderMonitor,
                       extra_args: list[str] | None = None) -> None:
    """Encode `plan` to `out_path` with one ffmpeg process in its own process group (`extra_args`: output
    options after the codec's, e.g. the segment cache's -force_key_frames)."""
    graph = FilterGraph(plan)
    args = graph.command(out_path, work_dir / "graph.txt", extra_args)
    monitor.encode_started()
    monitor.encode_progress(0.0, f"Encoding frame 0 of {plan.frames}")
    child = ChildProcess(args, log_path=work_dir / "ffmpeg.log", cwd=work_dir)
    try:
        while not child.eof:
            for line in child.read_lines(READ_TIMEOUT):
                key, _, value = line.partition("=")
                if key == "frame" and value.strip().isdigit():
                    frame = min(int(value), plan.frames)
                    monitor.encode_progress(frame / plan.frames, f"Encoding frame {frame} of {plan.frames}")
                elif key == "out_time_us" and value.strip().isdigit() and not format_get(plan.output.format).has_video:
                    # Sound-only formats report no frames: follow the written time instead.
                    done = min(1.0, int(value) / 1e6 / max(plan.duration, 1e-6))
                    monitor.encode_progress(done, f"Encoding sound, {done:.0%}")
            monitor.check()
        code = child.wait(timeout=30)
    finally:
        child.stop()
    if code != 0:
        log = child.log_tail()
        logger.error("ffmpeg render failed (exit %s): %s", code, log)
        raise _failure(graph, log)
