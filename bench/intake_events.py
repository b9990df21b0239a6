"""Signed GitHub `deployment_status` webhooks for the intake load bench and its fault test.

Each event is a distinct production deployment (its own deployment id, sha and time) with
its own delivery id, so after any number of crashes and re-deliveries the store must hold
exactly one raw event and one deployment per event generated here.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# The shape GitHub really sends (octokit/webhooks, MIT: ../shared/data/webhooks/github/LICENSE).
TEMPLATE = Path(__file__).resolve().parents[2] / "shared" / "data" / "webhooks" / "github" / "deployment_status" \
    / "payload.json"
# Used only when the shared data is missing, so the bench still runs in a bare checkout.
_FALLBACK: dict[str, Any] = {
    "action": "created",
    "deployment_status": {"id": 1, "state": "success", "environment": "production", "created_at": ""},
    "deployment": {"id": 1, "sha": "", "ref": "main", "task": "deploy", "payload": {}, "environment": "production",
                   "description": None, "created_at": "", "updated_at": ""},
    "repository": {"id": 1, "name": "Hello-World", "full_name": "Codertocat/Hello-World"},
    "sender": {"login": "Codertocat", "id": 21031067},
}
SERVICES = ("purger", "export-pipeline", "web-ui", "pricing-engine")
START = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Event:
    delivery_id: str
    deployment_id: str  # as Fireline names it: "github-<deployment.id>"
    body: bytes
    headers: dict[str, str]


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def template() -> dict[str, Any]:
    return json.loads(TEMPLATE.read_text()) if TEMPLATE.exists() else json.loads(json.dumps(_FALLBACK))


def make_events(n: int, secret: str, *, seed: int = 1) -> list[Event]:
    """`n` distinct signed events; the same seed gives the same bytes, so runs compare."""
    rng = random.Random(seed)
    payload = template()
    deployment, status = payload["deployment"], payload["deployment_status"]
    repo = payload["repository"]["full_name"]
    events = []
    for i in range(n):
        dep_id = 500_000_000 + i
        status_id = 900_000_000 + i
        when = START + timedelta(minutes=37 * i)  # spread over about 500 days at n = 20,000
        stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        deployment.update(
            id=dep_id, sha=f"{rng.getrandbits(160):040x}", created_at=stamp, updated_at=stamp,
            url=f"https://api.github.com/repos/{repo}/deployments/{dep_id}",
            statuses_url=f"https://api.github.com/repos/{repo}/deployments/{dep_id}/statuses",
            payload={"service": SERVICES[i % len(SERVICES)]},
        )
        status.update(
            id=status_id, state="success", created_at=stamp, updated_at=stamp,
            url=f"https://api.github.com/repos/{repo}/deployments/{dep_id}/statuses/{status_id}",
            deployment_url=f"https://api.github.com/repos/{repo}/deployments/{dep_id}",
        )
        # Compact, as GitHub sends it; the signature covers these exact bytes.
        body = json.dumps(payload, separators=(",", ":")).encode()
        delivery = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        headers = {
            "content-type": "application/json",
            "user-agent": "GitHub-Hookshot/bench",
            "x-github-event": "deployment_status",
            "x-github-delivery": delivery,
            "x-github-hook-id": "424242",
            "x-hub-signature-256": sign(secret, body),
        }
        events.append(Event(delivery, f"github-{dep_id}", body, headers))
    return events
