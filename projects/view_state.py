"""The editor's own state inside a timeline (`view`: playhead, zoom, track names and locks).

It is saved and returned but never rendered, so saving it does not bump the project's `version` or
`updated_at`: two tabs scrubbing the same project never conflict, and the project list keeps its order.
"""

from __future__ import annotations

import json
import math
from typing import Any

from django.db import transaction
from rest_framework.exceptions import ValidationError

from projects.models import Project

MAX_VIEW_BYTES = 16 * 1024


def view_clean(raw: Any) -> dict[str, Any]:
    """The view as stored, or a ValidationError naming the field (`view.zoom`, ...)."""
    if not isinstance(raw, dict):
        raise ValidationError({"view": ["view must be an object like {\"current_time\": 0, \"zoom\": 1}."]})
    if len(json.dumps(raw)) > MAX_VIEW_BYTES:
        raise ValidationError({"view": [f"view is too large (at most {MAX_VIEW_BYTES // 1024} KB)."]})
    view = dict(raw)
    for key, default, low_ok in (("current_time", 0.0, True), ("zoom", 1.0, False)):
        value = view.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
                or value < 0 or (value == 0 and not low_ok):
            need = "a number ≥ 0" if low_ok else "a number > 0"
            raise ValidationError({f"view.{key}": [f"view.{key} must be {need} (got {value!r})."]})
        view[key] = float(value)
    return view


@transaction.atomic
def project_view_save(*, project: Project, view: Any) -> dict[str, Any]:
    """Store `view` in the project's timeline without touching `version` or `updated_at`."""
    cleaned = view_clean(view)
    # The row lock orders this against a timeline save: the view lands in whichever timeline is current.
    timeline = Project.objects.select_for_update().filter(pk=project.pk).values_list("timeline", flat=True).first()
    if timeline is None:
        raise Project.DoesNotExist("the project was deleted")
    timeline = {**timeline, "view": cleaned}
    Project.objects.filter(pk=project.pk).update(timeline=timeline)
    return cleaned
