"""Every /api/v1 answer a test receives is checked against the OpenAPI document the server publishes.

`CheckedClient` is the test client of every app in the web tests (tests/web/conftest.py); `CheckedWsgi`
wraps the real server that real agents talk to (tests/scheduler/delivery/delivery_world.py). For each
request to a documented path and method, the status must be one the document lists for it, and a
JSON body must match that status's schema (JSON Schema 2020-12, as OpenAPI 3.1 uses, formats checked).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.test import TestResponse

from scheduler.wire import API_PREFIX
from web.openapi import document

DOC_URI = "urn:loaxa:openapi"


@cache
def _doc() -> dict[str, Any]:
    return document("http://127.0.0.1")


@cache
def _registry() -> Registry[Any]:
    resource: Resource[Any] = Resource.from_contents(_doc(), default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(DOC_URI, resource)
    return registry


@cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    found = []
    for template in _doc()["paths"]:
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        found.append((re.compile(f"^{pattern}$"), template))
    return found


def _pointer(*parts: str) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def operation_for(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    """The documented template and operation answering `method path` (path under /api/v1), if any."""
    for pattern, template in _templates():
        if pattern.match(path):
            operation = _doc()["paths"][template].get(method.lower())
            return (template, operation) if operation is not None else None
    return None


def check_answer(method: str, full_path: str, status: int, content_type: str, body: Any) -> bool:
    """Assert the answer matches the document; False when the path or method is not documented at all."""
    if not full_path.startswith(API_PREFIX + "/"):
        return False
    path = full_path[len(API_PREFIX):]
    found = operation_for(method, path)
    if found is None:
        return False
    template, operation = found
    responses = operation["responses"]
    assert str(status) in responses, f"{method} {full_path}: status {status} is not in the OpenAPI document {template}"
    content = responses[str(status)].get("content", {})
    kind = content_type.split(";")[0].strip()
    if kind == "application/json":
        assert kind in content, f"{method} {full_path} {status}: JSON answer not documented"
        pointer = _pointer("paths", template, method.lower(), "responses", str(status), "content", kind, "schema")
        validator = Draft202012Validator({"$ref": f"{DOC_URI}#{pointer}"}, registry=_registry(),
                                         format_checker=Draft202012Validator.FORMAT_CHECKER)
        problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]
        assert problems == [], f"{method} {full_path} {status} does not match the OpenAPI document: {problems[:5]}"
    elif status not in (204, 206, 304) and content:
        assert kind in content, f"{method} {full_path} {status}: {kind} not documented ({list(content)})"
    return True


class CheckedClient(FlaskClient):
    """A Flask test client that checks every /api/v1 answer against the OpenAPI document."""

    checked = 0

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        response = super().open(*args, **kwargs)
        request = response.request
        body = response.get_json(silent=True) if response.is_json else None
        if check_answer(request.method, request.path, response.status_code, response.content_type or "", body):
            CheckedClient.checked += 1
        return response


class CheckedWsgi:
    """WSGI middleware for a served app: checks each /api/v1 answer, keeping what strays in `problems`
    (the server thread cannot fail the test itself; the owner asserts `problems == []` at the end)."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.problems: list[str] = []
        self.checked = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        seen: dict[str, Any] = {}

        def remember(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"], seen["headers"] = int(status.split()[0]), dict(headers)
            return start_response(status, headers, exc_info)

        answer = self.app(environ, remember)
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if not path.startswith(API_PREFIX + "/") or "status" not in seen:
            return answer
        kind = seen["headers"].get("Content-Type", "")
        body: Any = None
        if kind.startswith("application/json"):
            chunks = list(answer)
            if hasattr(answer, "close"):
                answer.close()
            answer = chunks
            body = json.loads(b"".join(chunks) or b"null")
        try:
            if check_answer(method, path, seen["status"], kind, body):
                self.checked += 1
        except AssertionError as exc:
            self.problems.append(str(exc).splitlines()[0][:500])
        return answer
