"""Small dependency-free SVG charts (bar charts, histograms, waterfalls) written as files.

Used for the resolution model report and, later, the web UI. Plain SVG: opens in any
browser, diff-able, no plotting library at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path

WIDTH = 720
BAR = 18
GAP = 6
LEFT = 260


@dataclass(frozen=True)
class Bar:
    label: str
    value: float


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12" '
            f'role="img" aria-label="{escape(title)}">\n<title>{escape(title)}</title>\n'
            f'<text x="8" y="18" font-size="14" font-weight="bold">{escape(title)}</text>\n'
            + "\n".join(body) + "\n</svg>\n")


def signed_bars(title: str, bars: list[Bar], unit: str = "") -> str:
    """Horizontal bars around zero (e.g. log2 Bayes factors): green for, red against."""
    top = 32
    height = top + len(bars) * (BAR + GAP) + 24
    span = max((abs(b.value) for b in bars), default=1.0) or 1.0
    half = (WIDTH - LEFT - 80) / 2
    zero = LEFT + half
    body = [f'<line x1="{zero}" y1="{top - 4}" x2="{zero}" y2="{height - 20}" stroke="#555"/>']
    for i, b in enumerate(bars):
        y = top + i * (BAR + GAP)
        w = abs(b.value) / span * half
        x = zero if b.value >= 0 else zero - w
        colour = "#2e7d32" if b.value >= 0 else "#c62828"
        body.append(f'<text x="{LEFT - 8}" y="{y + 13}" text-anchor="end">{escape(b.label)}</text>')
        body.append(f'<rect x="{x:.1f}" y="{y}" width="{max(w, 1):.1f}" height="{BAR}" '
                    f'fill="{colour}"/>')
        tx = x + w + 4 if b.value >= 0 else x - 4
        anchor = "start" if b.value >= 0 else "end"
        body.append(f'<text x="{tx:.1f}" y="{y + 13}" text-anchor="{anchor}">'
                    f'{b.value:+.2f}{escape(unit)}</text>')
    return _svg(WIDTH, height, body, title)


def waterfall(title: str, start_label: str, start: float, steps: list[Bar]) -> str:
    """Running total from ``start`` through each step: how a match weight is built."""
    rows = [Bar(start_label, start), *steps]
    total = start + sum(s.value for s in steps)
    top = 32
    height = top + (len(rows) + 1) * (BAR + GAP) + 24
    running = [start]
    for s in steps:
        running.append(running[-1] + s.value)
    lo = min(0.0, *running)
    hi = max(0.0, *running)
    scale = (WIDTH - LEFT - 80) / ((hi - lo) or 1.0)

    def xpos(v: float) -> float:
        return LEFT + (v - lo) * scale

    body = [f'<line x1="{xpos(0):.1f}" y1="{top - 4}" x2="{xpos(0):.1f}" y2="{height - 20}" '
            f'stroke="#555"/>']
    prev = 0.0
    for i, r in enumerate(rows):
        y = top + i * (BAR + GAP)
        a, b = (0.0, start) if i == 0 else (prev, prev + r.value)
        x0, x1 = sorted((xpos(a), xpos(b)))
        colour = "#1565c0" if i == 0 else ("#2e7d32" if r.value >= 0 else "#c62828")
        body.append(f'<text x="{LEFT - 8}" y="{y + 13}" text-anchor="end">{escape(r.label)}</text>')
        body.append(f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 1):.1f}" height="{BAR}" '
                    f'fill="{colour}"/>')
        body.append(f'<text x="{x1 + 4:.1f}" y="{y + 13}">{r.value:+.2f}</text>')
        prev = b
    y = top + len(rows) * (BAR + GAP)
    body.append(f'<text x="{LEFT - 8}" y="{y + 13}" text-anchor="end" font-weight="bold">'
                f'match weight</text>')
    body.append(f'<text x="{xpos(total) + 4:.1f}" y="{y + 13}" font-weight="bold">'
                f'{total:+.2f}</text>')
    return _svg(WIDTH, height, body, title)


def histogram(title: str, edges: list[float], counts: list[int], xlabel: str) -> str:
    """Vertical bars of counts per bin (log-scaled heights so small bins stay visible)."""
    import math

    top, bottom, left, right = 32, 40, 60, 20
    height = 300
    plot_h = height - top - bottom
    n = max(len(counts), 1)
    bw = (WIDTH - left - right) / n
    peak = math.log10(max(counts, default=1) + 1) or 1.0
    body = []
    for i, c in enumerate(counts):
        h = math.log10(c + 1) / peak * plot_h
        body.append(f'<rect x="{left + i * bw:.1f}" y="{top + plot_h - h:.1f}" '
                    f'width="{max(bw - 1, 1):.1f}" height="{h:.1f}" fill="#1565c0">'
                    f'<title>{edges[i]:.1f} to {edges[i + 1]:.1f}: {c:,}</title></rect>')
    for i in range(0, n + 1, max(n // 8, 1)):
        x = left + i * bw
        body.append(f'<text x="{x:.1f}" y="{height - 22}" text-anchor="middle">{edges[i]:.0f}</text>')
    body.append(f'<text x="{WIDTH / 2}" y="{height - 6}" text-anchor="middle">{escape(xlabel)} '
                f'(bar heights log-scaled)</text>')
    return _svg(WIDTH, height, body, title)


def write(path: Path, svg: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(svg, encoding="utf-8")
    return path
