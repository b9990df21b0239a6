"""`fireline sync`: history pulled from GitHub, GitLab and PagerDuty, stored as the raw webhook events
those services would have sent, so the webhook normalisers derive it and `fireline rebuild` re-derives it.

`settings` is light (config validation loads it); `run` holds the HTTP client and is loaded by the command.
"""
