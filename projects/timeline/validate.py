"""Validation of the timeline document into its canonical form.

`timeline_validate` walks the whole document and collects every problem (not just the first), each
with the JSON path of the offending value and a sentence a person understands. When nothing is wrong
it returns the canonical document: defaults filled, numbers as floats (sizes as ints), colours in
lower case, so stored documents compare and render the same however they were written.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from rest_framework import status

from config.exceptions import CutlineError, ErrorItem
from projects.timeline.captions import captions_track_validate
from projects.timeline.composition import MISSING as _MISSING
from projects.timeline.composition import CompositionChecks
from projects.timeline.document import (
    DEFAULT_OUTPUT,
    DEFAULT_TEXT_STYLE,
    DEFAULT_VIEW,
    FITS,
    NEIGHBOUR_TRANSITIONS,
    POSITIONS,
    SCHEMA_VERSION,
    SCHEMAS_ACCEPTED,
    TRACK_KINDS,
    TRANSITIONS,
    timeline_duration,
)
from projects.timeline.output_format import OUTPUT_FIELDS, output_format_check, output_format_extra
from projects.timeline.text_style import STYLE_FIELDS, text_style_extra

# Probed durations and hand-typed times disagree in the last digits (2.0 vs 2.0213 s); a millisecond
# is below one frame at any allowed fps, so it is the tolerance for "past the end" and "overlaps".
EPSILON = 0.001

MAX_ID_LENGTH = 64
MAX_TEXT_LENGTH = 500
MAX_LABEL_LENGTH = 200
MAX_MARKERS = 1000
MAX_DEPTH = 12  # the deepest path is timeline.tracks.N.clips.N.keyframes.x.N.ease
MAX_VOLUME = 2.0
MIN_FPS, MAX_FPS = 1.0, 60.0
MIN_SIZE = 16
TEXT_SIZE_RANGE = (8, 512)
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
# Track switches (docs/timeline.md, "Track switches"): `muted` is schema 1 and always stored on tracks with
# sound; the others are stored only when given. Captions tracks take `hidden` and `locked` (captions.py).
TRACK_SWITCHES = {"video": ("muted", "solo", "hidden", "locked"), "audio": ("muted", "solo", "locked"),
                  "text": ("hidden", "locked")}

# A whole asset_id written as `{{name}}`: the project is a template (docs/automation.md).
MERGE_FIELD = re.compile(r"^\{\{\s*[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}\s*\}\}$")


class TimelineInvalid(CutlineError):
    """The document breaks CONTRACT §2; `errors` holds one item per problem, paths prefixed `timeline.`."""

    error_code = "INVALID_TIMELINE"
    http_status = status.HTTP_400_BAD_REQUEST
    error_type = "validation_error"

    def __init__(self, problems: list[ErrorItem]) -> None:
        first = problems[0].detail if problems else "the timeline is invalid"
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(f"The timeline is invalid: {first}{more}.", errors=problems)


def _finite(value: int | float) -> bool:
    """False for NaN, infinities and integers too large to be a float (they cannot be a time or a size)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _fmt(value: float) -> str:
    """12.0 → "12.0", 2.02133 → "2.021", 1280 → "1280": numbers in messages as a person would write them."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return repr(round(float(value), 3))


def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


@dataclass
class _Asset:
    id: str
    name: str
    kind: str
    duration: float | None
    has_audio: bool


@dataclass
class _Placed:
    """A clip that passed its own checks, for the checks across clips of one track."""

    index: int
    id: str
    start: float
    end: float
    transition: dict[str, Any] | None
    path: str


class _Validator(CompositionChecks):
    def __init__(self, owner) -> None:
        self.owner = owner
        self.problems: list[ErrorItem] = []
        self.assets: dict[str, _Asset] = {}
        self.clip_ids: dict[str, str] = {}
        self.clip_count = 0

    # --- reporting -------------------------------------------------------------------------------------
    def error(self, path: str, detail: str, code: str = "invalid") -> None:
        attr = f"timeline.{path}" if path else "timeline"
        self.problems.append(ErrorItem(detail=detail, attr=attr, code=code))

    def storable(self, root: dict[str, Any]) -> bool:
        """Refuse what PostgreSQL's jsonb cannot store (NUL characters) and absurd nesting, before anything else.

        Iterative on purpose: the document came from a JSON parser that allows nesting close to Python's
        recursion limit.
        """
        ok = True
        stack: list[tuple[str, Any, int]] = [("", root, 0)]
        while stack:
            path, value, depth = stack.pop()
            if depth > MAX_DEPTH:
                self.error(path, f"the timeline is nested too deeply (more than {MAX_DEPTH} levels)", "invalid")
                return False
            if isinstance(value, dict):
                items = list(value.items())
            elif isinstance(value, list):
                items = list(enumerate(value))
            else:
                items = []
                if isinstance(value, str) and "\x00" in value:
                    self.error(path, "text must not contain NUL characters", "null_characters_not_allowed")
                    ok = False
            for key, child in items:
                child_path = f"{path}.{key}" if path else str(key)
                if isinstance(key, str) and "\x00" in key:
                    self.error(path or "", "field names must not contain NUL characters", "null_characters_not_allowed")
                    ok = False
                    continue
                stack.append((child_path, child, depth + 1))
        return ok

    # --- typed field readers: return the canonical value, or _MISSING after reporting ------------------
    def obj(self, value: Any, path: str, what: str) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.error(path, f"{what} must be an object (got {_kind_of(value)})", "invalid_type")
            return None
        return value

    def unknown_keys(self, value: dict[str, Any], allowed: tuple[str, ...], path: str, what: str) -> None:
        for key in value:
            if key not in allowed:
                self.error(
                    f"{path}.{key}" if path else str(key),
                    f"{what} has no field '{key}' (allowed: {', '.join(allowed)})",
                    "unknown_field",
                )

    def number(
        self,
        value: dict[str, Any],
        key: str,
        path: str,
        *,
        default: Any = _MISSING,
        minimum: float | None = None,
        above: float | None = None,
        maximum: float | None = None,
        whole: bool = False,
    ) -> Any:
        where = f"{path}.{key}" if path else key
        raw = value.get(key, _MISSING)
        if raw is _MISSING or (raw is None and default is not _MISSING):
            if default is _MISSING:
                self.error(where, f"{key} is required", "required")
            return default
        if isinstance(raw, int) and not isinstance(raw, bool) and not _finite(raw):
            self.error(where, f"{key} is far too large to be a number here", "out_of_range")
            return _MISSING
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not _finite(raw):
            self.error(where, f"{key} must be a number (got {_kind_of(raw)})", "invalid_type")
            return _MISSING
        if whole and not float(raw).is_integer():
            self.error(where, f"{key} must be a whole number (got {_fmt(raw)})", "invalid_type")
            return _MISSING
        number = int(raw) if whole else float(raw)
        if minimum is not None and number < minimum:
            if minimum == 0:
                self.error(where, f"{key} ({_fmt(number)}) must not be negative", "out_of_range")
            else:
                self.error(where, f"{key} ({_fmt(number)}) must be at least {_fmt(minimum)}", "out_of_range")
            return _MISSING
        if above is not None and number <= above:
            self.error(where, f"{key} ({_fmt(number)}) must be greater than {_fmt(above)}", "out_of_range")
            return _MISSING
        if maximum is not None and number > maximum:
            self.error(where, f"{key} ({_fmt(number)}) must be at most {_fmt(maximum)}", "out_of_range")
            return _MISSING
        return number

    def string(
        self, value: dict[str, Any], key: str, path: str, *, default: Any = _MISSING, max_length: int,
        allow_empty: bool = False,
    ) -> Any:
        where = f"{path}.{key}" if path else key
        raw = value.get(key, _MISSING)
        if raw is _MISSING:
            if default is _MISSING:
                self.error(where, f"{key} is required", "required")
            return default
        if not isinstance(raw, str):
            self.error(where, f"{key} must be text (got {_kind_of(raw)})", "invalid_type")
            return _MISSING
        if not raw.strip() and not allow_empty:
            self.error(where, f"{key} must not be empty", "invalid")
            return _MISSING
        if len(raw) > max_length:
            self.error(where, f"{key} is {len(raw)} characters long; at most {max_length} are allowed", "too_long")
            return _MISSING
        return raw

    def choice(self, value: dict[str, Any], key: str, path: str, choices: tuple[str, ...], *, default: Any = _MISSING):
        where = f"{path}.{key}" if path else key
        raw = value.get(key, _MISSING)
        if raw is _MISSING:
            if default is _MISSING:
                self.error(where, f"{key} is required (one of {', '.join(choices)})", "required")
            return default
        if raw not in choices:
            shown = f"'{raw}'" if isinstance(raw, str) else _kind_of(raw)
            self.error(where, f"{key} must be one of {', '.join(choices)} (got {shown})", "invalid_choice")
            return _MISSING
        return raw

    def boolean(self, value: dict[str, Any], key: str, path: str, *, default: bool) -> Any:
        raw = value.get(key, default)
        if not isinstance(raw, bool):
            self.error(f"{path}.{key}", f"{key} must be true or false (got {_kind_of(raw)})", "invalid_type")
            return _MISSING
        return raw

    def color(self, value: dict[str, Any], key: str, path: str, *, default: str) -> Any:
        raw = value.get(key, default)
        if not isinstance(raw, str) or not COLOR_RE.match(raw):
            shown = f"'{raw}'" if isinstance(raw, str) else _kind_of(raw)
            self.error(f"{path}.{key}", f"{key} must be a colour written #rrggbb (got {shown})", "invalid")
            return _MISSING
        return raw.lower()

    # --- the document ------------------------------------------------------------------------------------
    def document(self, document: Any) -> dict[str, Any]:
        root = self.obj(document, "", "the timeline")
        if root is None:
            return {}
        if not self.storable(root):
            return {}
        self.unknown_keys(root, ("schema", "output", "tracks", "markers", "view"), "", "the timeline")
        schema = root.get("schema", SCHEMA_VERSION)
        if schema not in SCHEMAS_ACCEPTED or isinstance(schema, bool):
            self.error("schema", f"schema must be 1 or 2 (this server understands schema {SCHEMA_VERSION}, and "
                                 "schema 1 documents as they are)")
        self._load_assets(root)
        output = self.output(root.get("output", {}))
        tracks = self.tracks(root.get("tracks", []))
        markers = self.markers(root.get("markers", []))
        view = self.view(root.get("view", {}))
        output_format_check(self, output, timeline_duration({"tracks": tracks}))
        return {"schema": SCHEMA_VERSION, "output": output, "tracks": tracks, "markers": markers, "view": view}

    def _load_assets(self, root: dict[str, Any]) -> None:
        """One query for every asset the document names; only the owner's assets are visible."""
        from projects.models import MediaAsset  # the models import this package for timeline_empty

        wanted = set()
        tracks = root.get("tracks")
        for track in tracks if isinstance(tracks, list) else []:
            clips = track.get("clips") if isinstance(track, dict) else None
            for clip in clips if isinstance(clips, list) else []:
                raw = clip.get("asset_id") if isinstance(clip, dict) else None
                parsed = _parse_uuid(raw)
                if parsed:
                    wanted.add(parsed)
        if not wanted or self.owner is None:
            return
        rows = MediaAsset.objects.filter(owner=self.owner, id__in=wanted).values(
            "id", "name", "kind", "duration", "has_audio"
        )
        for row in rows:
            key = str(row["id"])
            self.assets[key] = _Asset(key, row["name"], row["kind"], row["duration"], row["has_audio"])

    def output(self, raw: Any) -> dict[str, Any]:
        value = self.obj(raw, "output", "output")
        if value is None:
            return dict(DEFAULT_OUTPUT)
        self.unknown_keys(value, ("width", "height", "fps", "background", *OUTPUT_FIELDS), "output", "output")
        out = {
            "width": self.number(value, "width", "output", default=DEFAULT_OUTPUT["width"], whole=True,
                                 minimum=MIN_SIZE, maximum=settings.TIMELINE_MAX_WIDTH),
            "height": self.number(value, "height", "output", default=DEFAULT_OUTPUT["height"], whole=True,
                                  minimum=MIN_SIZE, maximum=settings.TIMELINE_MAX_HEIGHT),
            "fps": self.number(value, "fps", "output", default=DEFAULT_OUTPUT["fps"], minimum=MIN_FPS,
                               maximum=MAX_FPS),
            "background": self.color(value, "background", "output", default=DEFAULT_OUTPUT["background"]),
            **output_format_extra(self, value),
        }
        for key in ("width", "height"):
            if isinstance(out[key], int) and out[key] % 2:
                self.error(f"output.{key}", f"{key} ({out[key]}) must be an even number (H.264 needs even sizes)")
        if isinstance(out["fps"], float) and out["fps"].is_integer():
            out["fps"] = int(out["fps"])
        return out

    def tracks(self, raw: Any) -> list[dict[str, Any]]:
        if not isinstance(raw, list):
            self.error("tracks", f"tracks must be a list (got {_kind_of(raw)})", "invalid_type")
            return []
        if len(raw) > settings.TIMELINE_MAX_TRACKS:
            self.error("tracks", f"too many tracks: {len(raw)} (at most {settings.TIMELINE_MAX_TRACKS} are allowed)",
                       "limit")
        track_ids: dict[str, str] = {}
        tracks = []
        ends: list[tuple[float, str]] = []
        for index, item in enumerate(raw):
            path = f"tracks.{index}"
            track = self.track(item, path, track_ids)
            if track is not None:
                tracks.append(track)
                ends.extend((clip_end, clip_path) for clip_end, clip_path in track.pop("_ends"))
        if self.clip_count > settings.TIMELINE_MAX_CLIPS:
            self.error("tracks", f"too many clips: {self.clip_count} (at most {settings.TIMELINE_MAX_CLIPS} are "
                                 "allowed)", "limit")
        if ends:
            end, path = max(ends)
            if end > settings.TIMELINE_MAX_DURATION + EPSILON:
                self.error(path, f"this clip ends at {_fmt(end)} s, past the longest allowed timeline "
                                 f"({_fmt(settings.TIMELINE_MAX_DURATION)} s)", "limit")
        return tracks

    def track(self, raw: Any, path: str, track_ids: dict[str, str]) -> dict[str, Any] | None:
        value = self.obj(raw, path, "a track")
        if value is None:
            return None
        track_id = self.string(value, "id", path, max_length=MAX_ID_LENGTH)
        if isinstance(track_id, str):
            if track_id in track_ids:
                self.error(f"{path}.id", f"track id '{track_id}' is used twice (also by {track_ids[track_id]})",
                           "duplicate")
            else:
                track_ids[track_id] = path
        if value.get("kind") == "captions":
            return captions_track_validate(self, value, path, track_id)
        kind = self.choice(value, "kind", path, TRACK_KINDS)
        switches = TRACK_SWITCHES.get(kind, ("muted",))
        allowed = ("id", "kind", *switches, "clips")
        article = "an" if kind == "audio" else "a"
        self.unknown_keys(value, allowed, path, f"{article} {kind} track" if kind in TRACK_KINDS else "a track")
        track: dict[str, Any] = {"id": track_id, "kind": kind}
        if kind in ("video", "audio"):
            track["muted"] = self.boolean(value, "muted", path, default=False)
        self.track_switches(value, path, track, switches)
        label = track_id if isinstance(track_id, str) else path
        clips_raw = value.get("clips", [])
        if not isinstance(clips_raw, list):
            self.error(f"{path}.clips", f"clips must be a list (got {_kind_of(clips_raw)})", "invalid_type")
            clips_raw = []
        clips, placed, all_placed = [], [], True
        for index, item in enumerate(clips_raw):
            clip_path = f"{path}.clips.{index}"
            self.clip_count += 1
            clip = self.clip(item, clip_path, kind)
            spot = clip.pop("_placed", None) if clip is not None else None
            if clip is not None:
                clips.append(clip)
            if spot is None:
                all_placed = False
            else:
                placed.append(_Placed(index=index, path=clip_path, **spot))
        # A clip whose own times or transition are unusable cannot be judged against its neighbours;
        # judging the rest without it would report overlaps and crossfades that are not really wrong.
        if all_placed:
            self.overlaps(placed, label)
        track["clips"] = clips
        track["_ends"] = [(spot.end, spot.path) for spot in placed]
        return track

    def track_switches(self, value: dict[str, Any], path: str, track: dict[str, Any],
                       switches: tuple[str, ...]) -> None:
        """`solo`, `hidden`, `locked` as given (absent ones are not added: old clients read back what they wrote)."""
        for key in switches:
            if key != "muted" and key in value:
                track[key] = self.boolean(value, key, path, default=False)

    # --- clips ---------------------------------------------------------------------------------------------
    def clip(self, raw: Any, path: str, track_kind: Any) -> dict[str, Any] | None:
        value = self.obj(raw, path, "a clip")
        if value is None:
            return None
        clip_id = self.string(value, "id", path, max_length=MAX_ID_LENGTH)
        if isinstance(clip_id, str):
            if clip_id in self.clip_ids:
                self.error(f"{path}.id", f"clip id '{clip_id}' is used twice (also by {self.clip_ids[clip_id]})",
                           "duplicate")
            else:
                self.clip_ids[clip_id] = path
        if track_kind == "text":
            clip = self.text_clip(value, path)
        elif track_kind == "audio":
            clip = self.audio_clip(value, path)
        elif track_kind == "video":
            clip = self.video_clip(value, path)
        else:
            return None  # the track's kind is already reported; its clips cannot be judged
        clip = {"id": clip_id, **clip}
        clip["_placed"] = _placement(clip)
        return clip

    def asset(self, value: dict[str, Any], path: str, track_kind: str) -> tuple[Any, _Asset | None]:
        raw = value.get("asset_id", _MISSING)
        where = f"{path}.asset_id"
        if raw is _MISSING:
            self.error(where, "asset_id is required", "required")
            return _MISSING, None
        parsed = _parse_uuid(raw)
        if parsed is None and isinstance(raw, str) and MERGE_FIELD.fullmatch(raw.strip()):
            return raw, None  # a template's merge field: resolved and checked when rendered (jobs/merge.py)
        if parsed is None:
            shown = f"'{raw[:40]}'" if isinstance(raw, str) else _kind_of(raw)
            self.error(where, f"asset_id must be a media asset id (a UUID), got {shown}", "invalid_type")
            return _MISSING, None
        asset = self.assets.get(parsed)
        if asset is None:
            # The same words whether the id is unknown or someone else's: existence is not revealed.
            self.error(where, f"asset {parsed} is not in your media library", "unknown_asset")
            return parsed, None
        if track_kind == "video" and asset.kind not in ("video", "image"):
            self.error(where, f"asset '{asset.name}' is {asset.kind}; a video track takes video or image assets",
                       "wrong_kind")
            return parsed, None
        if track_kind == "audio" and asset.kind != "audio":
            self.error(where, f"asset '{asset.name}' is {asset.kind}; an audio track takes audio assets",
                       "wrong_kind")
            return parsed, None
        return parsed, asset

    def source_range(self, value: dict[str, Any], path: str, asset: _Asset | None) -> tuple[Any, Any]:
        source_in = self.number(value, "in", path, minimum=0)
        source_out = self.number(value, "out", path, minimum=0)
        if source_in is _MISSING or source_out is _MISSING:
            return source_in, source_out
        if source_out <= source_in:
            self.error(f"{path}.out", f"out ({_fmt(source_out)}) must be after in ({_fmt(source_in)})")
            return source_in, _MISSING
        if asset is not None and asset.duration is not None:
            if source_in >= asset.duration - EPSILON:
                self.error(f"{path}.in", f"in ({_fmt(source_in)}) is past the end of the asset "
                                         f"({_fmt(asset.duration)} s)")
                return _MISSING, source_out
            if source_out > asset.duration + EPSILON:
                self.error(f"{path}.out", f"out ({_fmt(source_out)}) is past the end of the asset "
                                          f"({_fmt(asset.duration)} s)")
                return source_in, _MISSING
        return source_in, source_out

    VISUAL_FIELDS = ("transition", "transition_out", "transform", "keyframes", "adjust")

    def video_clip(self, value: dict[str, Any], path: str) -> dict[str, Any]:
        if "color" in value and "asset_id" not in value:
            return self.colour_clip(value, path)
        asset_id, asset = self.asset(value, path, "video")
        is_image = asset.kind == "image" if asset else ("duration" in value and "in" not in value)
        clip: dict[str, Any] = {"asset_id": asset_id, "start": self.number(value, "start", path, minimum=0)}
        if is_image:
            self.unknown_keys(value, ("id", "asset_id", "start", "duration", "fit", *self.VISUAL_FIELDS), path,
                              "an image clip (it uses duration, not in/out)")
            clip["duration"] = self.number(value, "duration", path, above=0)
            length = clip["duration"]
        elif "freeze" in value:
            self.unknown_keys(value, ("id", "asset_id", "start", "freeze", "fit", *self.VISUAL_FIELDS), path,
                              "a freeze-frame clip (it uses freeze, not in/out)")
            clip["freeze"] = self.freeze(value["freeze"], f"{path}.freeze", asset)
            length = clip["freeze"]["duration"] if isinstance(clip["freeze"], dict) else _MISSING
        else:
            self.unknown_keys(value, ("id", "asset_id", "start", "in", "out", "volume", "fit", "speed", "reverse",
                                      "fade_in", "fade_out", *self.VISUAL_FIELDS), path,
                              "a video clip (it uses in/out, not duration)")
            clip["in"], clip["out"] = self.source_range(value, path, asset)
            clip["volume"] = self.number(value, "volume", path, default=1.0, minimum=0, maximum=MAX_VOLUME)
            length = self.speed_fields(value, path, clip)
            self.sound_fades(value, path, clip, length)
        clip["fit"] = self.choice(value, "fit", path, FITS, default="contain")
        clip.update(self.transition_pair(value, path, length))
        clip.update(self.composition(value, path, length, sound=not is_image and "freeze" not in value))
        return clip

    def colour_clip(self, value: dict[str, Any], path: str) -> dict[str, Any]:
        self.unknown_keys(value, ("id", "color", "gradient", "start", "duration", *self.VISUAL_FIELDS), path,
                          "a colour clip")
        clip: dict[str, Any] = {
            "color": self.color(value, "color", path, default="#000000"),
            "start": self.number(value, "start", path, minimum=0),
            "duration": self.number(value, "duration", path, above=0),
        }
        if "gradient" in value:
            clip["gradient"] = self.gradient(value["gradient"], f"{path}.gradient")
        clip.update(self.transition_pair(value, path, clip["duration"]))
        clip.update(self.composition(value, path, clip["duration"], sound=False))
        return clip

    def sound_fades(self, value: dict[str, Any], path: str, clip: dict[str, Any], length: Any) -> None:
        """fade_in / fade_out of a video clip's own sound (only stored when given: schema 1 had neither)."""
        for key in ("fade_in", "fade_out"):
            if key in value:
                clip[key] = self.number(value, key, path, default=0.0, minimum=0)
        fades = (clip.get("fade_in", 0.0), clip.get("fade_out", 0.0))
        if length is not _MISSING and _MISSING not in fades and sum(fades) > length + EPSILON:
            self.error(f"{path}.fade_out", f"fade_in + fade_out ({_fmt(sum(fades))} s) are longer than the clip "
                                           f"({_fmt(length)} s)")
            clip["fade_out"] = _MISSING

    def audio_clip(self, value: dict[str, Any], path: str) -> dict[str, Any]:
        self.unknown_keys(value, ("id", "asset_id", "start", "in", "out", "volume", "fade_in", "fade_out"), path,
                          "an audio clip")
        asset_id, asset = self.asset(value, path, "audio")
        clip: dict[str, Any] = {"asset_id": asset_id, "start": self.number(value, "start", path, minimum=0)}
        clip["in"], clip["out"] = self.source_range(value, path, asset)
        clip["volume"] = self.number(value, "volume", path, default=1.0, minimum=0, maximum=MAX_VOLUME)
        clip["fade_in"] = self.number(value, "fade_in", path, default=0.0, minimum=0)
        clip["fade_out"] = self.number(value, "fade_out", path, default=0.0, minimum=0)
        if _MISSING not in (clip["in"], clip["out"], clip["fade_in"], clip["fade_out"]):
            length = clip["out"] - clip["in"]
            if clip["fade_in"] + clip["fade_out"] > length + EPSILON:
                self.error(f"{path}.fade_out", f"fade_in + fade_out ({_fmt(clip['fade_in'] + clip['fade_out'])} s) "
                                               f"are longer than the clip ({_fmt(length)} s)")
                clip["fade_out"] = _MISSING
        return clip

    def text_clip(self, value: dict[str, Any], path: str) -> dict[str, Any]:
        self.unknown_keys(value, ("id", "text", "start", "duration", "style", *self.VISUAL_FIELDS), path,
                          "a text clip")
        clip: dict[str, Any] = {
            "text": self.string(value, "text", path, max_length=MAX_TEXT_LENGTH),
            "start": self.number(value, "start", path, minimum=0),
            "duration": self.number(value, "duration", path, above=0),
            "style": self.style(value.get("style", {}), f"{path}.style"),
        }
        if "transition" in value or "transition_out" in value:
            clip.update(self.transition_pair(value, path, clip["duration"]))
            if clip.get("transition", _MISSING) is None:
                del clip["transition"]
        clip.update(self.composition(value, path, clip["duration"], sound=False))
        return clip

    def style(self, raw: Any, path: str) -> dict[str, Any]:
        value = self.obj(raw, path, "style")
        if value is None:
            return {"size": _MISSING}
        self.unknown_keys(value, ("size", "color", "position", *STYLE_FIELDS), path, "style")
        style = {
            "size": self.number(value, "size", path, default=DEFAULT_TEXT_STYLE["size"], whole=True,
                                minimum=TEXT_SIZE_RANGE[0], maximum=TEXT_SIZE_RANGE[1]),
            "color": self.color(value, "color", path, default=DEFAULT_TEXT_STYLE["color"]),
            "position": self.position(value.get("position", DEFAULT_TEXT_STYLE["position"]), f"{path}.position"),
            **text_style_extra(self, value, path),
        }
        return style

    def position(self, raw: Any, path: str) -> Any:
        if isinstance(raw, str):
            if raw in POSITIONS:
                return raw
            self.error(path, f"position must be one of {', '.join(POSITIONS)} or {{\"x\": 0..1, \"y\": 0..1}} "
                             f"(got '{raw}')", "invalid_choice")
            return _MISSING
        value = self.obj(raw, path, "position")
        if value is None:
            return _MISSING
        self.unknown_keys(value, ("x", "y"), path, "position")
        return {
            "x": self.number(value, "x", path, minimum=0, maximum=1),
            "y": self.number(value, "y", path, minimum=0, maximum=1),
        }

    def transition(self, raw: Any, path: str, clip_length: Any) -> Any:
        if raw is None:
            return None
        value = self.obj(raw, path, "transition")
        if value is None:
            return _MISSING
        self.unknown_keys(value, ("type", "duration"), path, "transition")
        transition = {
            "type": self.choice(value, "type", path, TRANSITIONS),
            "duration": self.number(value, "duration", path, above=0),
        }
        if clip_length is not _MISSING and transition["duration"] is not _MISSING:
            if transition["duration"] > clip_length + EPSILON:
                self.error(f"{path}.duration", f"the transition ({_fmt(transition['duration'])} s) is longer than "
                                               f"its clip ({_fmt(clip_length)} s)")
                transition["duration"] = _MISSING
        return transition

    # --- across the clips of one track -------------------------------------------------------------------
    def overlaps(self, placed: list[_Placed], track_label: str) -> None:
        """Clips of one track may overlap only by a crossfade with the previous clip, by exactly its length."""
        ordered = sorted(placed, key=lambda spot: (spot.start, spot.index))
        furthest: _Placed | None = None  # the clip reaching furthest right among those before `previous`
        previous: _Placed | None = None
        for spot in ordered:
            transition = spot.transition or {}
            kind = transition.get("type")
            # crossfade/dissolve always pair with the previous clip; the other types do when the clip
            # overlaps it, and otherwise play against what lies beneath.
            overlapping = previous is not None and previous.end > spot.start + EPSILON
            if kind in NEIGHBOUR_TRANSITIONS or (kind not in (None, "fade") and overlapping):
                self.crossfade(spot, previous, furthest, track_label, transition["duration"], kind)
            else:
                reach = max((c for c in (furthest, previous) if c is not None), key=lambda c: c.end, default=None)
                if reach is not None and reach.end > spot.start + EPSILON:
                    self.error(f"{spot.path}.start",
                               f"clip {spot.id} overlaps clip {reach.id} on track {track_label} by "
                               f"{_fmt(reach.end - spot.start)} s; clips of one track may overlap only by a crossfade",
                               "overlap")
            if previous is not None and (furthest is None or previous.end > furthest.end):
                furthest = previous
            previous = spot

    def crossfade(self, spot: _Placed, previous: _Placed | None, furthest: _Placed | None, track_label: str,
                  duration: float, kind: str = "crossfade") -> None:
        path = f"{spot.path}.transition"
        if previous is None:
            self.error(path, f"clip {spot.id} has a {kind} but no earlier clip on track {track_label} to fade "
                             "from", "transition")
            return
        overlap = previous.end - spot.start
        if abs(overlap - duration) > EPSILON:
            if overlap <= EPSILON:
                actual = "does not overlap it" if overlap > -EPSILON else f"starts {_fmt(-overlap)} s after it ends"
            else:
                actual = f"overlaps it by {_fmt(overlap)} s"
            self.error(f"{path}.duration",
                       f"a {kind} of {_fmt(duration)} s needs clip {spot.id} to overlap the previous clip "
                       f"{previous.id} by exactly {_fmt(duration)} s, but it {actual}", "transition")
        if furthest is not None and furthest.end > spot.start + EPSILON:
            self.error(f"{spot.path}.start",
                       f"clip {spot.id} overlaps clip {furthest.id} on track {track_label} by "
                       f"{_fmt(furthest.end - spot.start)} s; a {kind} may overlap only the clip just before it",
                       "overlap")

    # --- editor state ------------------------------------------------------------------------------------
    def markers(self, raw: Any) -> list[dict[str, Any]]:
        if not isinstance(raw, list):
            self.error("markers", f"markers must be a list (got {_kind_of(raw)})", "invalid_type")
            return []
        if len(raw) > MAX_MARKERS:
            self.error("markers", f"too many markers: {len(raw)} (at most {MAX_MARKERS} are allowed)", "limit")
            return []
        markers = []
        for index, item in enumerate(raw):
            path = f"markers.{index}"
            value = self.obj(item, path, "a marker")
            if value is None:
                continue
            self.unknown_keys(value, ("time", "label"), path, "a marker")
            markers.append({
                "time": self.number(value, "time", path, minimum=0),
                "label": self.string(value, "label", path, default="", max_length=MAX_LABEL_LENGTH, allow_empty=True),
            })
        return markers

    def view(self, raw: Any) -> dict[str, Any]:
        value = self.obj(raw, "view", "view")
        if value is None:
            return dict(DEFAULT_VIEW)
        # Other keys are the editor's own state: kept as they are, never rendered.
        view = dict(value)
        view["current_time"] = self.number(value, "current_time", "view", default=DEFAULT_VIEW["current_time"],
                                           minimum=0)
        view["zoom"] = self.number(value, "zoom", "view", default=DEFAULT_VIEW["zoom"], above=0)
        return view


def _parse_uuid(raw: Any) -> str | None:
    if not isinstance(raw, str):
        return None
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        return None


def _placement(clip: dict[str, Any]) -> dict[str, Any] | None:
    """Where a valid-timed clip sits on its track; None when its times or transition are unusable.

    Other faults (an unknown asset, say) do not stop the clip being judged against its neighbours.
    """
    start = clip.get("start")
    speed = clip.get("speed", 1.0)
    if "freeze" in clip:
        length = clip["freeze"]["duration"] if isinstance(clip["freeze"], dict) else _MISSING
    elif "duration" in clip:
        length = clip["duration"]
    elif "out" in clip:
        length = _MISSING if _MISSING in (clip["in"], clip["out"], speed) else (clip["out"] - clip["in"]) / speed
    else:
        length = _MISSING
    transition = clip.get("transition")
    if start is _MISSING or length is _MISSING:
        return None
    if transition is _MISSING or (isinstance(transition, dict) and _MISSING in transition.values()):
        return None
    if any(clip.get(key) is _MISSING for key in ("transition_out", "transform", "keyframes", "adjust", "gradient")):
        return None
    return {"id": clip["id"] if isinstance(clip["id"], str) else "?", "start": start, "end": start + length,
            "transition": transition}


def timeline_validate(document: Any, *, owner) -> dict[str, Any]:
    """The canonical form of `document`, or `TimelineInvalid` listing every problem.

    Assets are looked up among `owner`'s only: another user's asset reads exactly like a missing one.
    """
    validator = _Validator(owner)
    canonical = validator.document(document)
    if validator.problems:
        raise TimelineInvalid(validator.problems)
    for track in canonical["tracks"]:
        track.pop("_ends", None)
    return canonical
