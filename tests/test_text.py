"""Text as mediafind reads it: any encoding decoded, cut into chunks that fit the model."""

from __future__ import annotations

import io
import itertools

import pytest
from PIL import Image

from mediafind import text as text_module
from mediafind.errors import UnreadableFile
from mediafind.text import Span, chunk_text, decode_text


def encoded(img: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def words_counter(text: str) -> int:
    """A stand-in tokenizer: one token per word, two for long words."""
    return sum(2 if len(word) > 6 else 1 for word in text.split())


# -- decoding ----------------------------------------------------------------------------------

FRENCH = "Café crème, naïve façade — déjà vu à Noël."


def test_utf8_text_decodes() -> None:
    assert decode_text(FRENCH.encode("utf-8")) == FRENCH


def test_utf8_with_bom_loses_the_bom() -> None:
    assert decode_text(b"\xef\xbb\xbf" + FRENCH.encode("utf-8")) == FRENCH


def test_utf16_with_bom_decodes() -> None:
    assert decode_text(FRENCH.encode("utf-16")) == FRENCH


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_western_legacy_text_decodes_to_the_right_accents(encoding: str) -> None:
    assert decode_text("Café crème, naïve".encode(encoding)) == "Café crème, naïve"


# Short notes that charset-normalizer alone reads in the wrong code page: cp1250's "caffč",
# Mac Roman's "B‰r", DOS's "cr×me" and "ni±a".
WESTERN = [
    "crème à Paris",
    "Liste: crème, beurre, œufs, farine. À acheter avant jeudi.",
    "Rendez-vous au café près de l’église à midi, 5 € — « très bon ».",
    "Der Bär läuft über die Straße und frisst Äpfel.",
    "Öffnungszeiten: Montag bis Freitag, 9–17 Uhr. Grüße, Jürgen",
    "La niña pequeña jugó en el jardín con su perro. ¿Mañana?",
    "Il caffè è pronto, però la città è lontana.",
    "Smørrebrød på Østerbro, Århus.",
]


@pytest.mark.parametrize("words", WESTERN)
def test_western_european_text_in_windows_1252_decodes_as_written(words: str) -> None:
    assert decode_text(words.encode("cp1252")) == words


# Long enough that their letters say which language they are in.
CENTRAL = [
    "Včera jsme byli v Praze na výstavě. Počasí bylo krásné, ale večer začalo pršet. Děti si "
    "koupily zmrzlinu a já jsem si dal čaj.",
    "Wczoraj byliśmy w Krakowie. Pogoda była piękna, ale wieczorem zaczęło padać. Dzieci "
    "kupiły lody, a ja wypiłem herbatę.",
    "Tegnap Budapesten voltunk. Az idő szép volt, de este esni kezdett. A gyerekek fagylaltot "
    "ettek, én teát ittam. Különösen tetszett a híd.",
    "Jučer smo bili u Zagrebu, vrijeme je bilo lijepo. Djeca su jela sladoled, a ja sam pio "
    "čaj. Ćevapi su bili odlični.",
    "Příliš žluťoučký kůň úpěl ďábelské ódy.",
]


@pytest.mark.parametrize("words", CENTRAL)
def test_central_european_text_in_windows_1250_still_decodes_as_written(words: str) -> None:
    assert decode_text(words.encode("cp1250")) == words


@pytest.mark.parametrize("words", [*WESTERN, *CENTRAL])
def test_the_same_text_in_utf8_is_read_as_utf8(words: str) -> None:
    assert decode_text(words.encode("utf-8")) == words


@pytest.mark.parametrize(
    ("words", "encoding"),
    [
        ("Привет! Сегодня хорошая погода, мы гуляли в парке.", "cp1251"),
        ("Καλημέρα, σήμερα είναι ωραία μέρα για βόλτα.", "cp1253"),
    ],
)
def test_other_scripts_in_their_code_pages_are_not_taken_for_european_letters(
    words: str, encoding: str
) -> None:
    assert decode_text(words.encode(encoding)) == words


CHINESE = (
    "我们在海边看到了一只红色的圆形风筝，孩子们都很高兴。"
    "明天我们还要去公园散步，看看那里的花。"
    "下午天气很好，大家一起吃了冰淇淋，拍了很多照片。"
)
JAPANESE = (
    "昨日は友達と一緒に京都の古いお寺を訪ねました。"
    "紅葉がとても綺麗で、写真をたくさん撮りました。"
    "帰りに抹茶のお菓子を買って、家族と一緒に食べました。"
)


@pytest.mark.parametrize(("words", "encoding"), [(CHINESE, "gb18030"), (JAPANESE, "shift_jis")])
def test_east_asian_legacy_text_decodes(words: str, encoding: str) -> None:
    assert decode_text(words.encode(encoding)) == words


def test_binary_data_is_not_text() -> None:
    with pytest.raises(UnreadableFile):
        decode_text(encoded(Image.new("RGB", (8, 8)), "PNG"))


def test_blank_file_is_not_text() -> None:
    with pytest.raises(UnreadableFile, match="empty"):
        decode_text(b" \n\t\n")


# -- chunks ------------------------------------------------------------------------------------

LONG_TEXT = (
    "The  lighthouse keeper\nwalked along the shore every morning, counting seagulls and "
    "collecting driftwood.\n\nIn winter the storms were terrible; in summer the tourists "
    "arrived with cameras, kites and enormous umbrellas. Nobody remembered who had painted "
    "the lighthouse red, but everybody agreed it was the right colour."
)


def test_chunks_fit_the_limit_overlap_and_cover_every_word() -> None:
    spans = chunk_text(LONG_TEXT, words_counter, 12, 3)

    assert len(spans) > 3
    assert all(words_counter(span.text) <= 12 for span in spans)
    for before, after in itertools.pairwise(spans):
        assert after.start < before.end  # they share words
        assert after.start > before.start  # and move forward
    words = [(m.start(), m.end()) for m in text_module._WORD.finditer(LONG_TEXT)]
    assert all(any(s.start <= a and b <= s.end for s in spans) for a, b in words)


def test_chunk_offsets_point_into_the_original_text() -> None:
    for span in chunk_text(LONG_TEXT, words_counter, 12, 3):
        assert " ".join(LONG_TEXT[span.start : span.end].split()) == span.text


def test_overlong_word_becomes_its_own_chunk_cut_to_what_the_model_reads() -> None:
    text = "a b " + "x" * 500 + " c d"
    counted: list[str] = []

    def count(word: str) -> int:
        counted.append(word)
        return len(word) // 10 + 1

    spans = chunk_text(text, count, 5, 1)

    assert Span(4, 504, "x" * text_module.MAX_RUN_CHARS) in spans
    assert max(map(len, counted)) == text_module.MAX_RUN_CHARS
    assert spans[-1].text.endswith("c d")


def test_overlap_as_large_as_the_limit_still_moves_forward() -> None:
    spans = chunk_text("one two three four five six", words_counter, 2, 2)
    assert [span.text for span in spans] == [
        "one two",
        "two three",
        "three four",
        "four five",
        "five six",
    ]


def test_short_text_is_one_chunk() -> None:
    assert chunk_text("  red kite ", words_counter, 12, 3) == [Span(2, 10, "red kite")]


def test_empty_text_has_no_chunks() -> None:
    assert chunk_text("", words_counter, 12, 3) == []
    assert chunk_text(" \n\t ", words_counter, 12, 3) == []
