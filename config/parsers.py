"""The API's JSON parser: DRF's, plus a refusal of lone UTF-16 surrogates (`"\\ud800"`).

Python's json module accepts them, but PostgreSQL cannot store them (a `DataError`, i.e. a 500, when a
timeline or any other JSON field held one). Refused here, for every JSON body, with the path of the value.
"""

from __future__ import annotations

import re
from typing import Any

from rest_framework import exceptions
from rest_framework.parsers import JSONParser

_SURROGATE = re.compile("[\ud800-\udfff]")


def _first_surrogate_path(data: Any) -> str | None:
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return path
        elif isinstance(value, dict):
            for key, child in value.items():
                child_path = f"{path}.{key}" if path else str(key)
                if isinstance(key, str) and _SURROGATE.search(key):
                    return path or None
                stack.append((child_path, child))
        elif isinstance(value, list):
            stack.extend((f"{path}.{index}" if path else str(index), child) for index, child in enumerate(value))
    return None


class CutlineJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        path = _first_surrogate_path(data)
        if path is not None or (isinstance(data, str) and _SURROGATE.search(data)):
            shown = _SURROGATE.sub("\ufffd", path or "")
            raise exceptions.ValidationError({shown or "non_field_errors": [exceptions.ErrorDetail(
                "text must not contain lone UTF-16 surrogates (such as \\ud800): they are not valid Unicode",
                code="surrogate_characters_not_allowed")]})
        return data
