"""Service-wide security: keys on every API route, strict headers, closed CORS, JSON errors, host guard."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from convapps.web.keys import KeyStore
from convapps.web.settings import WebSettings

PUBLIC = {"/api/health"}
EXTERNAL = re.compile(r"(https?:)?//(?!127\.0\.0\.1|localhost)[a-z0-9.-]+\.[a-z]{2,}", re.IGNORECASE)


def api_routes(client: TestClient) -> list[tuple[str, str]]:
    """Every (method, path) of the API, from the app's own OpenAPI description."""
    spec = client.app.openapi()  # type: ignore[attr-defined]
    found = []
    for path, operations in spec["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "0", path)
        found += [(method.upper(), concrete) for method in operations]
    return found


def test_every_api_route_but_health_needs_a_key(client: TestClient, auth: dict[str, str]) -> None:
    routes = api_routes(client)
    assert ("GET", "/api/session") in routes and ("GET", "/api/openapi.json") in routes
    for method, path in routes:
        if path in PUBLIC:
            continue
        for headers in ({}, {"Authorization": "Bearer cvk_000000000000_wrong"}, {"X-API-Key": "nope"}):
            response = client.request(method, path, headers=headers)
            assert response.status_code == 401, (method, path, headers, response.text)
            assert response.json()["error"]["type"] == "AuthenticationError"
            assert response.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/health").status_code == 200


def test_both_key_headers_work_and_revocation_is_immediate(
    client: TestClient, settings: WebSettings, api_key: str
) -> None:
    me = client.get("/api/session", headers={"X-API-Key": api_key})
    assert me.status_code == 200 and me.json()["key_name"] == "tests"
    assert me.json()["limits"]["max_upload_bytes"] == settings.max_upload_bytes
    assert client.get("/api/session", headers={"Authorization": f"Bearer {api_key}"}).status_code == 200
    KeyStore(settings.keys_path).revoke("tests")
    assert client.get("/api/session", headers={"X-API-Key": api_key}).status_code == 401


def test_openapi_needs_a_key_and_describes_the_api(client: TestClient, auth: dict[str, str]) -> None:
    assert client.get("/api/openapi.json").status_code == 401
    spec = client.get("/api/openapi.json", headers=auth).json()
    assert spec["info"]["title"] == "convapps"
    assert "/api/health" in spec["paths"] and "/api/jobs/{job_id}" in spec["paths"]
    assert {"HTTPBearer", "APIKeyHeader"} <= set(spec["components"]["securitySchemes"])
    for path in ("/docs", "/redoc", "/openapi.json"):  # no CDN-backed docs pages, no public spec
        assert client.get(path).status_code == 404


def test_static_ui_is_public_and_uses_no_cdn(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert 'src="/static/js/app.js"' in page.text
    assert not EXTERNAL.search(page.text)
    for asset in (
        "/static/app.css",
        "/static/js/app.js",
        "/static/js/api.js",
        "/static/js/people.js",
        "/static/js/check.js",
        "/static/js/style.js",
        "/static/js/viz.js",
    ):
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert not EXTERNAL.search(response.text), asset
    assert client.get("/static/../web/app.py").status_code == 404


def test_security_headers(client: TestClient, auth: dict[str, str]) -> None:
    for response in (client.get("/"), client.get("/api/session", headers=auth), client.get("/api/session")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert "script-src 'self'" in response.headers["content-security-policy"]
    assert client.get("/api/session", headers=auth).headers["cache-control"] == "no-store"
    assert "server" not in {k.lower() for k in client.get("/api/health").headers}


def test_cors_closed_by_default_and_exact_when_configured(
    make_client: Callable[[WebSettings], TestClient], settings: WebSettings
) -> None:
    preflight = {
        "Origin": "http://evil.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }
    closed = make_client(settings)
    response = closed.options("/api/session", headers=preflight)
    assert "access-control-allow-origin" not in response.headers
    assert (
        "access-control-allow-origin"
        not in closed.get("/api/health", headers={"Origin": "http://evil.example"}).headers
    )
    opened = make_client(replace(settings, cors_origins=("http://127.0.0.1:3000",)))
    ok = opened.options("/api/session", headers={**preflight, "Origin": "http://127.0.0.1:3000"})
    assert ok.headers["access-control-allow-origin"] == "http://127.0.0.1:3000"
    refused = opened.options("/api/session", headers=preflight)
    assert "access-control-allow-origin" not in refused.headers
    with pytest.raises(Exception, match="refused"):
        replace(settings, cors_origins=("*",))


def test_host_guard_refuses_foreign_host_names(client: TestClient) -> None:
    response = client.get("/api/health", headers={"Host": "attacker.example"})
    assert response.status_code == 400 and response.json()["error"]["type"] == "InvalidHostError"
    for host in ("127.0.0.1:8000", "localhost", "[::1]:8000"):
        assert client.get("/api/health", headers={"Host": host}).status_code == 200


def test_unexpected_errors_are_json_without_internals(client: TestClient, auth: dict[str, str]) -> None:
    def explode() -> None:
        raise RuntimeError("database password is hunter2 at /srv/secret.py line 3")

    client.app.add_api_route("/api/explode", explode)  # type: ignore[attr-defined]
    response = client.get("/api/explode", headers=auth)
    assert response.status_code == 500
    assert response.json() == {
        "error": {"type": "InternalError", "status": 500, "message": "internal error; the server log has the details"}
    }
    assert "hunter2" not in response.text and "Traceback" not in response.text


def test_unknown_routes_and_methods_are_json(client: TestClient, auth: dict[str, str]) -> None:
    missing = client.get("/api/nothing-here", headers=auth)
    assert missing.status_code == 404 and missing.json()["error"]["status"] == 404
    wrong = client.put("/api/session", headers=auth)
    assert wrong.status_code == 405 and wrong.json()["error"]["type"] == "HTTPError"


def test_declared_oversize_body_is_refused_before_reading(
    make_client: Callable[[WebSettings], TestClient], settings: WebSettings, auth: dict[str, str]
) -> None:
    client = make_client(replace(settings, max_request_bytes=1000))
    response = client.post("/api/jobs", content=b"x" * 5000, headers=auth)
    assert response.status_code == 413 and response.json()["error"]["type"] == "UploadTooLargeError"


def test_health_reports_version_and_features(client: TestClient) -> None:
    body = client.get("/api/health").json()
    assert body["status"] in ("ok", "degraded") and body["version"]
    assert isinstance(body["features"], dict) and body["jobs_active"] == 0
