"""Schema 2's composition fields, checked field by field (docs/timeline.md): transform, keyframes, adjust,
transitions in and out, speed/reverse/freeze and colour layers.

A mixin of the validator in validate.py: it uses the validator's typed readers (`number`, `choice`, ...)
so every problem is reported once, with its JSON path and a sentence, and the values come back canonical.
Every number is bounded, so no document can ask the renderer for more than the output's pixels (see
docs/rendering.md, "Memory").
"""

from __future__ import annotations

from typing import Any

from projects.timeline.document import DEFAULT_ADJUST, DEFAULT_TRANSFORM, EASES

MISSING = object()  # a value that was absent or refused (already reported); validate.py shares it

POSITION_RANGE = (-1.0, 2.0)  # clip centres may sit off-frame (slides, reveals), but not arbitrarily far
SCALE_RANGE = (0.01, 10.0)
ROTATION_LIMIT = 3600.0  # ten turns either way
CROP_MAX_TOTAL = 0.9  # left + right (top + bottom): at least a tenth of the source stays
SPEED_RANGE = (0.25, 4.0)
MAX_KEYFRAMES = 200  # per property
MAX_REVERSE_SECONDS = 10.0  # a reversed clip is decoded whole before it plays: bounded (docs/rendering.md)
ADJUST_RANGES = {"brightness": (-1.0, 1.0), "contrast": (0.0, 3.0), "saturation": (0.0, 3.0), "blur": (0.0, 50.0)}
KEYFRAME_RANGES = {
    "x": POSITION_RANGE, "y": POSITION_RANGE, "scale": SCALE_RANGE,
    "rotation": (-ROTATION_LIMIT, ROTATION_LIMIT), "opacity": (0.0, 1.0), "volume": (0.0, 2.0),
}
GRADIENT_ANGLE = (0.0, 360.0)


class CompositionChecks:
    """Checks for the fields schema 2 added to clips; mixed into the validator."""

    def transform(self, raw: Any, path: str) -> Any:
        value = self.obj(raw, path, "transform")
        if value is None:
            return MISSING
        self.unknown_keys(value, tuple(DEFAULT_TRANSFORM), path, "transform")
        low, high = POSITION_RANGE
        result = {
            "x": self.number(value, "x", path, default=DEFAULT_TRANSFORM["x"], minimum=low, maximum=high),
            "y": self.number(value, "y", path, default=DEFAULT_TRANSFORM["y"], minimum=low, maximum=high),
            "scale": self.number(value, "scale", path, default=DEFAULT_TRANSFORM["scale"], minimum=SCALE_RANGE[0],
                                 maximum=SCALE_RANGE[1]),
            "rotation": self.number(value, "rotation", path, default=DEFAULT_TRANSFORM["rotation"],
                                    minimum=-ROTATION_LIMIT, maximum=ROTATION_LIMIT),
            "opacity": self.number(value, "opacity", path, default=DEFAULT_TRANSFORM["opacity"], minimum=0,
                                   maximum=1),
            "crop": self.crop(value.get("crop", {}), f"{path}.crop"),
        }
        if MISSING in result.values():
            return MISSING
        return result

    def crop(self, raw: Any, path: str) -> Any:
        value = self.obj(raw, path, "crop")
        if value is None:
            return MISSING
        sides = ("left", "top", "right", "bottom")
        self.unknown_keys(value, sides, path, "crop")
        crop = {side: self.number(value, side, path, default=0.0, minimum=0, maximum=CROP_MAX_TOTAL)
                for side in sides}
        if MISSING in crop.values():
            return MISSING
        for first, second in (("left", "right"), ("top", "bottom")):
            if crop[first] + crop[second] > CROP_MAX_TOTAL + 1e-9:
                self.error(f"{path}.{second}", f"{first} + {second} ({crop[first] + crop[second]:.3g}) crop away more "
                                               f"than {CROP_MAX_TOTAL:.0%} of the picture; at least a tenth must stay")
                return MISSING
        return crop

    def keyframes(self, raw: Any, path: str, props: tuple[str, ...], length: Any) -> Any:
        value = self.obj(raw, path, "keyframes")
        if value is None:
            return MISSING
        self.unknown_keys(value, props, path, "keyframes")
        result: dict[str, Any] = {}
        for prop in props:
            if prop not in value:
                continue
            result[prop] = self.keyframe_list(value[prop], f"{path}.{prop}", prop, length)
        if MISSING in result.values():
            return MISSING
        return result

    def keyframe_list(self, raw: Any, path: str, prop: str, length: Any) -> Any:
        if not isinstance(raw, list) or not raw:
            self.error(path, f"{prop} keyframes must be a non-empty list of {{\"t\", \"v\", \"ease\"}}", "invalid_type")
            return MISSING
        if len(raw) > MAX_KEYFRAMES:
            self.error(path, f"too many {prop} keyframes: {len(raw)} (at most {MAX_KEYFRAMES} are allowed)", "limit")
            return MISSING
        low, high = KEYFRAME_RANGES[prop]
        frames, ok, previous = [], True, None
        for index, item in enumerate(raw):
            where = f"{path}.{index}"
            point = self.obj(item, where, "a keyframe")
            if point is None:
                ok = False
                continue
            self.unknown_keys(point, ("t", "v", "ease"), where, "a keyframe")
            t = self.number(point, "t", where, minimum=0)
            v = self.number(point, "v", where, minimum=low, maximum=high)
            ease = self.choice(point, "ease", where, EASES, default="linear")
            if MISSING in (t, v, ease):
                ok = False
                continue
            if length is not MISSING and t > length + 1e-3:
                self.error(f"{where}.t", f"t ({t:g}) is past the end of the clip ({length:g} s); keyframe times "
                                         "are seconds from the clip's start", "out_of_range")
                ok = False
                continue
            if previous is not None and t <= previous:
                self.error(f"{where}.t", f"t ({t:g}) must be after the previous keyframe's ({previous:g}); "
                                         "keyframes go in ascending time", "order")
                ok = False
                continue
            previous = t
            frames.append({"t": t, "v": v, "ease": ease})
        return frames if ok else MISSING

    def adjust(self, raw: Any, path: str) -> Any:
        value = self.obj(raw, path, "adjust")
        if value is None:
            return MISSING
        self.unknown_keys(value, tuple(DEFAULT_ADJUST), path, "adjust")
        result = {key: self.number(value, key, path, default=DEFAULT_ADJUST[key], minimum=low, maximum=high)
                  for key, (low, high) in ADJUST_RANGES.items()}
        return MISSING if MISSING in result.values() else result

    def transition_pair(self, value: dict[str, Any], path: str, length: Any) -> dict[str, Any]:
        """`transition` (in) and `transition_out`, each shorter than the clip, together too."""
        pair = {
            "transition": self.transition(value.get("transition"), f"{path}.transition", length),
        }
        if "transition_out" in value:
            out = self.transition(value.get("transition_out"), f"{path}.transition_out", length)
            if isinstance(out, dict) and out.get("type") in ("crossfade", "dissolve"):
                self.error(f"{path}.transition_out.type",
                           f"a {out['type']} belongs to the later clip's transition (in); transition_out plays "
                           "against what lies beneath", "invalid_choice")
                out = MISSING
            pair["transition_out"] = out
            first, second = pair["transition"], out
            if (isinstance(first, dict) and isinstance(second, dict) and length is not MISSING
                    and MISSING not in (first["duration"], second["duration"])
                    and first["duration"] + second["duration"] > length + 1e-3):
                self.error(f"{path}.transition_out.duration",
                           f"transition and transition_out ({first['duration'] + second['duration']:g} s together) "
                           f"are longer than the clip ({length:g} s)")
                pair["transition_out"] = MISSING
        return pair

    def composition(self, value: dict[str, Any], path: str, length: Any, *, sound: bool) -> dict[str, Any]:
        """The optional composition fields of a visual clip, canonical, only those given."""
        result: dict[str, Any] = {}
        if "transform" in value:
            result["transform"] = self.transform(value["transform"], f"{path}.transform")
        if "keyframes" in value:
            props = (*("x", "y", "scale", "rotation", "opacity"), *(("volume",) if sound else ()))
            result["keyframes"] = self.keyframes(value["keyframes"], f"{path}.keyframes", props, length)
        if "adjust" in value:
            result["adjust"] = self.adjust(value["adjust"], f"{path}.adjust")
        return result

    def speed_fields(self, value: dict[str, Any], path: str, clip: dict[str, Any]) -> Any:
        """speed and reverse of a video clip; returns its timeline length or MISSING."""
        speed = self.number(value, "speed", path, default=1.0, minimum=SPEED_RANGE[0], maximum=SPEED_RANGE[1])
        reverse = self.boolean(value, "reverse", path, default=False)
        if "speed" in value:
            clip["speed"] = speed
        if "reverse" in value:
            clip["reverse"] = reverse
        if MISSING in (clip.get("in"), clip.get("out"), speed):
            return MISSING
        source = clip["out"] - clip["in"]
        if reverse is True and source > MAX_REVERSE_SECONDS + 1e-3:
            self.error(f"{path}.reverse", f"a reversed clip may use at most {MAX_REVERSE_SECONDS:g} s of its source "
                                          f"(this one uses {source:g} s): it is held whole in memory to play "
                                          "backwards; split it into shorter clips", "limit")
        return source / speed

    def freeze(self, raw: Any, path: str, asset) -> Any:
        value = self.obj(raw, path, "freeze")
        if value is None:
            return MISSING
        self.unknown_keys(value, ("at", "duration"), path, "freeze")
        result = {"at": self.number(value, "at", path, minimum=0),
                  "duration": self.number(value, "duration", path, above=0)}
        at = result["at"]
        if at is not MISSING and asset is not None and asset.duration is not None and at >= asset.duration:
            self.error(f"{path}.at", f"at ({at:g}) is past the end of the asset ({asset.duration:g} s)", "out_of_range")
            result["at"] = MISSING
        return MISSING if MISSING in result.values() else result

    def gradient(self, raw: Any, path: str) -> Any:
        value = self.obj(raw, path, "gradient")
        if value is None:
            return MISSING
        self.unknown_keys(value, ("to", "angle"), path, "gradient")
        result = {"to": self.color(value, "to", path, default="#000000") if "to" in value else MISSING,
                  "angle": self.number(value, "angle", path, default=180.0, minimum=GRADIENT_ANGLE[0],
                                       maximum=GRADIENT_ANGLE[1])}
        if "to" not in value:
            self.error(f"{path}.to", "to is required (the colour the gradient ends at, #rrggbb)", "required")
        return MISSING if MISSING in result.values() else result

