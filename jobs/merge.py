"""Templates and merge fields: `{{name}}` in a project's timeline, replaced by a render's `merge` values.

Placeholders are replaced in every string of the tracks (text, captions, styles…) except clip and track
`id`s and `kind`s. In an asset reference (`asset_id`) the merged value may be an asset id or the name of
one of the user's uploaded assets. The merged document is then validated like any timeline, and each
problem that comes from a merged value names the merge key it came from: `attr` is the request field
(`merge.name`, or `items.3.merge.name` in a batch) and the detail starts with the timeline path.

Without `merge`, text placeholders render as written (a plain project may show braces), but a
placeholder asset reference cannot be rendered and is reported.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from typing import Any

from config.exceptions import ErrorItem
from projects.timeline import TimelineInvalid, timeline_duration, timeline_validate

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_][A-Za-z0-9_.\-]{0,63})\s*\}\}")
KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}$")
MAX_KEYS = 50
MAX_VALUE_LENGTH = 1000
ASSET_KEYS = frozenset({"asset_id"})
UNMERGED_KEYS = frozenset({"id", "kind"})


def merge_key_for(merge: dict[str, Any] | None) -> str:
    """A digest of the merge values ("" for none): part of the one-active-job-per-project constraint."""
    if not merge:
        return ""
    return hashlib.sha256(json.dumps(merge, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def merge_values_check(merge: Any, *, attr: str) -> list[ErrorItem]:
    if not isinstance(merge, dict):
        return [ErrorItem(detail="merge must be an object of names to values", attr=attr, code="invalid_type")]
    problems = []
    if len(merge) > MAX_KEYS:
        problems.append(ErrorItem(detail=f"at most {MAX_KEYS} merge fields", attr=attr, code="too_many"))
    for key, value in merge.items():
        where = f"{attr}.{key}"
        if not KEY.match(key):
            problems.append(ErrorItem(detail="merge field names use letters, digits, _ . - (at most 64)",
                                      attr=where, code="invalid"))
        elif isinstance(value, bool) or not isinstance(value, (str, int, float)):
            problems.append(ErrorItem(detail="a merge value must be text or a number", attr=where,
                                      code="invalid_type"))
        elif isinstance(value, str) and len(value) > MAX_VALUE_LENGTH:
            problems.append(ErrorItem(detail=f"at most {MAX_VALUE_LENGTH} characters", attr=where,
                                      code="max_length"))
        elif isinstance(value, str) and "\x00" in value:
            problems.append(ErrorItem(detail="NUL characters are not allowed", attr=where,
                                      code="null_characters_not_allowed"))
    return problems


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class _Merger:
    def __init__(self, merge: dict[str, Any] | None, *, owner, attr: str) -> None:
        self.merge = merge
        self.owner = owner
        self.attr = attr
        self.origins: dict[str, set[str]] = {}  # timeline path → merge keys whose values went into it
        self.problems: list[ErrorItem] = []

    def walk(self, value: Any, path: str, key: str | None) -> Any:
        if isinstance(value, dict):
            return {k: self.walk(v, f"{path}.{k}", k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.walk(v, f"{path}.{i}", None) for i, v in enumerate(value)]
        if isinstance(value, str) and key not in UNMERGED_KEYS and "{{" in value:
            return self.string(value, path, key)
        return value

    def string(self, value: str, path: str, key: str | None) -> str:
        names = PLACEHOLDER.findall(value)
        if not names:
            return value
        is_asset = key in ASSET_KEYS
        if self.merge is None and not is_asset:
            return value  # no merge given: text shows the placeholder as written
        missing = [name for name in names if name not in (self.merge or {})]
        if missing:
            listed = ", ".join(f"'{name}'" for name in dict.fromkeys(missing))
            self.problems.append(ErrorItem(
                detail=f"{{{{{missing[0]}}}}} needs a value: add {listed} to merge", attr=f"timeline.{path}",
                code="missing_merge_field"))
            return value
        self.origins[path] = set(names)
        merged = PLACEHOLDER.sub(lambda m: _text(self.merge[m.group(1)]), value)
        return self.asset(merged, path, names) if is_asset else merged

    def asset(self, value: str, path: str, names: list[str]) -> str:
        """An asset id stays; otherwise the name of exactly one of the user's assets is replaced by its id."""
        try:
            return str(uuid.UUID(value))
        except ValueError:
            pass
        from projects.models import MediaAsset

        ids = list(MediaAsset.objects.filter(owner=self.owner, name=value).values_list("id", flat=True)[:2])
        where = f"{self.attr}.{names[0]}"
        if not ids:
            self.problems.append(ErrorItem(
                detail=f"timeline.{path}: no asset with the id or name '{value[:80]}' in your media library",
                attr=where, code="unknown_asset"))
            return value
        if len(ids) > 1:
            self.problems.append(ErrorItem(
                detail=f"timeline.{path}: several of your assets are named '{value[:80]}'; use the asset id",
                attr=where, code="ambiguous_asset"))
            return value
        return str(ids[0])

    def blame(self, item: ErrorItem) -> ErrorItem:
        """Name the merge key behind a validation problem of the merged document, when one is."""
        path = (item.attr or "").removeprefix("timeline.").removeprefix("timeline")
        for origin, keys in self.origins.items():
            clip = origin.rsplit(".", 1)[0]
            same_field = path == origin or path.startswith(origin + ".")
            same_asset_clip = origin.endswith(".asset_id") and path.startswith(clip + ".")
            if same_field or same_asset_clip:
                key = sorted(keys)[0]
                return ErrorItem(detail=f"timeline.{path} (from {{{{{key}}}}}): {item.detail}",
                                 attr=f"{self.attr}.{key}", code=item.code)
        return item


def timeline_merge_validate(timeline: dict[str, Any], merge: dict[str, Any] | None, *, owner,
                            attr: str = "merge") -> dict[str, Any]:
    """The canonical, merged timeline ready to render, or TimelineInvalid naming paths and merge keys."""
    if merge is not None:
        problems = merge_values_check(merge, attr=attr)
        if problems:
            raise TimelineInvalid(problems)
    merger = _Merger(merge, owner=owner, attr=attr)
    document = dict(timeline)
    if isinstance(timeline.get("tracks"), list):
        document["tracks"] = merger.walk(timeline["tracks"], "tracks", "tracks")
    if merger.problems:
        raise TimelineInvalid(merger.problems)
    try:
        canonical = timeline_validate(document, owner=owner)
    except TimelineInvalid as exc:
        raise TimelineInvalid([merger.blame(item) for item in exc.errors]) from None
    if timeline_duration(canonical) <= 0:
        # Valid to save (an editor starts empty), but there is nothing to render.
        raise TimelineInvalid([ErrorItem(detail="the timeline is empty: add a clip before rendering",
                                         attr="timeline.tracks", code="empty")])
    return canonical
