"""Charts as inline SVG, drawn on the server: no script, no CDN, readable without JavaScript.
Every label passes through `esc`; amounts are micro-dollars."""
from __future__ import annotations

from collections.abc import Sequence
from html import escape as esc

from bot.models import usd

PALETTE = ("#4f6bed", "#e8793a", "#2a9d8f", "#c4456b", "#8a63d2", "#6b8e23", "#d4a017", "#5f7d95")


def columns(points: Sequence[tuple[str, int]], *, width: int = 720, height: int = 220,
            title: str = "") -> str:
    """A column chart of one series over time (e.g. spend per day); labels are dates."""
    pad_left, pad_bottom, pad_top = 56, 28, 12
    plot_w, plot_h = width - pad_left - 8, height - pad_bottom - pad_top
    top = _nice_max(max((v for _, v in points), default=0))
    step = plot_w / max(len(points), 1)
    bar_w = max(step * 0.7, 1.0)
    parts = [_open(width, height, title)]
    for i in range(5):  # horizontal grid with dollar labels
        value = top * i // 4
        y = pad_top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{pad_left}" y1="{y:.1f}" x2="{width - 8}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{pad_left - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis">'
                     f'{esc(usd(value))}</text>')
    for i, (label, value) in enumerate(points):
        h = plot_h * value / top if top else 0
        x = pad_left + i * step + (step - bar_w) / 2
        y = pad_top + plot_h - h
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                     f'fill="{PALETTE[0]}"><title>{esc(label)}: {esc(usd(value))}</title></rect>')
        if i % 5 == 0 or i == len(points) - 1:  # a date every few columns stays legible
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{height - 8}" text-anchor="middle" '
                         f'class="axis">{esc(label[5:])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bars(items: Sequence[tuple[str, int]], *, width: int = 460, title: str = "") -> str:
    """Horizontal bars, one per labelled amount (spend per member, per model)."""
    row, label_w = 30, 150
    height = max(len(items), 1) * row + 8
    top = max((v for _, v in items), default=0) or 1
    plot_w = width - label_w - 80
    parts = [_open(width, height, title)]
    if not items:
        parts.append(f'<text x="8" y="22" class="axis">{esc("Nothing spent yet")}</text>')
    for i, (label, value) in enumerate(items):
        y = 4 + i * row
        w = max(plot_w * value / top, 1.0 if value else 0.0)
        name = label if len(label) <= 22 else label[:21] + "…"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 19}" text-anchor="end" class="label">{esc(name)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row - 10}" rx="3" '
            f'fill="{PALETTE[i % len(PALETTE)]}"><title>{esc(label)}: {esc(usd(value))}</title></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 19}" class="value">{esc(usd(value))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def meter(used: int, cap: int | None, *, width: int = 300) -> str:
    """A progress bar of spend against a cap: amber from 80%, red at 100%."""
    if cap is None:
        return '<span class="muted">No cap set.</span>'
    share = min(used / cap, 1.0) if cap else 1.0
    color = "#c0392b" if share >= 1 else "#e8a33a" if share >= 0.8 else "#2a9d8f"
    return (f'<svg class="meter" width="{width}" height="14" viewBox="0 0 {width} 14" role="img" '
            f'aria-label="{esc(usd(used))} of {esc(usd(cap))}">'
            f'<rect width="{width}" height="14" rx="7" fill="#e6e8ef"/>'
            f'<rect width="{width * share:.1f}" height="14" rx="7" fill="{color}"/></svg>'
            f' <span>{esc(usd(used))} of {esc(usd(cap))} ({share * 100:.0f}%)</span>')


def _open(width: int, height: int, title: str) -> str:
    return (f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            f'role="img" aria-label="{esc(title)}" xmlns="http://www.w3.org/2000/svg">')


def _nice_max(value: int) -> int:
    """A round axis top at or above `value` (micro-dollars), so grid labels read well."""
    if value <= 0:
        return 1_000_000
    for step in (100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000,
                 25_000_000, 50_000_000, 100_000_000, 250_000_000, 500_000_000, 1_000_000_000):
        if value <= step * 4:
            return step * 4
    return value
