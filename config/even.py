"""Even pixel sizes and positions: H.264 and H.265 in yuv420p need even widths and heights, and a picture
placed at an odd offset shifts its chroma by half a pixel. Plain Python: the compositor child imports it.

Three roundings, each for its use: `even_floor` (fit inside a limit, offsets), `even_round` (the nearest even
size; halves go up, as ffmpeg's expressions round, so both render paths agree), `even_ceil` (pad to even).
"""

from __future__ import annotations

import math


def even_floor(value: float, minimum: int | None = 2) -> int:
    """The largest even number <= value (and >= minimum, unless minimum is None: offsets may be negative)."""
    result = math.floor(value / 2) * 2
    return result if minimum is None else max(minimum, result)


def even_round(value: float, minimum: int = 2) -> int:
    """The nearest even number, halves up (5 -> 6, 4.9 -> 4), never below minimum."""
    return max(minimum, 2 * math.floor(value / 2 + 0.5))


def even_ceil(value: float, minimum: int = 2) -> int:
    """The smallest even number >= value, never below minimum."""
    return max(minimum, math.ceil(value / 2) * 2)
