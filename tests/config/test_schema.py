from __future__ import annotations

from django.core.management import call_command


def test_openapi_schema_generates_without_warnings(tmp_path, db):
    """Every endpoint documents itself: spectacular refuses to write a schema with warnings."""
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in ("/api/projects/", "/api/assets/", "/api/jobs/", "/api/auth/me"):
        assert path in text
