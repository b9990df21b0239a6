"""GitHub (and GitHub Enterprise) history as the webhook events GitHub would have sent.

- deployments, each status a `deployment_status` event (the normaliser merges a deployment's
  statuses into one Deployment, id `github-<deployment id>`, as for webhooks);
- issues carrying the incident label as `issues` events (id `github-<repo>-<number>`);
- releases as `release` events;
- pull requests as `pull_request` events with their commits under "commits", and their reviews as
  `pull_request_review` events.

Delivery ids are derived from GitHub's object ids (`sync-...`), so a second sync stores nothing
twice; a record also received by webhook merges with it by the record's own id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .client import Client, iso
from .streams import Event, Stream, is_new, older

SOURCE = "github"
PER_PAGE = 100


def streams(client: Client, base_url: str, repo: str, *, incident_label: str) -> list[Stream]:
    api = f"{base_url.rstrip('/')}/repos/{repo}"
    repository = _repository(client, api)

    def deployments(items: list[Any], after: datetime | None) -> tuple[list[Event], bool]:
        events: list[Event] = []
        for deployment in items:
            if not is_new(deployment, "updated_at", after):
                continue
            for status in _all(client, f"{api}/deployments/{deployment['id']}/statuses"):
                payload = {"action": "created", "deployment_status": status, "deployment": deployment,
                           "repository": repository}
                events.append((f"sync-deployment_status-{status['id']}", "deployment_status", payload))
        return events, older(items, "updated_at", after)

    def issues(items: list[Any], after: datetime | None) -> tuple[list[Event], bool]:
        events: list[Event] = []
        for issue in items:
            if "pull_request" in issue:
                continue
            # An open issue with a closed_at was closed once and reopened: the normaliser then drops
            # the resolution a webhook or an earlier sync gave it.
            state = issue.get("state")
            action = "closed" if state == "closed" else ("reopened" if issue.get("closed_at") else "opened")
            events.append((f"sync-issues-{issue['id']}-{issue.get('updated_at')}", "issues",
                           {"action": action, "issue": issue, "repository": repository}))
        return events, False

    def releases(items: list[Any], after: datetime | None) -> tuple[list[Event], bool]:
        events: list[Event] = [(f"sync-release-{r['id']}", "release",
                                {"action": "published", "release": r, "repository": repository})
                               for r in items if is_new(r, "created_at", after)]
        return events, older(items, "created_at", after)

    def pulls(items: list[Any], after: datetime | None) -> tuple[list[Event], bool]:
        events: list[Event] = []
        for pr in items:
            if not is_new(pr, "updated_at", after):
                continue
            number = pr["number"]
            commits = _all(client, f"{api}/pulls/{number}/commits")
            action = "closed" if pr.get("state") == "closed" else "opened"
            events.append((f"sync-pull_request-{pr['id']}-{pr.get('updated_at')}", "pull_request",
                           {"action": action, "number": number, "pull_request": pr, "repository": repository,
                            "commits": commits}))
            for review in _all(client, f"{api}/pulls/{number}/reviews"):
                events.append((f"sync-pull_request_review-{review['id']}", "pull_request_review",
                               {"action": "submitted", "review": review, "pull_request": pr,
                                "repository": repository}))
        return events, older(items, "updated_at", after)

    return [
        Stream(SOURCE, repo, "deployments", f"{api}/deployments", {"per_page": PER_PAGE}, deployments),
        Stream(SOURCE, repo, "issues", f"{api}/issues",
               {"labels": incident_label, "state": "all", "sort": "updated", "direction": "asc",
                "per_page": PER_PAGE, "since": lambda after: iso(after) if after else None}, issues),
        Stream(SOURCE, repo, "releases", f"{api}/releases", {"per_page": PER_PAGE}, releases),
        Stream(SOURCE, repo, "pulls", f"{api}/pulls",
               {"state": "all", "sort": "updated", "direction": "desc", "per_page": PER_PAGE}, pulls),
    ]


def _repository(client: Client, api: str) -> dict:
    """The repository object every event carries (its `name` is the service the normalisers use).
    Asked first, so a wrong token or a missing repository stops the sync before anything is stored."""
    data = client.get(api).data
    return data if isinstance(data, dict) else {}


def _all(client: Client, url: str) -> list[Any]:
    """Every item of a small list (statuses, commits, reviews), following its pages."""
    items: list[Any] = []
    next_url: str | None = f"{url}?per_page={PER_PAGE}"
    while next_url:
        page = client.get(next_url)
        items += page.data if isinstance(page.data, list) else []
        next_url = page.next_url
    return items


def headers(token: str | None) -> dict[str, str]:
    base = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    return {**base, "Authorization": f"Bearer {token}"} if token else base
