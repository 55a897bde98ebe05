"""The briefing as one self-contained HTML page (charts inline); every text from the store is escaped
and made inert (``core.display_text``: no bidi override can reverse a title)."""

from __future__ import annotations

import base64
import html
from urllib.parse import urlsplit

from briefing.figures import Briefing
from briefing.layout import Block, blocks
from core.display_text import displayable


def escape(text: str, quote: bool = True) -> str:
    """``text`` as HTML text, without the invisible characters that reorder what is shown."""
    return html.escape(displayable(text), quote)

_CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",sans-serif;
max-width:60em;margin:2em auto;padding:0 1em;color:#222;line-height:1.6}
h1.title{text-align:center;font-size:1.6em}p.subtitle{text-align:center;color:#555}
p.note{border-left:4px solid #a01c1c;background:#fbeaea;padding:.5em .8em;font-weight:bold}
table{border-collapse:collapse;margin:.3em 0 1.2em;font-size:.9em}th,td{border:1px solid #999;padding:.2em .5em}
th{background:#eef2f6}caption{text-align:left;font-weight:bold;padding:.2em 0}
blockquote{margin:.3em 0 .3em 1.5em;color:#333}blockquote cite{color:#777;font-size:.85em;font-style:normal}
p.link{margin:.1em 0 .1em 1.5em;font-size:.85em;color:#555}img{max-width:100%}
div.blank{border:1px dashed #999;margin:.3em 0 1em}
"""


def _safe_url(url: str | None) -> str | None:
    """Only http(s) links are made clickable: a crawled ``javascript:`` address stays text."""
    if not url:
        return None
    return url if urlsplit(url).scheme.lower() in ("http", "https") else None


def render_html(b: Briefing, charts: dict[str, bytes]) -> str:
    """The HTML page."""
    return render_blocks_html(b.title, blocks(b), charts)


def render_blocks_html(title: str, laid_out: list[Block], charts: dict[str, bytes]) -> str:
    """Any document laid out as blocks (a briefing, a special report) as one HTML page."""
    out = ["<!doctype html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
           f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"]
    for block in laid_out:
        text = escape(block.text)
        if block.kind == "title":
            out.append(f'<h1 class="title">{text}</h1>')
        elif block.kind == "subtitle":
            out.append(f'<p class="subtitle">{text}</p>')
        elif block.kind == "h1":
            out.append(f"<h2>{text}</h2>")
        elif block.kind == "h2":
            out.append(f"<h3>{text}</h3>")
        elif block.kind == "note":
            out.append(f'<p class="note">【提示】{text}</p>')
        elif block.kind == "p":
            out.append(f"<p>{text}</p>")
        elif block.kind == "blank":  # a space left for the officer to write in
            out.append(f'<div class="blank" style="min-height:{1.6 * block.lines:g}em"></div>')
        elif block.kind == "table":
            head = "".join(f"<th>{escape(h)}</th>" for h in block.header)
            rows = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in block.rows)
            out.append(f"<table><caption>{text}</caption><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif block.kind == "chart":
            png = charts.get(block.chart or "")
            if png:
                data = base64.b64encode(png).decode("ascii")
                out.append(f'<p><img alt="{text}" src="data:image/png;base64,{data}"></p>')
        elif block.kind == "quote":
            out.append(f"<blockquote>“{text}” <cite>（{escape(block.ref or '')}）</cite></blockquote>")
        elif block.kind == "link":
            url = _safe_url(block.url)
            where = (f' <a href="{escape(url, quote=True)}" rel="noopener noreferrer">{escape(url)}</a>' if url
                     else (f" {escape(block.url)}" if block.url else ""))
            out.append(f'<p class="link">{escape(block.ref or "")}　{text}{where}</p>')
    out.append("</body></html>")
    return "\n".join(out)
