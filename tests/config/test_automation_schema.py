"""The OpenAPI schema describes the automation endpoints and the Idempotency-Key header."""

from __future__ import annotations

import yaml
from django.core.management import call_command


def test_schema_documents_webhooks_jwt_and_idempotency(tmp_path, db):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    paths = schema["paths"]
    for path in ("/api/webhooks/", "/api/webhooks/{id}/deliveries/", "/api/webhook-deliveries/{id}/redeliver/",
                 "/api/auth/jwt/create/", "/api/auth/jwt/refresh/", "/api/auth/jwt/logout/"):
        assert any(p.rstrip("/") == path.rstrip("/") for p in paths), path
    renders = next(v for p, v in paths.items() if p.startswith("/api/projects/{project_id}/renders"))
    assert any(param["name"] == "Idempotency-Key" for param in renders["post"]["parameters"])
    submit = schema["components"]["schemas"]["RenderSubmit"]["properties"]
    assert {"merge", "items", "webhook_url"} <= set(submit)
