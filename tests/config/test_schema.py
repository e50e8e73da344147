from __future__ import annotations

from django.core.management import call_command


def test_openapi_schema_generates_without_warnings(tmp_path, db):
    """Every endpoint documents itself: spectacular refuses to write a schema with warnings."""
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in ("/api/projects/", "/api/assets/", "/api/jobs/", "/api/auth/me"):
        assert path in text


def _schema(tmp_path) -> dict:
    import yaml

    out = tmp_path / "schema.yml"
    call_command("spectacular", "--fail-on-warn", "--file", str(out))
    return yaml.safe_load(out.read_text())


def test_the_timeline_is_typed_in_the_schema(tmp_path, db):
    schema = _schema(tmp_path)
    project = schema["components"]["schemas"]["Project"]["properties"]["timeline"]
    assert project["type"] == "object" and {"schema", "output", "tracks"} <= set(project["properties"])
    clip = project["properties"]["tracks"]["items"]["properties"]["clips"]["items"]["properties"]
    assert clip["fit"]["enum"] == ["contain", "cover", "stretch"]


def test_error_responses_are_documented_with_the_error_body(tmp_path, db):
    schema = _schema(tmp_path)
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["type", "code", "errors"]
    retry = schema["paths"]["/api/jobs/{id}/retry/"]["post"]["responses"]
    for code in ("401", "404", "429"):
        assert retry[code]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_the_sse_endpoint_and_the_realtime_events_are_documented(tmp_path, db):
    schema = _schema(tmp_path)
    sse = schema["paths"]["/api/jobs/{id}/events"]["get"]
    assert "text/event-stream" in sse["responses"]["200"]["content"]
    assert {p["name"] for p in sse["parameters"]} >= {"Last-Event-ID", "timeout", "token"}
    events = schema["components"]["schemas"]
    assert "eta_seconds" in events["JobProgressEvent"]["properties"]
    assert "retryable" in events["JobFailedEvent"]["properties"]
    assert "/ws/jobs" in schema["x-websockets"]["paths"]
