"""Segment cache keys: a sha256 over what changes a segment's encoded bytes, and nothing else."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path

from jobs.render.plan import RenderPlan

_HASHES: dict[tuple[str, int, int], str] = {}


def content_hash(path: str | Path) -> str:
    """sha256 of a file's bytes, remembered per (path, size, mtime) within the process."""
    stat = os.stat(path)
    memo = (str(path), stat.st_size, stat.st_mtime_ns)
    if memo not in _HASHES:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1024 * 1024), b""):
                digest.update(block)
        _HASHES[memo] = digest.hexdigest()
    return _HASHES[memo]


def segment_key(sub: RenderPlan, encoder: list[str], known: dict[str, str] | None = None) -> str:
    """The cache key of a slice: what changes its encoded bytes, and nothing else."""
    # RENDERER_VERSION is the package's: read when called, so a bump (or a test's patch) there counts.
    from jobs.render import segments

    known = known or {}
    output = asdict(sub.output)
    output.pop("threads", None)  # any thread count gives a valid encoding of the same pictures
    layers = []
    for layer in sub.layers:
        data = asdict(layer)
        if layer.steps and len(layer.steps) > 1:
            data["path"] = "series"  # its playlist names scratch files: the pictures' bytes are what matter
        else:
            data["path"] = known.get(layer.path) or content_hash(layer.path)
        if layer.steps:
            data["steps"] = [[content_hash(png), first, end] for png, first, end in layer.steps]
        layers.append(data)
    document = {"renderer": segments.RENDERER_VERSION, "output": output, "frames": sub.frames, "layers": layers,
                "encoder": encoder}
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()
