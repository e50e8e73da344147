"""Validation of `captions` tracks (docs/text-and-captions.md), called from the validator's `track()`.

A captions track shows subtitles burned into the picture, styled like text (`style`, the same fields as a
text clip's; captions default to the bottom, on a translucent box). The cues come either from a subtitles
asset (`asset_id`, shifted by `offset` seconds) or inline (`cues: [{start, end, text}]`), never both.
"""

from __future__ import annotations

from typing import Any

MAX_INLINE_CUES = 2000
MAX_CUE_TEXT = 500
CAPTION_FIELDS = ("id", "kind", "hidden", "locked", "asset_id", "offset", "cues", "style")
# What a captions track looks like unless its style says otherwise (the renderer also wraps captions at 90 %
# of the frame's width when no max_width is given).
CAPTION_STYLE = {"size": 40, "position": "bottom",
                 "background": {"color": "#000000", "opacity": 0.6, "padding": 8, "radius": 6}}


def captions_track_validate(v: Any, value: dict[str, Any], path: str, track_id: Any) -> dict[str, Any]:
    """The canonical captions track (with an empty `_ends`: captions never lengthen the timeline)."""
    v.unknown_keys(value, CAPTION_FIELDS, path, "a captions track")
    track: dict[str, Any] = {"id": track_id, "kind": "captions"}
    v.track_switches(value, path, track, ("hidden", "locked"))
    has_asset, has_cues = "asset_id" in value, "cues" in value
    if has_asset == has_cues:
        v.error(path, "a captions track needs either asset_id (a subtitles asset) or cues, not both" if has_asset
                else "a captions track needs either asset_id (a subtitles asset) or cues", "required")
    if has_asset:
        track["asset_id"] = _subtitles_asset(v, value.get("asset_id"), f"{path}.asset_id")
        track["offset"] = v.number(value, "offset", path, default=0.0)
    if has_cues:
        track["cues"] = _cues(v, value.get("cues"), f"{path}.cues")
    given = value.get("style", {})
    track["style"] = v.style({**CAPTION_STYLE, **given} if isinstance(given, dict) else given, f"{path}.style")
    track["_ends"] = []
    return track


def _subtitles_asset(v: Any, raw: Any, path: str) -> Any:
    from projects.models import MediaAsset  # the models import this package for timeline_empty
    from projects.timeline.validate import _parse_uuid

    parsed = _parse_uuid(raw)
    if parsed is None:
        v.error(path, "asset_id must be the id of a subtitles asset", "invalid")
        return raw
    row = None
    if v.owner is not None:
        row = MediaAsset.objects.filter(owner=v.owner, id=parsed).values("kind", "name").first()
    if row is None:
        v.error(path, "no such asset in your library", "unknown_asset")
    elif row["kind"] != MediaAsset.Kind.SUBTITLES:
        v.error(path, f"asset '{row['name']}' is {row['kind']}; a captions track takes a subtitles asset "
                      "(.srt or .vtt)", "wrong_kind")
    return parsed


def _cues(v: Any, raw: Any, path: str) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        v.error(path, "cues must be a list of {start, end, text}", "invalid_type")
        return []
    if len(raw) > MAX_INLINE_CUES:
        v.error(path, f"too many cues: {len(raw)} (at most {MAX_INLINE_CUES}; upload a subtitles file instead)",
                "limit")
        return []
    cues = []
    for index, item in enumerate(raw):
        where = f"{path}.{index}"
        cue = v.obj(item, where, "a cue")
        if cue is None:
            continue
        v.unknown_keys(cue, ("start", "end", "text"), where, "a cue")
        start = v.number(cue, "start", where, minimum=0)
        end = v.number(cue, "end", where, above=0)
        text = v.string(cue, "text", where, max_length=MAX_CUE_TEXT)
        if isinstance(start, float) and isinstance(end, float) and end <= start:
            v.error(f"{where}.end", f"end ({round(end, 3)}) must be after start ({round(start, 3)})", "out_of_range")
        cues.append({"start": start, "end": end, "text": text})
    return cues
