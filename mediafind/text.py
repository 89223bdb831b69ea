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
