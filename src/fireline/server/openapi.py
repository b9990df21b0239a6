"""The intake's OpenAPI document: the request each sender must send, as the intake checks it.

FastAPI only knows that the routes read a body; the schemas here say what the intake requires of
it (and of the headers) before it stores an event, so a client, a fuzzer or a reviewer can rely on
them: a request the schema calls valid is accepted, and one it calls invalid is refused with a 4xx.
What a measured event needs besides (a GitHub `push` needs its commits, a PagerDuty incident event
its incident) depends on the event's type and is listed in each operation's description and in
docs/server.md.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

# "Not blank" without \s, whose meaning differs between regex dialects: the webhook parsers strip with
# Python's str.strip() (Unicode White_Space and \x1c-\x1f); /events' model with Unicode White_Space only.
_UNICODE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NON_BLANK = f"[^{_UNICODE_SPACE}\x1c-\x1f]"
NON_BLANK_MODEL = f"[^{_UNICODE_SPACE}]"
DELIVERY_ID = {"type": "string", "pattern": NON_BLANK, "maxLength": 200}
TIME = {"type": "string", "format": "date-time"}

ALERT = {
    "type": "object",
    "required": ["labels", "status", "startsAt"],
    "properties": {
        "status": {"enum": ["firing", "resolved"]},
        "labels": {"type": "object", "required": ["alertname"],
                   "properties": {"alertname": {"type": "string", "pattern": NON_BLANK}},
                   "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        "startsAt": {**TIME, "not": {"pattern": "^0001-"}, "description": "Not the zero time 0001-01-01."},
        "endsAt": {**TIME, "description": "Required when resolved."},
        "fingerprint": {"type": ["string", "null"], "pattern": NON_BLANK},
    },
    "if": {"properties": {"status": {"const": "resolved"}}},
    "then": {"required": ["endsAt"]},
}

BODIES: dict[str, dict[str, Any]] = {
    "github": {"type": "object", "description": "The event's payload as GitHub sends it; X-GitHub-Event says "
                                                "which. Measured: push, deployment_status, issues, workflow_run."},
    "gitlab": {"type": "object", "anyOf": [{"required": ["object_kind"]}, {"required": ["event_name"]}],
               "properties": {"object_kind": {"type": "string", "pattern": NON_BLANK},
                              "event_name": {"type": "string", "pattern": NON_BLANK}},
               "description": "The event's payload as GitLab sends it. Measured: push, tag_push, merge_request, "
                              "deployment, pipeline, issue, release."},
    "alertmanager": {"type": "object", "required": ["alerts"], "properties": {
        "version": {"const": "4"},
        "alerts": {"type": "array", "minItems": 1, "items": ALERT}},
        "description": "An Alertmanager webhook v4 notification; one raw event per alert."},
    "pagerduty": {"type": "object", "required": ["event"], "properties": {"event": {
        "type": "object", "required": ["id", "event_type"],
        "properties": {"id": DELIVERY_ID, "event_type": {"type": "string", "pattern": NON_BLANK}}}},
        "description": "A PagerDuty v3 webhook; incident.* events about an incident are measured."},
}

HEADERS: dict[str, list[dict[str, Any]]] = {
    "github": [
        {"name": "X-GitHub-Event", "in": "header", "required": True, "schema": {"type": "string",
                                                                              "pattern": NON_BLANK}},
        {"name": "X-GitHub-Delivery", "in": "header", "required": True, "schema": DELIVERY_ID},
        {"name": "X-Hub-Signature-256", "in": "header", "required": False, "schema": {"type": "string"},
         "description": "sha256=<HMAC-SHA256 of the body>; required when a GitHub secret is set."}],
    "gitlab": [],
    "alertmanager": [],
    "pagerduty": [{"name": "X-PagerDuty-Signature", "in": "header", "required": False, "schema": {"type": "string"},
                   "description": "v1=<HMAC-SHA256 of the body>; required when a PagerDuty secret is set."}],
    "events": [],
}

SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "The ingest token (FIRELINE_INGEST_TOKEN)."},
    "gitlabToken": {"type": "apiKey", "in": "header", "name": "X-Gitlab-Token",
                    "description": "The GitLab webhook's secret token (FIRELINE_GITLAB_TOKEN)."},
}
SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "events": [{"bearer": []}], "alertmanager": [{"bearer": []}], "gitlab": [{"gitlabToken": []}]}


def _non_blank(schema: Any) -> None:
    """Text the model strips must hold more than whitespace: say so where the schema only says minLength."""
    if isinstance(schema, dict):
        if schema.get("type") == "string" and schema.get("minLength") and "pattern" not in schema:
            schema["pattern"] = NON_BLANK_MODEL
        for value in schema.values():
            _non_blank(value)
    elif isinstance(schema, list):
        for value in schema:
            _non_blank(value)


def _events_schema() -> tuple[dict, dict]:
    from ..sources.webhooks.events import JSON_SCHEMA

    text = json.dumps(JSON_SCHEMA).replace('"#/$defs/', '"#/components/schemas/')
    schema = json.loads(text)
    defs = schema.pop("$defs", {})
    _non_blank(defs)
    for definition in defs.values():
        if "started" in definition.get("properties", {}):  # checked by a model validator
            definition["if"] = {"properties": {"action": {"not": {"const": "opened"}}}}
            definition["then"] = {"properties": {"started": {"type": "null"}}}
        author = definition.get("properties", {}).get("author")
        if author is not None:  # checked by a validator, so pydantic's schema does not say it
            author["pattern"] = r"^\s*[^<>]*<[^<>]*>\s*$"
            author.setdefault("description", "Name <email>")
    return schema, defs


def install(app: FastAPI) -> None:
    """Replace FastAPI's generated document with one that carries the real request schemas."""

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        events, defs = _events_schema()
        components = spec.setdefault("components", {})
        components.setdefault("schemas", {}).update(defs)
        components["securitySchemes"] = SECURITY_SCHEMES
        bodies = {**BODIES, "events": events}
        for source, body in bodies.items():
            path = "/events" if source == "events" else f"/webhooks/{source}"
            operation = spec["paths"][path]["post"]
            operation["requestBody"]["content"]["application/json"]["schema"] = body
            operation["parameters"] = HEADERS[source]
            if source in SECURITY:
                operation["security"] = SECURITY[source]
        metrics = spec["paths"]["/metrics"]["get"]["responses"]["200"]
        metrics["content"] = {"text/plain": {"schema": {"type": "string"}}}
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


_TYPES: dict[str, type] = {"object": dict, "array": list, "string": str, "null": type(None), "boolean": bool}


def _is(value: Any, kind: str) -> bool:
    if kind in ("integer", "number"):
        return not isinstance(value, bool) and isinstance(value, int if kind == "integer" else (int, float))
    return isinstance(value, _TYPES[kind])


def _date_time(value: str) -> bool:
    try:
        return datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


def violation(schema: dict[str, Any], value: Any, where: str = "body") -> str | None:
    """The first way `value` breaks `schema` (the JSON Schema subset used above), or None.

    The intake checks each webhook body with the schema it publishes, so the two cannot disagree."""
    kinds = schema.get("type")
    if kinds is not None and not any(_is(value, k) for k in ([kinds] if isinstance(kinds, str) else kinds)):
        return f"{where}: expected {' or '.join([kinds] if isinstance(kinds, str) else kinds)}"
    if "const" in schema and value != schema["const"]:
        return f"{where}: expected {schema['const']!r}"
    if "enum" in schema and value not in schema["enum"]:
        return f"{where}: expected one of {', '.join(map(repr, schema['enum']))}"
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            return f"{where}: missing" if schema["pattern"] == NON_BLANK else f"{where}: does not match"
        if len(value) > schema.get("maxLength", len(value)):
            return f"{where}: longer than {schema['maxLength']} characters"
        if schema.get("format") == "date-time" and not _date_time(value):
            return f"{where}: expected an RFC 3339 time such as 2026-11-20T14:03:00Z"
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            return f"{where}: expected at least {schema['minItems']} item(s)"
        for index, item in enumerate(value):
            if "items" in schema and (error := violation(schema["items"], item, f"{where}[{index}]")):
                return error
    if isinstance(value, dict):
        for name in schema.get("required", ()):
            if name not in value:
                return f"{where}.{name}: missing"
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for name, item in value.items():
            sub = properties.get(name, extra if isinstance(extra, dict) else None)
            if sub is not None and (error := violation(sub, item, f"{where}.{name}")):
                return error
    if "not" in schema and violation(schema["not"], value, where) is None:
        return f"{where}: not allowed"
    if "anyOf" in schema and all(violation(option, value, where) for option in schema["anyOf"]):
        return violation(schema["anyOf"][0], value, where)
    if "if" in schema and violation(schema["if"], value, where) is None:
        return violation(schema.get("then", {}), value, where)
    return None
