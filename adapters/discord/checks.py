"""The one permission check for admin commands."""
from __future__ import annotations

from discord import app_commands

NOT_ALLOWED = "Only members with the Manage Server permission can do this."

#: Members with Manage Server. `default_permissions` hides admin commands from others; this
#: check holds even when a server re-grants a command to everyone. A refusal raises
#: MissingPermissions, which the command tree answers with NOT_ALLOWED.
server_admin = app_commands.checks.has_permissions(manage_guild=True)
