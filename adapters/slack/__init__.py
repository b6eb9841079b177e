"""Slack adapter for sora-bot: /sora, reactions, progress messages and public image links."""
from __future__ import annotations

from adapters.slack.server import SlackService, serve

__all__ = ["SlackService", "serve"]
