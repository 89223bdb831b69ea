"""Text as mediafind reads it: bytes in any common encoding decoded, and cut into chunks (spans)
small enough for the model's text tower."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from mediafind.errors import EMPTY_FILE, NothingToRead, UnreadableFile

# Text longer than this is cut off (with a log line): a multi-megabyte "note" is almost always a
# log or a data dump, and embedding it would hold the indexer for minutes.
MAX_TEXT_CHARS = 2_000_000


def decode_text(data: bytes) -> str:
    """Bytes of a text file in any common encoding, as str."""
    if not data.strip():
        raise NothingToRead(EMPTY_FILE)
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    wide = _utf16_without_bom(data)
    if wide is not None:
        return data.decode(wide, errors="replace")
    if not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        if b"\x00" in data[:8192]:
            raise UnreadableFile("binary file, not text")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        european = _european(data)
        if european is not None:
            return european
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


def decode_head(data: bytes, limit: int) -> tuple[str, bool]:
    """decode_text of data's first limit bytes, cut where a character starts; and whether data
    goes on past them."""
    if len(data) <= limit:
        return decode_text(data), False
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _utf16_without_bom(data) is not None:
        limit -= limit % 4  # whole UTF-16 code units (and UTF-32 ones)
    else:
        while limit > 0 and data[limit] & 0xC0 == 0x80:
            limit -= 1  # not inside a UTF-8 sequence
    return decode_text(data[:limit]), True


# Bytes looked at to tell UTF-16 or UTF-32 without a byte-order mark from binary data.
_WIDE_SAMPLE = 8192
# Each with the size of its units and where in a unit its zero bytes may fall: text of the Latin
# alphabet has a zero in every character's high byte(s), binary data has zeros anywhere. UTF-32
# first: its text also fits UTF-16's pattern for half of its zeros.
_WIDE_ZEROS = (
    ("utf-32-le", 4, frozenset({1, 2, 3})),
    ("utf-32-be", 4, frozenset({0, 1, 2})),
    ("utf-16-le", 2, frozenset({1})),
    ("utf-16-be", 2, frozenset({0})),
)


def _utf16_without_bom(data: bytes) -> str | None:
    """The UTF-16 or UTF-32 codec of text written without a byte-order mark (Windows' "Unicode"
    text, some exports), judged by where its zero bytes fall and whether it then reads as text
    without control characters; None for anything else."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return None
    sample = data[: _WIDE_SAMPLE - _WIDE_SAMPLE % 4]
    if b"\x00" not in sample:
        return None
    zeros = {i % 4 for i, byte in enumerate(sample) if byte == 0}
    for codec, unit, allowed in _WIDE_ZEROS:
        if {z % unit for z in zeros} - allowed or (unit == 4 and len(sample) % 4):
            continue
        if unit == 4 and any(sample[3::4] if codec.endswith("le") else sample[0::4]):
            continue  # UTF-32: the top byte of every character is zero
        text = sample[: len(sample) - len(sample) % unit].decode(codec, errors="replace")
        # The sample may end inside a character, nowhere else.
        if "\ufffd" not in text[:-2] and not _CONTROL.search(text):
            return codec
    return None


# A text file that is not UTF-8 was most likely written by Windows in Western Europe
# (Windows-1252, whose letters Latin-1 shares) or in Central Europe (Windows-1250). charset-
# normalizer weighs every code page by letter statistics that short text cannot give: it reads
# "Il caffè è pronto" as cp1250's "Il caffč č pronto", German as Mac Roman's "B‰r", French as
# DOS's "cr×me", and Polish as cp1252's "by³a piêkna". So these two readings are judged first,
# by the accented letters each gives: all of them must belong to one language of its region.
# Read in the wrong one of the two, a text gives letters of several languages at once (Czech č
# and ě as French "è" beside Italian "ì"), or signs inside words (Polish ł as "³").
CODE_PAGE_LANGUAGES = {
    "cp1252": (
        "àâçéèêëîïôœùûüÿ",  # French (without the æ of "ex æquo", which Croatian ć reads as)
        "äöüßé",  # German, with the é of its loan words (Café)
        "áéíñóúü",  # Spanish
        "áâãàçéêíóôõú",  # Portuguese
        "àèéìíîòóù",  # Italian
        "àçèéíïòóúü",  # Catalan
        "áäéèëïöóü",  # Dutch
        "åäöæøéü",  # Danish, Norwegian, Swedish, Finnish
        "áðéíóúýþæö",  # Icelandic
    ),
    "cp1250": (
        "áčďéěíňóřšťúůýž",  # Czech
        "áäčďéíĺľňóôŕšťúýž",  # Slovak
        "ąćęłńóśźż",  # Polish
        "áéíóöőúüű",  # Hungarian
        "čćđšž",  # Croatian, Bosnian, Serbian in Latin letters, Slovene
        "ăâîşţ",  # Romanian (cp1250 has the cedilla forms of ș and ț)
    ),
}
_LANGUAGES = {
    code_page: tuple(frozenset(letters) for letters in languages)
    for code_page, languages in CODE_PAGE_LANGUAGES.items()
}
# At most this share of the letters may be accented: these languages are mostly ASCII (French
# ~4% accented, Czech ~15%), while Greek or Cyrillic read in either code page is almost all
# accented letters, which no table above would then catch if they happened to fit one.
MAX_ACCENTED_SHARE = 0.4
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_ASCII_LETTER = re.compile(r"[A-Za-z]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# Signs at home between two letters: the typographic apostrophe (l’eau), the Catalan middle dot
# (col·lecció) and dashes; and those at home beside one: quotes, the ellipsis, Spanish ¡ and ¿,
# ™, °, m², nº. Any other sign touching a letter is the mark of another code page's letter
# (Polish "by³" for był, Romanian "Braºov" for Braşov).
_WORD_SIGNS = frozenset("’‘·‐–—")
_EDGE_SIGNS = _WORD_SIGNS | frozenset("“”„«»‹›…¡¿™®©°²ªº€£¥§•†")


def _european(data: bytes) -> str | None:
    """data read as Windows-1252 or Windows-1250, when it reads as a language of the region in
    that code page (tried in this order); else None."""
    for code_page, languages in _LANGUAGES.items():
        try:
            text = data.decode(code_page)
        except UnicodeDecodeError:  # a byte this code page leaves undefined
            continue
        if reads_as(text, languages):
            return text
    return None


def reads_as(text: str, languages: tuple[frozenset[str], ...]) -> bool:
    """Whether text is plausibly in one of languages (each the set of its accented letters):
    no control characters, no stray sign in a word, few accented letters, all of one
    language."""
    if _CONTROL.search(text):
        return False
    accented: list[str] = []
    for found in _NON_ASCII.finditer(text):
        char, i = found.group(), found.start()
        if char.isalpha() and char not in "ªº":
            accented.append(char.lower())
            continue
        before = i > 0 and text[i - 1].isalpha()
        after = i + 1 < len(text) and text[i + 1].isalpha()
        if (before and after and char not in _WORD_SIGNS) or (
            (before or after) and char not in _EDGE_SIGNS
        ):
            return False
    if not accented:
        return True  # only signs (€, “ ”, …), which both code pages put alike
    letters = len(_ASCII_LETTER.findall(text)) + len(accented)
    if len(accented) > MAX_ACCENTED_SHARE * letters:
        return False
    return any(language.issuperset(accented) for language in languages)


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    text: str
    page: int | None = None
    heading: str | None = None


# A word is a run without whitespace, but each ideograph or kana is a word of its own: Chinese
# and Japanese are written without spaces, and a paragraph of them read as one word would be cut
# to MAX_RUN_CHARS (and not split into chunks at all).
_IDEOGRAPHIC = "\u3001-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_WORD = re.compile(f"[{_IDEOGRAPHIC}]|[^\\s{_IDEOGRAPHIC}]+")
# A word longer than this is cut to it before the tokenizer sees it: CLIP's tokenizer costs grow
# with the square of a word's length (8,000 letters took 2 s, a 150,000-letter base64 blob or
# unwrapped sequence minutes), and the text tower reads 77 tokens (about 300 characters of
# prose), so the rest of such a word could never count. Longer would cost more per character
# of a note made of such words (a 300-letter word takes ~9 ms), shorter would cut long URLs.
MAX_RUN_CHARS = 300
_LONG_RUN = re.compile(rf"\S{{{MAX_RUN_CHARS + 1},}}")


def cap_words(text: str) -> str:
    """text with every run without whitespace longer than MAX_RUN_CHARS cut to it (what a query
    is encoded from; chunk_text caps the words of a file's text alike)."""
    return _LONG_RUN.sub(lambda m: m.group()[:MAX_RUN_CHARS], text)


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
    costs = [max(1, counted(text[s : min(e, s + MAX_RUN_CHARS)])) for s, e in words]
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
        spans.append(Span(words[i][0], words[j - 1][1], _joined(text, words, i, j)))
        if j == len(words):
            break
        k, shared = j, 0
        while k - 1 > i and shared + costs[k - 1] <= overlap_tokens:
            shared += costs[k - 1]
            k -= 1
        i = k
    return spans


def _joined(text: str, words: list[tuple[int, int]], i: int, j: int) -> str:
    """words[i:j] as one line: each cut to MAX_RUN_CHARS, one space where text had whitespace
    (none between ideographs, as they were written)."""
    parts: list[str] = []
    for k in range(i, j):
        start, end = words[k]
        if k > i and start > words[k - 1][1]:
            parts.append(" ")
        parts.append(text[start : min(end, start + MAX_RUN_CHARS)])
    return "".join(parts)
