"""GitLab (and self-managed GitLab) history as the webhook events GitLab would have sent.

- deployments as `deployment` events (id `gitlab-<deployment id>`, as for webhooks);
- issues of type incident, and issues carrying the incident label, as `issue` events;
- merge requests as `merge_request` events (object_attributes: the API's merge request), with the
  API's approvals (`approved_by`), notes and commits under "approvals", "notes" and "commits".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from .client import Client, iso
from .streams import Event, Stream

SOURCE = "gitlab"
PER_PAGE = 100


def streams(client: Client, base_url: str, project: str, *, incident_label: str) -> list[Stream]:
    api = f"{base_url.rstrip('/')}/projects/{quote(project, safe='')}"
    info = client.get(api).data  # a wrong token or a missing project stops here, before anything is stored
    info = info if isinstance(info, dict) else {}
    ref = {"id": info.get("id"), "name": info.get("name"), "path": info.get("path"),
           "path_with_namespace": info.get("path_with_namespace") or project, "web_url": info.get("web_url")}
    updated = {"updated_after": lambda after: iso(after) if after else None}

    def deployments(items: list[Any], after: datetime | None) -> tuple[list[Event], bool]:
        events: list[Event] = []
        for d in items:
            deployable = d.get("deployable") if isinstance(d.get("deployable"), dict) else {}
            changed = deployable.get("finished_at") or d.get("updated_at") or d.get("created_at")
            environment = d.get("environment") if isinstance(d.get("environment"), dict) else {}
            payload = {"object_kind": "deployment", "status": d.get("status"), "status_changed_at": changed,
                       "deployment_id": d.get("id"), "environment": environment.get("name"), "sha": d.get("sha"),
                       "ref": d.get("ref"), "project": ref, "user": d.get("user")}
            events.append((f"sync-deployment-{d.get('id')}-{d.get('status')}", "deployment", payload))
        return events, False

    def issues(items: list[Any], after: datetime | None) -> tuple[list[Event], bool]:
        events: list[Event] = []
        for issue in items:
            attrs = {**issue, "type": issue.get("type") or issue.get("issue_type")}
            labels = [{"title": label} if isinstance(label, str) else label for label in issue.get("labels") or []]
            events.append((f"sync-issue-{issue.get('id')}-{issue.get('updated_at')}", "issue",
                           {"object_kind": "issue", "object_attributes": attrs, "labels": labels, "project": ref}))
        return events, False

    def merge_requests(items: list[Any], after: datetime | None) -> tuple[list[Event], bool]:
        events: list[Event] = []
        for mr in items:
            iid = mr.get("iid")
            approvals = client.get(f"{api}/merge_requests/{iid}/approvals").data
            payload = {"object_kind": "merge_request", "object_attributes": mr, "project": ref,
                       "user": mr.get("author"),
                       "approvals": (approvals or {}).get("approved_by", []) if isinstance(approvals, dict) else [],
                       "notes": _all(client, f"{api}/merge_requests/{iid}/notes", {"sort": "asc"}),
                       "commits": _all(client, f"{api}/merge_requests/{iid}/commits", {})}
            events.append((f"sync-merge_request-{mr.get('id')}-{mr.get('updated_at')}", "merge_request", payload))
        return events, False

    ordered = {"order_by": "updated_at", "sort": "asc", "per_page": PER_PAGE, **updated}
    return [
        Stream(SOURCE, project, "deployments", f"{api}/deployments", ordered, deployments),
        Stream(SOURCE, project, "incidents", f"{api}/issues",
               {"issue_type": "incident", "scope": "all", **ordered}, issues),
        Stream(SOURCE, project, "incident-label", f"{api}/issues",
               {"labels": incident_label, "scope": "all", **ordered}, issues),
        Stream(SOURCE, project, "merge_requests", f"{api}/merge_requests",
               {"state": "all", "scope": "all", **ordered}, merge_requests),
    ]


def _all(client: Client, url: str, params: dict[str, Any]) -> list[Any]:
    items: list[Any] = []
    page = client.get(url, {"per_page": PER_PAGE, **params})
    while True:
        items += page.data if isinstance(page.data, list) else []
        if not page.next_url:
            return items
        page = client.get(page.next_url)


def headers(token: str | None) -> dict[str, str]:
    return {"PRIVATE-TOKEN": token} if token else {}
