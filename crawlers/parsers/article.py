"""Article pages → title, body, date, author: CSS rules (data) first, main-text extraction
(trafilatura) for whatever the rules do not give."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import trafilatura
from parsel import Selector

from core.timeutil import SHANGHAI
from crawlers.dates import find_date

_DATETIME_ON = (r"{y}\s*[-/.年]\s*0?{m}\s*[-/.月]\s*0?{d}\s*日?\s*"
                r"(\d{{1,2}})\s*[:：]\s*(\d{{2}})(?:\s*[:：]\s*(\d{{2}}))?")
_META_DATE = ("meta[name=publishdate]::attr(content)", "meta[name=firstpublishedtime]::attr(content)",
              "meta[name=PubDate]::attr(content)",
              "meta[property='article:published_time']::attr(content)", "meta[name=pubdate]::attr(content)",
              "meta[name=publish_time]::attr(content)")


@dataclass(slots=True)
class Article:
    """What was read from one article page."""

    title: str
    text: str
    published_at: dt.datetime | None
    author: str | None


def _pick(sel: Selector, css: str | None, joiner: str = " ") -> str:
    if not css:
        return ""
    return joiner.join(t.strip() for t in sel.css(css).getall() if t.strip())


def parse_date(text: str, formats: list[str] | None = None) -> dt.datetime | None:
    """A date as the site prints it: ``date_formats`` from the rules (strptime, local time)
    tried on each whitespace-separated window first, then the usual Chinese forms."""
    text = text.strip()
    for fmt in formats or []:
        for candidate in (text, *_windows(text)):
            try:
                return dt.datetime.strptime(candidate, fmt).replace(tzinfo=SHANGHAI).astimezone(dt.UTC)
            except ValueError:
                continue
    return find_date(text)


def _windows(text: str) -> list[str]:
    words = text.split()
    return [" ".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, min(len(words), i + 3) + 1)]


def _with_time(day: dt.date, page_text: str) -> dt.datetime | None:
    """The page's printed time on ``day`` ("2019-09-18 10:22"), which extractors drop."""
    m = re.search(_DATETIME_ON.format(y=day.year, m=day.month, d=day.day), page_text)
    if not m:
        return None
    h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    try:
        return dt.datetime(day.year, day.month, day.day, h, mi, s, tzinfo=SHANGHAI).astimezone(dt.UTC)
    except ValueError:
        return None


def extract_article(html_text: str, url: str | None = None, rules: dict[str, Any] | None = None) -> Article:
    """Read one article. Rules (CSS, optional): ``title``, ``body``, ``date``, ``author``,
    ``date_formats``. Pure: no I/O."""
    rules = rules or {}
    sel = Selector(text=html_text)
    title = _pick(sel, rules.get("title"))
    body = _pick(sel, rules.get("body"), "\n")
    date_text = _pick(sel, rules.get("date"))
    published = parse_date(date_text, rules.get("date_formats")) if date_text else None
    author = _pick(sel, rules.get("author")) or None
    if not (title and body and published):
        meta: dict[str, Any] = {}
        extracted = trafilatura.bare_extraction(html_text, url=url, with_metadata=True, include_comments=False,
                                                include_tables=False)
        if extracted is not None:
            meta = extracted if isinstance(extracted, dict) else extracted.as_dict()
        title = title or _fix_title((meta.get("title") or "").strip(), _pick(sel, "title::text"))
        body = body or _best_body(sel, (meta.get("text") or "").strip())
        author = author or (meta.get("author") or None)
        if published is None:
            published = _page_date(sel, meta.get("date"))
    return Article(title=title.strip(), text=body.strip(), published_at=published, author=author)


_LABELLED = re.compile(r"(?:发布时间|发布日期|发稿时间|时间|日期)\s*[:：]\s*")


def _labelled_date(page_text: str) -> dt.datetime | None:
    """The date a page labels as its publish time ("发布时间：2026-11-26 08:15")."""
    for m in _LABELLED.finditer(page_text):
        found = find_date(page_text[m.end(): m.end() + 30])
        if found:
            return found
    return None


def _page_date(sel: Selector, extracted: str | None) -> dt.datetime | None:
    page_text = " ".join(sel.css("body ::text").getall())
    for css in _META_DATE:
        value = sel.css(css).get()
        if value and (found := find_date(value)):
            local = found.astimezone(SHANGHAI)
            if (local.hour, local.minute) == (0, 0):  # a date-only meta: the page may print the time
                return _with_time(local.date(), page_text) or found
            return found
    labelled = _labelled_date(page_text)
    if labelled:
        return labelled
    if extracted:
        try:
            day = dt.date.fromisoformat(extracted[:10])
        except ValueError:
            day = None
        if day:
            return _with_time(day, page_text) or dt.datetime(day.year, day.month, day.day,
                                                             tzinfo=SHANGHAI).astimezone(dt.UTC)
    return find_date(page_text)


# "-" only counts with spaces around it or doubled, so "1-10月德清县..." keeps its range.
_TITLE_SEP = re.compile(r"\s+-\s+|\s*(?:--|[_|—–]{1,2})\s*")


def _fix_title(extracted: str, page_title: str) -> str:
    """Extractors sometimes take the site logo's heading for the title ("山西省人民政府网站"); when
    that text only appears in the site-name part of ``<title>``, use ``<title>``'s first part."""
    parts = [p for p in _TITLE_SEP.split(page_title.strip()) if p]
    if not extracted:
        return parts[0] if parts else ""
    if parts and extracted not in parts[0] and any(_similar(extracted, p) for p in parts[1:]):
        return parts[0]
    return extracted


def _similar(a: str, b: str) -> bool:
    """Most characters of the shorter string occur in the longer (site names vary: 门户网站/网站)."""
    short, long_ = sorted((a, b), key=len)
    return bool(short) and sum(ch in long_ for ch in short) / len(short) >= 0.8


def _link_share(sel: Selector, text: str) -> float:
    """Share of ``text``'s lines that are link texts: near 1 for a list of related articles."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return 1.0
    links = {" ".join(t.split()) for t in sel.css("a ::text").getall() if t.strip()}
    return sum(len(line) for line in lines if " ".join(line.split()) in links) / sum(len(line) for line in lines)


def _densest_block(sel: Selector) -> str:
    """The block whose own paragraphs hold the most text (the classic text-density fallback)."""
    best = ""
    for el in sel.xpath("//div|//td|//article|//section"):
        paras = [" ".join(p.split()) for p in el.xpath("./p|./section").xpath("string()").getall()]
        text = "\n".join(p for p in paras if p)
        if len(text) > len(best):
            best = text
    return best


def _best_body(sel: Selector, extracted: str) -> str:
    """trafilatura's text, unless it is too short or mostly links (navigation, related articles),
    in which case the densest paragraph block when that is longer."""
    if len(extracted) >= 200 and _link_share(sel, extracted) < 0.5:
        return extracted
    dense = _densest_block(sel)
    return dense if len(dense) > len(extracted) or _link_share(sel, extracted) >= 0.5 else extracted
