"""Bytes of an import file → text lines, decoded line by line.

Why per line: one stray byte in an otherwise UTF-8 export used to make the whole file decode as
GB18030, and every good line was stored garbled with no error. Here the file's encoding is decided
once (a BOM, else UTF-8 when any non-ASCII line reads as UTF-8, else GB18030 when a real detector,
charset-normalizer, finds it as plausible as anything else), then each line is decoded strictly:
a line that does not decode is that line's error, and its neighbours are read as they are.
A file in another encoding (Big5, Shift-JIS, EUC-KR...) is refused whole, naming what it looks
like, instead of being stored as plausible wrong Chinese.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field

from core.errors import EcowatchError

_GB_FAMILY = {"gb18030", "gbk", "gb2312", "hz"}
# How much more "chaos" (charset-normalizer's mess ratio) GB18030 may show than the detector's
# best guess and still be taken: short GBK lines are often guessed as cp949 at equal chaos.
_GB_SLACK = 0.05


class EncodingRefused(EcowatchError):
    """The file is in an encoding an import does not read; nothing was read from it."""


@dataclass(slots=True)
class DecodedLines:
    """A file's lines (without line ends), its encoding, and the lines that did not decode
    (1-based line number → message); those lines hold U+FFFD replacements and must not be stored."""

    lines: list[str]
    encoding: str
    bad: dict[int, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The lines joined again (for readers that parse the whole document, e.g. CSV)."""
        return "\n".join(self.lines)


def _bad_byte(raw: bytes, exc: UnicodeDecodeError, encoding: str) -> str:
    column = len(raw[:exc.start].decode(encoding, errors="replace")) + 1
    return f"not valid {encoding.upper()} (byte 0x{raw[exc.start]:02x} at column {column})"


def _utf16(data: bytes) -> DecodedLines | None:
    for bom, name in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                      (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return DecodedLines(data.decode(name).splitlines(), name)
            except UnicodeDecodeError as exc:
                raise EncodingRefused(f"the file starts with a {name.upper()} byte-order mark but does not "
                                      f"decode as {name.upper()}: {exc.reason}") from exc
    return None


def _gb_is_plausible(data: bytes) -> tuple[bool, str]:
    from charset_normalizer import from_bytes  # ~0.1 s to import: only for files that are not UTF-8

    results = list(from_bytes(data[:200_000]))
    if not results:
        return False, "unknown"
    best = min(results, key=lambda m: m.chaos)
    gb = [m for m in results if m.encoding in _GB_FAMILY or set(m.could_be_from_charset) & _GB_FAMILY]
    return bool(gb) and min(m.chaos for m in gb) <= best.chaos + _GB_SLACK, best.encoding


def decode_lines(data: bytes) -> DecodedLines:
    """Decode ``data`` line by line (see the module docstring); raises :class:`EncodingRefused`
    for a file that is neither UTF-8 nor GB18030/GBK text."""
    wide = _utf16(data)
    if wide is not None:
        return wide
    bom = data.startswith(codecs.BOM_UTF8)
    if bom:
        data = data[len(codecs.BOM_UTF8):]
    raw_lines = data.split(b"\n")
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()
    raw_lines = [r[:-1] if r.endswith(b"\r") else r for r in raw_lines]
    try:
        return DecodedLines([r.decode("utf-8") for r in raw_lines], "utf-8-sig" if bom else "utf-8")
    except UnicodeDecodeError:
        pass
    non_ascii = [r for r in raw_lines if not r.isascii()]
    utf8_lines = 0
    for r in non_ascii:
        try:
            r.decode("utf-8")
            utf8_lines += 1
        except UnicodeDecodeError:
            pass
    if bom or utf8_lines:
        encoding = "utf-8"
    else:
        plausible, guess = _gb_is_plausible(data)
        if not plausible:
            raise EncodingRefused(f"the file is neither UTF-8 nor GB18030/GBK text (it reads as {guess}); "
                                  "save it as UTF-8 and import it again")
        encoding = "gb18030"
    out = DecodedLines([], "utf-8-sig" if bom else encoding)
    for number, raw in enumerate(raw_lines, 1):
        try:
            out.lines.append(raw.decode(encoding))
        except UnicodeDecodeError as exc:
            out.lines.append(raw.decode(encoding, errors="replace"))
            rest = "the rest of the file is UTF-8" if encoding == "utf-8" else "the rest of the file is GB18030"
            out.bad[number] = f"{_bad_byte(raw, exc, encoding)}; {rest}, this line was not imported"
    return out
