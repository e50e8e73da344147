"""`GET /api/presets`: the render presets, their labels and the sizes they produce."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from jobs.labels import PRESET_LABELS
from jobs.render.presets import PRESETS, preset_box


def _size(width: int, height: int) -> dict[str, int]:
    return {"width": width, "height": height}


@extend_schema(tags=["renders"], responses={200: OpenApiTypes.OBJECT})
@api_view(["GET"])
def presets_list(request: Request) -> Response:
    """Every preset: `landscape`/`portrait` are the boxes a timeline is fitted into (null: the timeline's
    own size); the box turns with the timeline, so a 9:16 project at full_hd renders 1080×1920."""
    items = []
    for name, spec in PRESETS.items():
        fixed = spec.width is not None and spec.height is not None
        items.append({
            "name": name,
            "label": PRESET_LABELS.get(name, name),
            "landscape": _size(*preset_box(spec, portrait=False)) if fixed else None,
            "portrait": _size(*preset_box(spec, portrait=True)) if fixed else None,
        })
    return Response({"presets": items})
