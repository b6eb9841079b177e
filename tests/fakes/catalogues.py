"""Model catalogues (SORA_MODELS_FILE contents) the tests share."""
from __future__ import annotations

#: A model that is not Sora: its own durations, aspects, prices and resolution field.
KLING = """
[models."kling-v3"]
durations = [5, 10, 15]
aspects = ["16:9", "9:16", "1:1"]
prices = { "720p" = 0.07, "1080p" = 0.11 }
resolution_field = "mode"
resolution_values = { "720p" = "std", "1080p" = "pro" }
"""

#: sora-2 falls back to a model of the same name on a second provider speaking the OpenAI
#: form; format with `backup=` that provider's base URL.
BACKUP = """
[providers.backup]
dialect = "openai"
base_url = "{backup}"
api_key_env = "BACKUP_API_KEY"

[models."sora-2-backup"]
provider = "backup"
upstream = "sora-2"
durations = [4, 8, 12]
prices = {{ "720p" = 0.10 }}

[models."sora-2"]
fallback = "sora-2-backup"
"""

#: sora-2's provider serves a smaller MP4 at /content?variant=small (the stand-in does); no
#: real provider is known to, so the built-in catalogue has none.
SMALLER_RENDITION = """
[models."sora-2"]
smaller_rendition = "variant=small"
"""

#: A model on an openai-dialect provider that remixes and extends; format with `base=`.
REMIXING = """
[providers.oai]
dialect = "openai"
base_url = "{base}"
api_key_env = "OAI_KEY"

[models."sora-remix"]
provider = "oai"
upstream = "sora-2"
durations = [4, 8, 12]
prices = {{ "720p" = 0.10 }}
remix = true
extend = true
"""
