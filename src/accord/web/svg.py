"""Server-side SVG for the pages: match-weight waterfalls (``accord.charts.waterfall``), a
timeline of a person's records by source, and plain bar charts of counts.

Every chart has a title and a text label on each mark, and every page that shows one also
shows the same numbers in a table, so nothing depends on seeing colour or the picture.
"""

from __future__ import annotations

from datetime import date
from html import escape
from typing import Any

from accord.charts import Bar, waterfall
from accord.services.people_results import LinkExplanationOut, SourceGroupOut

WIDTH = 720


def link_waterfall(link: LinkExplanationOut) -> str:
    """How one link's match weight is built: prior, then each comparison's log2 Bayes factor."""
    steps = [Bar(f"{c.comparison}: {c.level}", c.log2_bayes_factor)
             for c in link.contributions if abs(c.log2_bayes_factor) >= 0.005]
    a, b = link.a, link.b
    title = (f"{a[0]} {a[1]} and {b[0]} {b[1]}: match weight {link.match_weight:+.2f}, "
             f"probability {link.match_probability:.4f}")
    return waterfall(title, "prior (before comparing)", link.prior_weight, steps)


def _svg(height: int, title: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12" role="img" '
            f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
            f'<text x="8" y="18" font-size="14" font-weight="bold">{escape(title)}</text>'
            + "".join(body) + "</svg>")


def bars(title: str, items: list[tuple[str, float]], unit: str = "") -> str:
    """Horizontal bars of non-negative counts, each labelled with its value."""
    left, top, bar, gap = 220, 32, 18, 6
    peak = max((v for _, v in items), default=0.0) or 1.0
    span = WIDTH - left - 90
    body = []
    for i, (label, value) in enumerate(items):
        y = top + i * (bar + gap)
        w = max(value / peak * span, 1.0 if value else 0.0)
        body.append(f'<text x="{left - 8}" y="{y + 13}" text-anchor="end">{escape(label)}</text>'
                    f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar}" fill="#1f5f99"/>'
                    f'<text x="{left + w + 4:.1f}" y="{y + 13}">{value:,.0f}{escape(unit)}</text>')
    return _svg(top + len(items) * (bar + gap) + 12, title, body)


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def timeline(title: str, sources: list[SourceGroupOut]) -> str | None:
    """One lane per source, one labelled mark per dated record; None when nothing is dated."""
    lanes = [(g.source, [(d, r) for r in g.records if (d := _as_date(r.date))]) for g in sources]
    dated = [d for _, recs in lanes for d, _ in recs]
    if not dated:
        return None
    lo, hi = min(dated), max(dated)
    days = max((hi - lo).days, 1)
    left, top, lane, right = 120, 40, 34, 40
    span = WIDTH - left - right
    body = []

    def x(d: date) -> float:
        return left + (d - lo).days / days * span

    for i, (source, recs) in enumerate(lanes):
        y = top + i * lane + lane / 2
        body.append(f'<text x="{left - 8}" y="{y + 4:.0f}" text-anchor="end">{escape(source)}</text>'
                    f'<line x1="{left}" y1="{y:.0f}" x2="{WIDTH - right}" y2="{y:.0f}" stroke="#bbb"/>')
        for d, r in recs:
            what = r.date_field or "date"
            label = f"{source} {r.provenance.record_id}: {what} {d.isoformat()}"
            body.append(f'<g><title>{escape(label)}</title><circle cx="{x(d):.1f}" cy="{y:.0f}" r="6" '
                        f'fill="#1f5f99" stroke="#000"/></g>')
    axis = top + len(lanes) * lane + 14
    for d in sorted({lo, hi}):
        body.append(f'<text x="{x(d):.1f}" y="{axis}" text-anchor="middle">{d.isoformat()}</text>')
    return _svg(axis + 10, title, body)
