"""One email as a 信息简报: who sent it, its title, its text, its files, when it was sent.

Pure (bytes in, a :class:`ParsedMail` out, or :class:`MailError` saying why not). Government mail
here is often GB2312/GBK, whose labels understate what the sender's client wrote: every GB label is
decoded as GB18030 (a superset), in RFC 2047 encoded words, in bodies, in attachment names, and in
headers some clients put on the wire as raw 8-bit GBK. An HTML-only mail becomes plain text (tags,
scripts and styles dropped, entities resolved): what is kept is text, shown escaped like every
brief. The content hash is over what the brief is made of (sender, subject, date, text, files), so
the same mail fetched from IMAP and saved as an .eml is one brief, whatever the relays added.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from email.header import decode_header
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import collapse_rfc2231_value, getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

from core.errors import EcowatchError

# A mail bigger than this is refused whole (the attachments' own limit is the brief's).
MAX_MAIL_BYTES = 30 * 1024 * 1024
# The files a brief may carry: Word documents, PDF and images (a 信息简报 is a document or a photo).
ATTACHMENT_TYPES: dict[str, str] = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".doc": "application/msword", ".wps": "application/vnd.ms-works", ".pdf": "application/pdf",
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".bmp": "image/bmp",
    ".webp": "image/webp",
}
_GB = {"gb2312", "gbk", "gb18030", "gb_2312-80", "x-gbk", "cp936", "euc-cn", "x-euc-cn", "csgb2312", "hz-gb-2312"}
# 转发 / 回复 markers and the brief's own tag, in any order and repeated, before the real title.
_PREFIX = re.compile(r"^\s*(?:(?:转发|转|回复|答复|Fwd?|FW|Re|AW|TR)\s*[:：]\s*"
                     r"|【信息简报】|\[信息简报\]|信息简报\s*[:：]\s*)", re.IGNORECASE)
# "观音桥街道：…" / "观音桥街道:" / "【观音桥街道】…" at the start of the title: who the brief is from.
_UNIT_HEAD = re.compile(r"^\s*(?:【([^】]{2,30})】|\[([^\]]{2,30})\]|([^：:\s]{2,30})\s*[:：])\s*")


# The title of a brief whose mail had no subject (it goes to triage: the officer looks at it).
NO_SUBJECT = "（无主题）"


class MailError(EcowatchError):
    """This mail cannot become a brief (the reason says why); the others still can."""


@dataclass(slots=True, frozen=True)
class MailFile:
    """An attachment as sent."""

    name: str
    mime: str
    data: bytes


@dataclass(slots=True, frozen=True)
class ParsedMail:
    """What a brief is made of, read from one mail."""

    message_id: str | None
    sender: str  # the From address, lower-cased
    sender_name: str
    subject: str
    title: str  # the subject without 转发/Fwd/【信息简报】
    unit_hint: str | None  # what the title's head names (观音桥街道 in 观音桥街道：…), as written; None: none
    rest: str  # the title after that head (the title when the head names no submitter)
    text: str
    sent_at: dt.datetime | None  # the Date header (None when missing or unreadable)
    files: tuple[MailFile, ...]
    skipped: tuple[str, ...] = field(default=())  # attachments not kept, each with why
    content_hash: str = ""
    auth_results: tuple[str, ...] = field(default=())  # the Authentication-Results headers, as received


def _codec(charset: str | None) -> str:
    name = (charset or "utf-8").strip().strip('"').lower()
    return "gb18030" if name in _GB else name


def _bytes_text(data: bytes, charset: str | None) -> str:
    """Bytes in ``charset`` (GB labels read as GB18030); unknown or wrong labels fall back to UTF-8,
    then GB18030, then UTF-8 with replacement characters (a wrong label costs a few characters,
    never the mail)."""
    for codec in (_codec(charset), "utf-8", "gb18030"):
        try:
            return data.decode(codec)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", errors="replace")


def header_text(value: object) -> str:
    """A header as text: RFC 2047 encoded words decoded (GB labels as GB18030), raw 8-bit bytes
    (which compat32 keeps as surrogates) read as UTF-8 or GB18030, folding removed."""
    if value is None:
        return ""
    raw = str(value)
    if any("\udc80" <= ch <= "\udcff" for ch in raw):
        return _bytes_text(raw.encode("ascii", "surrogateescape"), None).replace("\r", "").replace("\n", "")
    parts = []
    try:
        decoded = decode_header(raw)
    except (ValueError, IndexError):
        return raw
    for chunk, charset in decoded:
        parts.append(_bytes_text(chunk, charset) if isinstance(chunk, bytes) else chunk)
    return re.sub(r"\s*[\r\n]+\s*", " ", "".join(parts)).strip()


def clean_title(subject: str) -> tuple[str, str | None, str]:
    """(title, the name at its head or None, the title after that head): 转发/Fwd/Re/【信息简报】
    taken off, repeatedly. Whether the head is a submitter is the caller's question (it has the pack)."""
    title = subject.strip()
    while True:
        stripped = _PREFIX.sub("", title, count=1)
        if stripped == title:
            break
        title = stripped
    title = title.strip()
    head = _UNIT_HEAD.match(title)
    if head is None:
        return title, None, title
    return title, next(g for g in head.groups() if g).strip(), title[head.end():].strip() or title


class _Text(HTMLParser):
    """The visible text of an HTML body: tags dropped, <script>/<style> with their content, block
    elements as line breaks, entities resolved."""

    _BLOCKS = frozenset({"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head", "title"):
            self._hidden += 1
        elif tag in self._BLOCKS:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title"):
            self._hidden = max(0, self._hidden - 1)
        elif tag in self._BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.out.append(data)


def html_to_text(html: str) -> str:
    """Plain text of an HTML mail body (no markup survives: shown, it is inert)."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    lines = [re.sub(r"[ \t\u00a0\u3000]+", " ", line).strip() for line in "".join(parser.out).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _filename(part: Message) -> str | None:
    raw = part.get_param("filename", header="content-disposition") or part.get_param("name")
    if raw is None:
        return None
    if isinstance(raw, tuple):  # RFC 2231: (charset, language, value)
        charset = raw[0] or "utf-8"
        raw = collapse_rfc2231_value((_codec(charset), raw[1], raw[2]))
    name = header_text(str(raw))
    name = re.sub(r"[\\/\x00-\x1f]", "_", name).strip().strip(".")
    return name or None


def _payload(part: Message) -> bytes:
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _sent_at(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        at = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if at is None:
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


def parse_mail(raw: bytes, max_file_bytes: int, max_files: int) -> ParsedMail:
    """Read one mail; MailError when it has no sender or nothing to read."""
    if len(raw) > MAX_MAIL_BYTES:
        raise MailError(f"邮件超过 {MAX_MAIL_BYTES // (1024 * 1024)} MB")
    try:
        msg = BytesParser(policy=compat32).parsebytes(raw)
    except (ValueError, TypeError, IndexError, LookupError) as exc:
        raise MailError(f"邮件无法解析：{exc}") from exc
    addresses = [(header_text(n), a) for n, a in getaddresses([str(v) for v in msg.get_all("from", [])]) if "@" in a]
    if not addresses:
        raise MailError("邮件没有可识别的发件人地址（From）")
    sender_name, sender = addresses[0][0], addresses[0][1].strip().lower()
    subject = header_text(msg.get("subject"))
    title, unit_hint, rest = clean_title(subject)
    plain: list[str] = []
    html: list[str] = []
    files: list[MailFile] = []
    skipped: list[str] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        name = _filename(part)
        disposition = (part.get("content-disposition") or "").split(";")[0].strip().lower()
        if name is None and disposition != "attachment" and part.get_content_type() in ("text/plain", "text/html"):
            text = _bytes_text(_payload(part), part.get_content_charset())
            (plain if part.get_content_type() == "text/plain" else html).append(text)
            continue
        _keep_file(name, part, files, skipped, max_file_bytes, max_files)
    text = "\n\n".join(t.strip() for t in plain if t.strip()) or html_to_text("\n".join(html))
    text = text.replace("\r\n", "\n").strip()
    if not text and files:
        text = "（正文见附件：" + "、".join(f.name for f in files) + "）"
    if not text:
        raise MailError("邮件既无正文也无可保存的附件")
    message_id = (header_text(msg.get("message-id")).strip().strip("<>").strip() or None)
    sent_at = _sent_at(msg.get("date"))
    digest = hashlib.sha256()
    for piece in (sender, subject, sent_at.isoformat() if sent_at else "", text):
        digest.update(piece.encode("utf-8", "surrogatepass") + b"\x00")
    for f in files:
        digest.update(f.name.encode("utf-8", "surrogatepass") + b"\x00" + hashlib.sha256(f.data).digest())
    title = title or NO_SUBJECT
    return ParsedMail(message_id[:300] if message_id else None, sender[:200], sender_name[:100], subject, title[:200],
                      unit_hint, (rest or title)[:200], text, sent_at, tuple(files), tuple(skipped), digest.hexdigest(),
                      tuple(str(v) for v in msg.get_all("authentication-results", [])))


def _keep_file(name: str | None, part: Message, files: list[MailFile], skipped: list[str], max_bytes: int,
               max_files: int) -> None:
    if name is None:  # an inline image or a nameless PDF: named by its type
        typed = next((s for s, mime in ATTACHMENT_TYPES.items() if mime == part.get_content_type()), "")
        name = f"附件{len(files) + 1}{typed}" if typed else None
    label = name or f"（未命名的 {part.get_content_type()}）"
    suffix = ("." + name.rsplit(".", 1)[-1].lower()) if name and "." in name else ""
    if suffix not in ATTACHMENT_TYPES:
        skipped.append(f"{label}：不是 DOCX/DOC/PDF/图片，未保存")
        return
    data = _payload(part)
    if len(data) > max_bytes:
        skipped.append(f"{label}：超过 {max_bytes // (1024 * 1024)} MB，未保存")
    elif len(files) >= max_files:
        skipped.append(f"{label}：附件最多 {max_files} 个，未保存")
    elif not data:
        skipped.append(f"{label}：空文件，未保存")
    else:
        files.append(MailFile(label[:200], ATTACHMENT_TYPES[suffix], data))
