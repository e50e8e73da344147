"""The segmented path: the plan cut into a few seconds' segments, each encoded once and cached, then joined.

Segments are cut only at hard boundaries: frames where no transition, fade, crossfade overlap, animated,
reversed or speed-changed clip spans the cut, so a segment rendered on its own shows exactly the frames the
whole-plan graph would (`plan_slice` gives each part of a cut clip its own `src_in`). Each segment is an
ordinary single-graph render (ffmpeg_graph.FilterGraph) of its slice, video only; the sound is mixed once for
the whole timeline (one AAC stream: no priming gap at the joins) and muxed with the segments, which the
concat demuxer joins by stream copy.

A segment's cache key is a sha256 over the renderer version, the output settings, the encoder arguments and
the slice with every file named by its content hash, so a changed title (a new PNG), a changed input file or
a new RENDERER_VERSION misses, and nothing else does. smart.py may replace segments over plain cuts of
matching sources with stream-copied GOPs.

Modules: slicing.py (where a plan may be cut, the slices, the list of segments), keys.py (cache keys),
encode.py (one segment, the sound mix), join.py (the stream-copy join), store.py (a single-graph render's
segments into the cache), strategy.py (segmented or one graph, and why), render.py (the segmented render).
"""

from __future__ import annotations

from jobs.render.segments.encode import audio_encode, run_ffmpeg, segment_encode, video_encoder_args
from jobs.render.segments.join import MUX_TIMEOUT, segments_join
from jobs.render.segments.keys import content_hash, segment_key
from jobs.render.segments.render import PART_POLL, SegmentedReport, render_segmented
from jobs.render.segments.slicing import Segment, cut_allowed, plan_slice, segments_plan, segments_split
from jobs.render.segments.store import segments_force_keys, segments_store
from jobs.render.segments.strategy import segmented_refine, segmented_suits, segmented_why

# Bump whenever a change to the renderer changes the pixels or the bitstream of a segment. It lives here, on
# the package, and segment_key reads it from here when called, so there is one place to bump (or patch).
RENDERER_VERSION = "1"

__all__ = [
    "MUX_TIMEOUT", "PART_POLL", "RENDERER_VERSION", "Segment", "SegmentedReport", "audio_encode", "content_hash",
    "cut_allowed", "plan_slice", "render_segmented", "run_ffmpeg", "segment_encode", "segment_key",
    "segmented_refine", "segmented_suits", "segmented_why", "segments_force_keys", "segments_join",
    "segments_plan", "segments_split", "segments_store", "video_encoder_args",
]
