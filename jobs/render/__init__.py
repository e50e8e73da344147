"""The renderer: timeline document → MP4 (see docs/rendering.md).

Public API (briefs/interfaces.md)::

    from jobs.render import render_timeline, AssetSource, RenderResult, Progress, preset_output
    from jobs.render.errors import MediaMissing, MediaUnreadable, RenderFailed, RenderTimeout, RenderCanceled

Exports load lazily: the moviepy compositor runs as `python -m jobs.render.compositor` in a child
process that must not import Django.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jobs.render.presets import preset_output
    from jobs.render.runner import render_timeline
    from jobs.render.values import AssetSource, Progress, RenderResult

__all__ = ["AssetSource", "Progress", "RenderResult", "preset_output", "render_timeline"]

_HOMES = {
    "render_timeline": "jobs.render.runner",
    "preset_output": "jobs.render.presets",
    "AssetSource": "jobs.render.values",
    "Progress": "jobs.render.values",
    "RenderResult": "jobs.render.values",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'jobs.render' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(home), name)
