"""Terminal-safe text: stored prompts, names and upstream messages are typed by others, and
an escape sequence in one could retitle, recolour or rewrite an admin's terminal."""
from __future__ import annotations

import unicodedata

# Bidirectional overrides and isolates reorder what follows them on screen.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def safe(text: object) -> str:
    """`text` with every control character shown escaped (ESC as \\x1b, a newline as \\n),
    so one stored value prints as one inert line."""
    value = str(text)
    if value.isprintable() and not _BIDI.intersection(value):
        return value  # the common case, at C speed
    return "".join(_escape(ch) for ch in value)


def _escape(ch: str) -> str:
    if ch in _BIDI or unicodedata.category(ch) in ("Cc", "Cs", "Co", "Zl", "Zp"):
        code = ord(ch)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return ch
