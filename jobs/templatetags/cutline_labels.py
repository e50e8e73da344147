from __future__ import annotations

from django import template
from django.utils.html import json_script

from jobs.labels import labels_for_js

register = template.Library()


@register.simple_tag
def cutline_labels() -> str:
    """The label table as `<script type="application/json" id="cutline-labels">` for format.js."""
    return json_script(labels_for_js(), "cutline-labels")
