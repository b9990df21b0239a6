"""Digests and alerts sent where teams talk: Slack, Microsoft Teams, a JSON webhook, e-mail.

A message is built once as a neutral `messages.Message` (`digests`), rendered per channel
(`render`), sent (`channels`) and recorded in the store so it goes out once (`scheduler`).
The server calls `scheduler.send_due` on its schedule; `fireline notify` sends one now.
"""
