"""SubRip (.srt) and WebVTT (.vtt) files: parsed strictly, with line numbers in every error, and written back.

Subtitles arrive as uploads (assets of kind `subtitles`) and leave as a render's sidecar files. They are
text, so the media probe's walls do not apply; these do instead: at most MAX_BYTES, UTF-8 (a BOM is fine),
no NUL or other control characters, at most MAX_CUES cues of at most MAX_CUE_CHARS characters, times that
parse, end after start, within MAX_TIME. Cue text is kept as plain text: SRT/VTT markup (`<i>`, `{\\an8}`,
`<c.yellow>`) is removed, not interpreted, so nothing in a file can reach a renderer as markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 2 * 1024 * 1024
MAX_CUES = 5000
MAX_CUE_CHARS = 500
MAX_TIME = 24 * 3600.0

_SRT_TIME = re.compile(r"^(\d{1,3}):([0-5]\d):([0-5]\d)[,.](\d{3})$")
_VTT_TIME = re.compile(r"^(?:(\d{1,3}):)?([0-5]\d):([0-5]\d)\.(\d{3})$")
_TAGS = re.compile(r"</?[a-zA-Z][^>\n]{0,80}>|\{\\[^}\n]{0,40}\}")


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str

    def as_dict(self) -> dict[str, object]:
        return {"start": self.start, "end": self.end, "text": self.text}


class SubtitlesInvalid(ValueError):
    """A broken subtitles file; `line` is 1-based (0: the file as a whole)."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(f"line {line}: {message}" if line else message)


def subtitles_format(name: str, data: bytes) -> str | None:
    """"srt" or "vtt" when the upload claims to be subtitles (by name or by a WEBVTT header), else None."""
    lowered = name.lower()
    if lowered.endswith(".srt"):
        return "srt"
    if lowered.endswith(".vtt"):
        return "vtt"
    if data.lstrip(b"\xef\xbb\xbf").startswith(b"WEBVTT"):
        return "vtt"
    return None


def _decode(data: bytes) -> list[str]:
    if len(data) > MAX_BYTES:
        raise SubtitlesInvalid(0, f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB; subtitles are text")
    if not data.strip():
        raise SubtitlesInvalid(0, "the file is empty")
    if b"\x00" in data:
        raise SubtitlesInvalid(data[: data.index(b"\x00")].count(b"\n") + 1,
                               "the file contains NUL bytes: it is binary, not subtitles")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SubtitlesInvalid(data[: exc.start].count(b"\n") + 1,
                               "this is not UTF-8 text (save the subtitles as UTF-8)") from None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, line in enumerate(lines, 1):
        bad = next((ch for ch in line if not ch.isprintable() and ch != "\t"), None)
        if bad is not None:
            raise SubtitlesInvalid(number, f"control character U+{ord(bad):04X} is not allowed in subtitles")
    return lines


def _seconds(match: re.Match[str]) -> float:
    hours, minutes, seconds, millis = match.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000


def _timing(line: str, number: int, kind: str) -> tuple[float, float]:
    pattern = _SRT_TIME if kind == "srt" else _VTT_TIME
    example = "00:00:01,000 --> 00:00:02,500" if kind == "srt" else "00:00:01.000 --> 00:00:02.500"
    left, sep, right = line.partition("-->")
    if not sep:
        raise SubtitlesInvalid(number, f"expected a timing line like '{example}'")
    # WebVTT allows cue settings after the end time ("align:start line:90%"): they are ignored.
    right_time = right.strip().split()[0] if right.strip() else ""
    start_m, end_m = pattern.match(left.strip()), pattern.match(right_time)
    if start_m is None:
        raise SubtitlesInvalid(number, f"start time '{left.strip()[:20]}' is not a time like '{example.split()[0]}'")
    if end_m is None:
        raise SubtitlesInvalid(number, f"end time '{right_time[:20]}' is not a time like '{example.split()[0]}'")
    start, end = _seconds(start_m), _seconds(end_m)
    if end <= start:
        raise SubtitlesInvalid(number, f"the cue ends ({end:.3f} s) before or when it starts ({start:.3f} s)")
    if end > MAX_TIME:
        raise SubtitlesInvalid(number, f"the cue ends after {MAX_TIME / 3600:g} hours")
    return start, end


def _clean(lines: list[str], number: int) -> str:
    text = "\n".join(_TAGS.sub("", line).strip() for line in lines).strip()
    if not text:
        raise SubtitlesInvalid(number, "the cue has no text")
    if len(text) > MAX_CUE_CHARS:
        raise SubtitlesInvalid(number, f"the cue's text is {len(text)} characters long; at most {MAX_CUE_CHARS}")
    return text


def _blocks(lines: list[str], first: int) -> list[tuple[int, list[str]]]:
    """Blank-line separated blocks from line index `first`: (1-based line number of the block, its lines)."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = first
    for index in range(first, len(lines)):
        if lines[index].strip():
            if not current:
                start = index
            current.append(lines[index])
        elif current:
            blocks.append((start + 1, current))
            current = []
    if current:
        blocks.append((start + 1, current))
    return blocks


def _add(cues: list[Cue], cue: Cue, number: int) -> None:
    if len(cues) >= MAX_CUES:
        raise SubtitlesInvalid(number, f"more than {MAX_CUES} cues")
    cues.append(cue)


def subtitles_parse(data: bytes, kind: str) -> list[Cue]:
    """The cues of an SRT or VTT file, in file order; SubtitlesInvalid names the first broken line."""
    lines = _decode(data)
    cues: list[Cue] = []
    if kind == "vtt":
        header = lines[0].lstrip("\ufeff")
        if not (header == "WEBVTT" or header.startswith(("WEBVTT ", "WEBVTT\t"))):
            raise SubtitlesInvalid(1, "a WebVTT file must start with the line 'WEBVTT'")
        for number, block in _blocks(lines, 1):
            head = block[0].strip()
            if head.startswith(("NOTE", "STYLE", "REGION")) and "-->" not in head:
                continue  # comments, style sheets and regions carry no cue text
            offset = 0 if "-->" in head else 1  # an optional cue identifier comes first
            if offset and (len(block) < 2 or "-->" not in block[1]):
                raise SubtitlesInvalid(number + 1 if len(block) > 1 else number,
                                       "expected a timing line like '00:00:01.000 --> 00:00:02.500'")
            start, end = _timing(block[offset], number + offset, "vtt")
            _add(cues, Cue(start, end, _clean(block[offset + 1 :], number + offset)), number)
        if not cues:
            raise SubtitlesInvalid(0, "the file has no cues")
        return cues
    for number, block in _blocks(lines, 0):
        head = block[0].strip()
        if "-->" in head:
            offset = 0  # a missing counter is common and harmless
        elif head.isdigit():
            offset = 1
            if len(block) < 2:
                raise SubtitlesInvalid(number + 1, "expected a timing line like '00:00:01,000 --> 00:00:02,500' "
                                                   "after the cue number")
        else:
            raise SubtitlesInvalid(number, f"expected a cue number or a timing line, found '{head[:30]}'")
        start, end = _timing(block[offset], number + offset, "srt")
        _add(cues, Cue(start, end, _clean(block[offset + 1 :], number + offset)), number)
    if not cues:
        raise SubtitlesInvalid(0, "the file has no cues")
    return cues


def _stamp(seconds: float, separator: str) -> str:
    millis = round(max(0.0, seconds) * 1000)
    hours, rest = divmod(millis, 3600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def subtitles_to_vtt(cues: list[Cue]) -> str:
    parts = ["WEBVTT", ""]
    for cue in cues:
        # "-->" inside text would end the cue early in a player: spell the arrow differently.
        text = cue.text.replace("-->", "→")
        parts += [f"{_stamp(cue.start, '.')} --> {_stamp(cue.end, '.')}", text, ""]
    return "\n".join(parts)


def subtitles_to_srt(cues: list[Cue]) -> str:
    parts = []
    for number, cue in enumerate(cues, 1):
        text = cue.text.replace("-->", "→")
        parts += [str(number), f"{_stamp(cue.start, ',')} --> {_stamp(cue.end, ',')}", text, ""]
    return "\n".join(parts)
