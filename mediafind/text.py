"""Text as mediafind reads it: bytes in any common encoding decoded, and cut into chunks (spans)
small enough for the model's text tower."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from mediafind.errors import UnreadableFile

# Text longer than this is cut off (with a log line): a multi-megabyte "note" is almost always a
# log or a data dump, and embedding it would hold the indexer for minutes.
MAX_TEXT_CHARS = 2_000_000


def decode_text(data: bytes) -> str:
    """Bytes of a text file in any common encoding, as str."""
    if not data.strip():
        raise UnreadableFile("empty file")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        if b"\x00" in data[:8192]:
            raise UnreadableFile("binary file, not text")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    matches = from_bytes(data[:MAX_TEXT_CHARS])
    best = matches.best()
    if best is None:
        raise UnreadableFile("not text (unknown encoding or binary file)")
    # Short text often fits several single-byte code pages equally well (cp1250 is tried first);
    # on a tie, Windows-1252, by far the most common of them, reads "crème" as written.
    for match in matches:
        tied = (match.chaos, match.coherence) == (best.chaos, best.coherence)
        if tied and "cp1252" in match.could_be_from_charset:
            return str(match)
    return str(best)


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    text: str
    page: int | None = None
    heading: str | None = None


_WORD = re.compile(r"\S+")
_SENTENCE_END = re.compile(r"[.!?…:;][\"'”’)\]]*$")


def _natural_end(text: str, words: list[tuple[int, int]], i: int, j: int) -> int:
    """Where to end a span of words[i:j] that had to stop at j: after the last paragraph break,
    else the last sentence end, in its second half; else at j."""
    half = i + (j - i) // 2
    for k in range(j - 1, half, -1):
        if "\n\n" in text[words[k - 1][1] : words[k][0]]:
            return k
    for k in range(j - 1, half - 1, -1):
        if _SENTENCE_END.search(text[words[k][0] : words[k][1]]):
            return k + 1
    return j


def chunk_text(
    text: str,
    count_tokens: Callable[[str], int],
    max_tokens: int,
    overlap_tokens: int,
) -> list[Span]:
    """Cut text into spans of at most max_tokens tokens (as the model's tokenizer counts them),
    consecutive spans sharing about overlap_tokens tokens so a sentence cut in two is still
    whole in one of them. A span ends, where it can, at a paragraph break, else at the end of a
    sentence, rather than mid-sentence."""
    words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    if not words:
        return []
    counted = lru_cache(maxsize=16384)(count_tokens)
    costs = [max(1, counted(text[s:e])) for s, e in words]
    spans: list[Span] = []
    i = 0
    while i < len(words):
        j, used = i, 0
        while j < len(words) and used + costs[j] <= max_tokens:
            used += costs[j]
            j += 1
        if j == i:
            j = i + 1  # one word longer than the limit: alone, the tokenizer truncates it
        elif j < len(words):
            j = _natural_end(text, words, i, j)
        start, end = words[i][0], words[j - 1][1]
        spans.append(Span(start, end, " ".join(text[start:end].split())))
        if j == len(words):
            break
        k, shared = j, 0
        while k - 1 > i and shared + costs[k - 1] <= overlap_tokens:
            shared += costs[k - 1]
            k -= 1
        i = k
    return spans
