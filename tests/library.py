"""A folder that looks like a real person's library, and the truth about it.

Clean demo folders (a photo per file named after what it shows, a note per pair) rank perfectly;
a real person's folder does not. This one has what theirs has: photos named IMG_####.jpg in
dated folders, some with an EXIF date and some known only by their file time, a few PNG and
WebP; captions beside photos that talk about something else than the picture ("the red sofa in
the living room" under a picture of a blue square); photos known by their names; short notes,
a long PDF catalogue that mentions colours and shapes on every page, a Word document, French
notes in UTF-8 and in Windows-1252, a note of little words, a note with a reference number; a
broken JPEG and an empty file.

Everything comes from one seed: the same seed writes the same bytes. `build(root)` writes the
folder and returns a `Truth` that the tests and bench/quality.py assert against, so that no
test repeats a file name.
"""

from __future__ import annotations

import io
import os
import random
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import docx
from PIL import Image
from reportlab.pdfgen.canvas import Canvas

from mediafind import shapes

Pair = tuple[str, str]
PAIRS: tuple[Pair, ...] = tuple((c, s) for c in shapes.COLOURS for s in shapes.SHAPES)
# Plain photos of each pair; the named, captioned and sidecar photos below add to some pairs.
PHOTOS_PER_PAIR = 6
# Pages of the paint catalogue (the long PDF): long enough that its many chunks, each naming a
# colour or a shape, outnumber a short note's one.
CATALOGUE_PAGES = 48
SEED = 20240714

# Captions that name something else than the picture: each holds one word of the queries
# "a {colour} {shape}", the picture shows another pair. (caption, what the picture shows,
# where the caption is: "txt" for photo.jpg.txt, "xmp" for a Lightroom sidecar photo.xmp)
MISLEADING_CAPTIONS: tuple[tuple[str, Pair, str], ...] = (
    ("the red sofa in the living room", ("blue", "square"), "txt"),
    ("a circle of friends at the party", ("yellow", "triangle"), "xmp"),
    ("coffee cup, nothing else", ("green", "square"), "txt"),
    ("my daughter's yellow raincoat", ("red", "circle"), "txt"),
    ("the triangle player of the school band", ("blue", "circle"), "txt"),
    ("green tea in the garden", ("yellow", "square"), "xmp"),
    ("square dance night at the village hall", ("green", "circle"), "txt"),
)
# A caption that says what the picture shows.
TRUE_CAPTION = ("a yellow triangle painted on the garage door", ("yellow", "triangle"))

# Events of the dated folders: Pictures/{year}/{year}-{month} {event}/.
_EVENTS = (
    "Holiday",
    "Birthday",
    "Garden",
    "Trip to Lyon",
    "Christmas",
    "Weekend",
    "School fair",
    "Hiking",
)
# Photos of the dated folders are taken between these years (inclusive).
_FIRST_YEAR, _LAST_YEAR = 2021, 2025
# Photos with an EXIF date were copied onto this computer later, in one go: their file time says
# when they were copied, not when they were taken.
_COPIED = datetime(2025, 11, 3, 21, 15).timestamp()

_STATING = (
    "I photographed a {c} {s} on the door today.",
    "Today I saw a {c} {s} painted on the wall by the station.",
    "There was a {c} {s} on the sign at the end of our street.",
    "Someone drew a {c} {s} on the pavement outside the bakery this morning.",
)
_DAY_FILLERS = (
    "Rain in the afternoon, so we stayed in.",
    "Lunch with Anna near the park.",
    "The train was late again.",
    "Need to call the plumber before Friday.",
)

XMP = """<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF
 xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dc="http://purl.org/dc/elements/1.1/">
 <rdf:Description rdf:about=""><dc:description><rdf:Alt>
 <rdf:li xml:lang="x-default">{text}</rdf:li></rdf:Alt></dc:description></rdf:Description>
</rdf:RDF></x:xmpmeta>"""

FRENCH_UTF8 = (
    "Recette de la crème brûlée, comme à Paris.\n\n"
    "Il faut que la crème soit très froide avant de la verser sur les jaunes d'œufs."
)
# Windows-1252 bytes that a guess by letter statistics reads as Shift-JIS ("cr鑪e").
FRENCH_CP1252 = (
    "Liste pour dimanche : crème, beurre, œufs, farine. À Paris, la crème est meilleure."
)
CODE_WORD = "ZX-48213"
CODE_NOTE = f"Dishwasher warranty claim {CODE_WORD}: call the shop before Friday, keep the receipt."
STOPWORD_NOTE = (
    "It is what it is. And so it was, and so it will be, for all of us, as it was for them. "
    "If it is to be, it is up to us; what is done is done, and that is that."
)
# Notes that mention colours and shapes loosely, never stating a pair the way a diary note does.
LOOSE_NOTES = (
    ("Notes/shopping.txt", "Buy red onions, blue cheese and a round loaf. Also batteries."),
    (
        "Notes/kids.md",
        "# Sunday\n\nThe kids drew circles and triangles all afternoon, then argued about "
        "the crayons. Bedtime at eight.",
    ),
    (
        "Notes/garden.md",
        "The green hedge needs trimming; after the heat the lawn is more yellow than anything.",
    ),
    ("Notes/football.txt", "Blue team won 3-1 on the pitch behind the school square."),
    ("Notes/homework.txt", "Maths homework: the area of a square and the angles of a triangle."),
)
_CATALOGUE_LINES = (
    "Shade {n}: {colour} family, {finish} finish, {litres} litres per tin.",
    "Our {colour} tones dry in {hours} hours on wood, longer on plaster.",
    "Stencils sold separately: {shape}, star and arrow, in three sizes.",
    "The {shape} stencil set (ref. {n}) fits doors, walls and garden furniture.",
    "Order {n} swatches of {colour} before painting a whole room.",
    "Tip: mask the edges of a {shape} with low-tack tape before the first coat.",
    "Best sellers this season are the warm {colour} shades and the soft neutrals.",
    "Coverage: about {cover} square metres per litre on primed surfaces.",
    "Brushes, rollers and trays are on page {page}; primers on page {page2}.",
    "All paints are water based, low odour, and safe for children's rooms.",
    "Delivery within five working days; free above fifty euros.",
)
_FINISHES = ("matte", "satin", "eggshell", "gloss", "chalky")


@dataclass(frozen=True)
class Truth:
    """What the library holds, for tests to assert against. Paths are absolute."""

    root: Path
    pairs: tuple[Pair, ...]
    # Every readable photo and the pair its picture shows (the distractors' too).
    shows: dict[Path, Pair]
    # When each readable photo was taken: its EXIF DateTimeOriginal, else its file time.
    taken: dict[Path, float]
    # Photos whose EXIF date says when they were taken (their file time is later).
    exif_dated: frozenset[Path]
    # Photos whose caption names something else than their picture, with the caption.
    distractors: dict[Path, str]
    # Photos whose caption states what their picture shows, with the caption.
    captioned: dict[Path, str]
    # The short note that states each pair plainly ("I photographed a red circle ...").
    stating_notes: dict[Pair, Path]
    # Notes that mention colours or shapes without stating a pair, the Word document included.
    loose_notes: tuple[Path, ...]
    catalogue: Path  # the long PDF
    word_document: Path
    french_utf8: Path
    french_cp1252: Path
    stopword_note: Path
    code_word: str
    code_note: Path
    astronaut: Path  # known only by its name, "astronaut in space suit.jpg"
    beach: Path  # IMG_2024-07-14_beach.jpg
    grandma: frozenset[Path]  # the photos in "Grandma's 80th/"
    broken: tuple[Path, ...]  # a broken JPEG and an empty file: errors, not results
    notes: frozenset[Path] = field(default=frozenset())  # every readable note

    def photos_of(self, pair: Pair) -> frozenset[Path]:
        """The photos whose picture shows pair."""
        return frozenset(p for p, shown in self.shows.items() if shown == pair)

    def distractors_for(self, pair: Pair) -> frozenset[Path]:
        """Captioned distractors whose picture does not show pair: never a right answer."""
        return frozenset(p for p in self.distractors if self.shows[p] != pair)

    def word_queries(self) -> dict[str, set[Path]]:
        """Queries answered by words in a file or its name, with the files that must come
        first for them."""
        french = {self.french_utf8, self.french_cp1252}
        return {
            "crème": french,
            "creme": french,
            self.code_word: {self.code_note},
            "astronaut": {self.astronaut},
            "beach": {self.beach},
            "Grandma": set(self.grandma),
        }


class _Photos:
    """Writes photos with increasing IMG_ numbers and dates, recording what they show."""

    def __init__(self, root: Path, rng: random.Random) -> None:
        self.root = root
        self.rng = rng
        self.number = 1000 + rng.randrange(1000)
        self.shows: dict[Path, Pair] = {}
        self.taken: dict[Path, float] = {}
        self.exif_dated: set[Path] = set()
        self._used: set[float] = set()

    def when(self, year: int | None = None, month: int | None = None) -> datetime:
        """A moment not used before (dates must differ: the tests sort by them)."""
        while True:
            moment = datetime(
                year or self.rng.randint(_FIRST_YEAR, _LAST_YEAR),
                month or self.rng.randint(1, 12),
                self.rng.randint(1, 28),
                self.rng.randint(7, 21),
                self.rng.randrange(60),
            )
            if moment.timestamp() not in self._used:
                self._used.add(moment.timestamp())
                return moment

    def dated_folder(self, moment: datetime) -> Path:
        event = _EVENTS[(moment.year * 12 + moment.month) % len(_EVENTS)]
        return self.root / str(moment.year) / f"{moment.year}-{moment.month:02d} {event}"

    def write(
        self,
        pair: Pair,
        folder: Path | None = None,
        name: str | None = None,
        moment: datetime | None = None,
        exif: bool | None = None,
        description: str | None = None,
    ) -> Path:
        """A photo of pair; in its dated folder and named IMG_####.jpg unless told otherwise.
        exif: whether its date is in EXIF (else only its file time says it); by chance when
        None. Never for PNG: cameras do not write EXIF there, and mediafind does not read it."""
        moment = moment or self.when()
        if name is None:
            self.number += self.rng.randint(1, 7)
            ext = self.rng.choices((".jpg", ".png", ".webp"), (8, 1, 1))[0]
            if exif and ext == ".png":
                ext = ".jpg"
            name = f"IMG_{self.number:04d}{ext}"
        path = (folder or self.dated_folder(moment)) / name
        if path in self.shows:
            raise ValueError(f"{path} written twice")
        path.parent.mkdir(parents=True, exist_ok=True)
        if exif is None:
            exif = path.suffix != ".png" and self.rng.random() < 0.7
        elif exif and path.suffix == ".png":
            raise ValueError(f"{path}: no EXIF date in a PNG")
        image = shapes.render(pair[0], pair[1], self.rng)
        metadata = Image.Exif()
        if exif:
            metadata.get_ifd(0x8769)[0x9003] = moment.strftime("%Y:%m:%d %H:%M:%S")
        if description is not None:
            metadata[0x010E] = description  # ImageDescription
        image.save(path, exif=metadata, quality=90)
        stamp = moment.timestamp()
        file_time = _COPIED + len(self.shows) * 60 if exif else stamp
        os.utime(path, (file_time, file_time))
        self.shows[path] = pair
        self.taken[path] = stamp
        if exif:
            self.exif_dated.add(path)
        return path


def build(root: Path, seed: int = SEED, photos_per_pair: int = PHOTOS_PER_PAIR) -> Truth:
    """Write the library under root (which should not exist yet) and return its truth."""
    root = root.absolute()
    rng = random.Random(seed)
    pictures = root / "Pictures"
    photos = _Photos(pictures, rng)

    plain = [pair for pair in PAIRS for _ in range(photos_per_pair)]
    rng.shuffle(plain)
    for pair in plain:
        photos.write(pair)

    distractors: dict[Path, str] = {}
    for text, pair, where in MISLEADING_CAPTIONS:
        photo = photos.write(pair, exif=True)
        if where == "xmp":
            photo.with_suffix(".xmp").write_text(XMP.format(text=text), encoding="utf-8")
        else:
            photo.with_name(photo.name + ".txt").write_text(text + "\n", encoding="utf-8")
        distractors[photo] = text
    text, pair = TRUE_CAPTION
    captioned = {photos.write(pair, exif=True, description=text): text}

    astronaut = photos.write(
        ("blue", "triangle"), folder=pictures / "Misc", name="astronaut in space suit.jpg"
    )
    beach_day = datetime(2024, 7, 14, 16, 5)
    beach = photos.write(
        ("yellow", "circle"),
        folder=photos.dated_folder(beach_day),
        name="IMG_2024-07-14_beach.jpg",
        moment=beach_day,
        exif=True,
    )
    party = pictures / "Grandma's 80th"
    grandma = frozenset(
        photos.write(pair, folder=party, name=f"IMG_{8001 + i}.jpg", moment=photos.when(2022, 5))
        for i, pair in enumerate((("red", "square"), ("green", "triangle"), ("blue", "circle")))
    )

    broken_jpeg = photos.dated_folder(photos.when(2023, 3)) / "IMG_0666.jpg"
    broken_jpeg.parent.mkdir(parents=True, exist_ok=True)
    broken_jpeg.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF" + rng.randbytes(40))
    empty = root / "Notes" / "untitled.txt"
    empty.parent.mkdir(parents=True, exist_ok=True)
    empty.write_bytes(b"")

    notes = root / "Notes"
    stating: dict[Pair, Path] = {}
    for pair in PAIRS:
        day = photos.when()
        path = notes / "Diary" / f"{day:%Y-%m-%d}.md"
        while path.exists():
            day = photos.when()
            path = notes / "Diary" / f"{day:%Y-%m-%d}.md"
        sentence = rng.choice(_STATING).format(c=pair[0], s=pair[1])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{sentence} {rng.choice(_DAY_FILLERS)}\n", encoding="utf-8")
        stating[pair] = path

    loose: list[Path] = []
    for name, body in LOOSE_NOTES:
        path = root / name
        path.write_text(body + "\n", encoding="utf-8")
        loose.append(path)
    word_document = notes / "Renovation plan.docx"
    document = docx.Document()
    document.add_heading("Renovation plan", level=1)
    document.add_paragraph("Paint the hallway a warm yellow, two coats.")
    document.add_paragraph("Replace the round mirror in the bathroom; the old one is cracked.")
    document.add_paragraph("The square tiles behind the sink need new grout before winter.")
    document.save(str(word_document))
    loose.append(word_document)

    catalogue = notes / "Paint catalogue 2024.pdf"
    _write_catalogue(catalogue, random.Random(seed + 1))

    french_utf8 = notes / "Recettes" / "dessert.md"
    french_utf8.parent.mkdir(parents=True, exist_ok=True)
    french_utf8.write_text(FRENCH_UTF8 + "\n", encoding="utf-8")
    french_cp1252 = notes / "Old laptop" / "dimanche.txt"
    french_cp1252.parent.mkdir(parents=True, exist_ok=True)
    french_cp1252.write_bytes(FRENCH_CP1252.encode("cp1252"))
    stopword_note = notes / "thoughts.txt"
    stopword_note.write_text(STOPWORD_NOTE + "\n", encoding="utf-8")
    code_note = notes / "warranty.txt"
    code_note.write_text(CODE_NOTE + "\n", encoding="utf-8")

    all_notes = frozenset(
        [*stating.values(), *loose, catalogue, french_utf8, french_cp1252, stopword_note, code_note]
    )
    return Truth(
        root=root,
        pairs=PAIRS,
        shows=dict(photos.shows),
        taken=dict(photos.taken),
        exif_dated=frozenset(photos.exif_dated),
        distractors=distractors,
        captioned=captioned,
        stating_notes=stating,
        loose_notes=tuple(loose),
        catalogue=catalogue,
        word_document=word_document,
        french_utf8=french_utf8,
        french_cp1252=french_cp1252,
        stopword_note=stopword_note,
        code_word=CODE_WORD,
        code_note=code_note,
        astronaut=astronaut,
        beach=beach,
        grandma=grandma,
        broken=(broken_jpeg, empty),
        notes=all_notes,
    )


# A colour and a shape side by side, or a shape said to be a colour: what a stating note says
# and the catalogue must not.
_STATES_A_PAIR = re.compile(
    r"\b(?:{c})\s+(?:{s})|\b(?:{s})s?\s+(?:is|was|are|in)\s+(?:{c})".format(
        c="|".join(shapes.COLOURS), s="|".join(shapes.SHAPES)
    ),
    re.IGNORECASE,
)


def catalogue_pages(rng: random.Random, pages: int = CATALOGUE_PAGES) -> list[list[str]]:
    """The paint catalogue's lines, page by page: colours and shapes on every page, each line
    naming at most one of them, so that no sentence states a pair."""
    out = []
    colours, shape_names = list(shapes.COLOURS), list(shapes.SHAPES)
    for page in range(1, pages + 1):
        lines = [f"Paint catalogue 2024 - page {page}"]
        for _ in range(rng.randint(16, 22)):
            line = rng.choice(_CATALOGUE_LINES).format(
                n=rng.randint(100, 999),
                colour=rng.choice(colours),
                shape=rng.choice(shape_names),
                finish=rng.choice(_FINISHES),
                litres=rng.choice((0.75, 2.5, 5, 10)),
                hours=rng.randint(2, 8),
                cover=rng.randint(8, 14),
                page=rng.randint(2, pages),
                page2=rng.randint(2, pages),
            )
            lines.append(line)
        out.append(lines)
    text = "\n".join("\n".join(lines) for lines in out)
    if _STATES_A_PAIR.search(text):  # a guard on the templates above
        raise AssertionError(f"the catalogue states a pair: {_STATES_A_PAIR.search(text)}")
    return out


def _write_catalogue(path: Path, rng: random.Random) -> None:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=True)  # no creation date or random ID: the same bytes
    for lines in catalogue_pages(rng):
        for i, line in enumerate(lines):
            canvas.drawString(72, 760 - 16 * i, line)
        canvas.showPage()
    canvas.save()
    path.write_bytes(buffer.getvalue())
