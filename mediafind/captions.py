"""Captions of a photo: the text and XMP sidecar files beside it, and the EXIF, XMP and IPTC
captions inside it. Every rule about which file is whose sidecar lives here."""

from __future__ import annotations

import logging
import os
import re
import struct
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from xml.etree import ElementTree

from PIL import Image, ImageFile, IptcImagePlugin

from mediafind import media
from mediafind.errors import UnreadableFile
from mediafind.extract import parse_xml
from mediafind.text import decode_head

log = logging.getLogger(__name__)

# A caption in a plain text file beside the photo (photo.jpg.txt or photo.txt), and XMP beside it
# (photo.jpg.xmp as darktable writes it, photo.xmp as Lightroom does).
CAPTION_EXTENSION = ".txt"
XMP_EXTENSION = ".xmp"

# What cameras and phones write into the description by default, not what a person wrote:
# indexing it would make every photo of one camera match "olympus". Compared case-insensitively
# after collapsing whitespace.
CAMERA_JUNK = frozenset(
    {
        "olympus digital camera",
        "sony dsc",
        "dcim",
        "default",
        "digital camera",
        "minolta digital camera",
        "konica minolta digital camera",
        "kodak digital still camera",
        "samsung digital camera",
        "sanyo digital camera",
        "hp digital camera",
        "exif_jpeg_picture",
        "image",
        "picture",
        "photo",
        "untitled",
        "no title",
        "no description",
        "description",
    }
)
# Tools that fill the title with the file name: "IMG_1234", "DSC00012.JPG", "DCIM\100OLYMPUS".
_FILE_NAME_LIKE = re.compile(
    r"(?:img|dsc[nf]?|pict?|imgp|_mg|dji|gopr|p|sam|mvc)[_-]?\d+(?:\.[a-z0-9]{3,4})?"
    r"|dcim[\\/]\w+",
    re.IGNORECASE,
)

# A sidecar larger than this is not read: darktable's, with a long edit history, is under 1 MB.
MAX_SIDECAR_BYTES = 16 * 1024 * 1024
# A photo's captions together are cut to this many characters (a text sidecar is read no
# further than its bytes): a caption is a title and a paragraph or two, and each ~300 characters
# more is one more vector for the photo (a 16 MB sidecar once became 33,899 of them).
MAX_CAPTION_CHARS = 8000

_DC = "{http://purl.org/dc/elements/1.1/}"
_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"

_IMAGE_DESCRIPTION = 0x010E
_EXIF_IFD = 0x8769
_USER_COMMENT = 0x9286
_XP_TITLE, _XP_COMMENT, _XP_SUBJECT = 0x9C9B, 0x9C9C, 0x9C9F  # Windows Explorer's fields
_IPTC_HEADLINE, _IPTC_CAPTION, _IPTC_CHARSET = (2, 105), (2, 120), (1, 90)

# What a damaged metadata block makes Pillow (or our decoders) raise. Metadata is a bonus:
# a broken block loses its captions, never the photo.
_BROKEN = (OSError, SyntaxError, ValueError, KeyError, IndexError, TypeError, struct.error)


@dataclass(frozen=True, slots=True)
class Captions:
    texts: tuple[str, ...]  # each once: the text sidecar's, the XMP sidecars', the photo's own
    signature: str | None  # of its sidecars, as signature() gives it


def of_photo(photo: Path, data: bytes) -> Captions:
    """A photo's captions, each text once (whitespace and case aside): its text sidecar's, then
    its XMP sidecars', then those written inside it (data, the photo's bytes); with the
    signature of its sidecars."""
    found: list[str] = []
    caption = _text_sidecar_caption(photo)
    if caption is not None:
        found.append(caption)
    found += _xmp_sidecar_captions(photo)
    found += photo_captions(data)
    unique: list[str] = []
    seen: set[str] = set()
    room = MAX_CAPTION_CHARS
    for text in found:
        key = _key(text)
        if key and key not in seen and room > 0:
            seen.add(key)
            unique.append(text[:room])
            room -= len(unique[-1])
    return Captions(tuple(unique), signature(photo))


def signature(photo: Path, names: set[str] | None = None) -> str | None:
    """The size and modification time of each of a photo's sidecars ("size:mtime_ns", several
    joined by ";" in sidecars() order), or None when it has none. The library stores it with the
    photo, so a scan notices a sidecar added, edited or removed without reading one.

    names, the entries of the photo's folder when the caller has listed them (a scan), saves a
    stat per absent sidecar and counts only a sidecar named exactly so; without names, a
    case-insensitive file system also finds one named in another case."""
    return signature_in(os.fspath(photo.parent), photo.name, names)


def signature_in(folder: str, name: str, names: set[str] | None = None) -> str | None:
    """signature() of the photo called name in folder, on path text (a scan of 100,000 files
    spends more in making Path objects than in the system calls)."""
    parts: list[str] = []
    for sidecar in sidecar_names(name):
        if names is not None and sidecar not in names:
            continue
        try:
            st = os.stat(os.path.join(folder, sidecar))  # noqa: PTH116, PTH118
        except OSError:
            continue
        parts.append(f"{st.st_size}:{st.st_mtime_ns}")
    return ";".join(parts) or None


def sidecars(photo: Path) -> tuple[Path, ...]:
    """Every file that may hold a photo's caption beside it: text, then XMP sidecars."""
    return tuple(photo.with_name(name) for name in sidecar_names(photo.name))


def sidecar_names(name: str) -> tuple[str, ...]:
    """The names of sidecars() for a photo called name: photo.jpg.txt, photo.txt,
    photo.jpg.xmp, photo.xmp (each once)."""
    stem = os.path.splitext(name)[0]  # noqa: PTH122
    return tuple(
        dict.fromkeys(
            (
                name + CAPTION_EXTENSION,
                stem + CAPTION_EXTENSION,
                name + XMP_EXTENSION,
                stem + XMP_EXTENSION,
            )
        )
    )


def sidecars_among(names: set[str]) -> set[str]:
    """The names among a folder's names that sidecar_owner() gives an owner: for a whole folder
    at once, so that a folder of notes without photos costs one look at each name."""
    stems = {_stem(n) for n in names if _suffix(n).lower() in media.PHOTO_EXTENSIONS}
    if not stems:
        return set()
    return {
        n
        for n in names
        if _suffix(n).lower() in (CAPTION_EXTENSION, XMP_EXTENSION)
        and (_stem(n) in stems or _stem(n) in names)
        and sidecar_owner(n, names)
    }


def _suffix(name: str) -> str:
    """Path(name).suffix, without making a Path (a name that starts with its dot has none)."""
    dot = name.rfind(".")
    return name[dot:] if dot > 0 else ""


def _stem(name: str) -> str:
    dot = name.rfind(".")
    return name[:dot] if dot > 0 else name


def sidecar_owner(name: str, siblings: set[str]) -> str | None:
    """If the file called name is a sidecar (caption text or XMP) of a photo among siblings
    (names in the same folder), the photo's name: a scan then indexes it with its photo, not
    as a note."""
    inner, suffix = os.path.splitext(name)  # noqa: PTH122
    if suffix.lower() not in (CAPTION_EXTENSION, XMP_EXTENSION):
        return None
    inner_suffix = os.path.splitext(inner)[1].lower()  # noqa: PTH122
    if inner_suffix in media.PHOTO_EXTENSIONS and inner in siblings:
        return inner
    for ext in media.PHOTO_EXTENSIONS:
        for candidate in (inner + ext, inner + ext.upper()):
            if candidate in siblings:
                return candidate
    return None


def _text_sidecars(photo: Path) -> tuple[Path, Path]:
    """Where a photo's text caption may be: photo.jpg.txt, then photo.txt."""
    return photo.with_name(photo.name + CAPTION_EXTENSION), photo.with_suffix(CAPTION_EXTENSION)


def _xmp_sidecars(photo: Path) -> tuple[Path, Path]:
    """Where a photo's XMP sidecar may be: photo.jpg.xmp (darktable), then photo.xmp (Lightroom)."""
    return photo.with_name(photo.name + XMP_EXTENSION), photo.with_suffix(XMP_EXTENSION)


def _text_sidecar_caption(photo: Path) -> str | None:
    """The first of a photo's text sidecars that holds text, stripped."""
    for candidate in _text_sidecars(photo):
        try:
            with open(candidate, "rb") as f:
                data = f.read(4 * MAX_CAPTION_CHARS + 1)  # a character is at most 4 bytes
        except OSError:
            continue
        try:
            text = decode_head(data, 4 * MAX_CAPTION_CHARS)[0].strip()
        except UnreadableFile:
            continue
        if text:
            return text
    return None


def _xmp_sidecar_captions(photo: Path) -> list[str]:
    """Titles, then descriptions, from a photo's XMP sidecars."""
    titles: list[str] = []
    descriptions: list[str] = []
    for packet in xmp_sidecar_packets(photo):
        _from_xmp(packet, titles, descriptions)
    return _clean_all(titles + descriptions)


def xmp_sidecar_packets(photo: Path) -> list[bytes]:
    """The contents of a photo's XMP sidecars that exist and are not too large to read."""
    packets: list[bytes] = []
    for sidecar in dict.fromkeys(_xmp_sidecars(photo)):  # the same path when photo has no suffix
        try:
            size = sidecar.stat().st_size
            if size > MAX_SIDECAR_BYTES:
                log.info("%s: sidecar too large to read (%d bytes)", sidecar, size)
                continue
            packets.append(sidecar.read_bytes())
        except OSError:
            continue
    return packets


def photo_xmp(img: Image.Image) -> object:
    """The XMP packet inside an opened photo (bytes or text as its format keeps it), if any."""
    return img.info.get("xmp") or img.info.get("XML:com.adobe.xmp")


def parse_xmp(packet: object) -> ElementTree.Element | None:
    """An XMP packet (bytes or text) as an element tree; None when it is none or unreadable."""
    if isinstance(packet, str):
        packet = packet.encode("utf-8")
    if not isinstance(packet, bytes):
        return None
    return _parse_xmp(packet)


def iptc_texts(img: Image.Image, key: tuple[int, int]) -> list[str]:
    """The values of one IPTC dataset (record, number) of an opened photo, decoded."""
    if not isinstance(img, ImageFile.ImageFile):
        return []
    try:
        info = IptcImagePlugin.getiptcinfo(img)
    except _BROKEN as e:
        log.debug("unreadable IPTC block: %s", e)
        return []
    if not info:
        return []
    utf8 = info.get(_IPTC_CHARSET) == b"\x1b%G"  # ISO 2022 escape for UTF-8
    values = info.get(key) or []
    return [_decode_legacy(v, utf8) for v in (values if isinstance(values, list) else [values])]


def photo_captions(data: bytes) -> list[str]:
    """Captions written inside a photo: titles first, then descriptions, each text once."""
    titles: list[str] = []
    descriptions: list[str] = []
    media.register_heif()  # so that HEIC photos' metadata can be read too
    try:
        with Image.open(BytesIO(data)) as img:
            _from_xmp(photo_xmp(img), titles, descriptions)
            _from_iptc(img, titles, descriptions)
            _from_exif(img, titles, descriptions)
            # PNG text chunks use these standard keywords.
            for key, into in (("Title", titles), ("Description", descriptions)):
                if isinstance(img.info.get(key), str):
                    into.append(img.info[key])
    except (*_BROKEN, Image.DecompressionBombError) as e:
        log.debug("cannot read a photo's metadata: %s", e)
    return _clean_all(titles + descriptions)


def _from_xmp(packet: object, titles: list[str], descriptions: list[str]) -> None:
    """dc:title and dc:description, every language of each."""
    root = parse_xmp(packet)
    if root is None:
        return
    for tag, into in ((_DC + "title", titles), (_DC + "description", descriptions)):
        for element in root.iter(tag):
            items = [li.text for li in element.iter(_RDF + "li")]
            into.extend(t for t in (items or [element.text]) if t)
        for described in root.iter(_RDF + "Description"):
            # Not the standard (a language alternative), but some tools write an attribute.
            value = described.get(tag)
            if value:
                into.append(value)


def _parse_xmp(packet: bytes) -> ElementTree.Element | None:
    packet = packet.strip(b"\x00 \t\r\n")
    try:
        return parse_xml(packet)
    except ElementTree.ParseError:
        pass
    # Padding or junk around the packet: try the x:xmpmeta (or rdf:RDF) element alone.
    for start_tag, end_tag in ((b"<x:xmpmeta", b"</x:xmpmeta>"), (b"<rdf:RDF", b"</rdf:RDF>")):
        start, end = packet.find(start_tag), packet.rfind(end_tag)
        if 0 <= start < end:
            try:
                return parse_xml(packet[start : end + len(end_tag)])
            except ElementTree.ParseError:
                continue
    log.debug("unreadable XMP packet")
    return None


def _from_iptc(img: Image.Image, titles: list[str], descriptions: list[str]) -> None:
    for key, into in ((_IPTC_HEADLINE, titles), (_IPTC_CAPTION, descriptions)):
        into.extend(iptc_texts(img, key))


def _decode_legacy(raw: bytes, utf8: bool = False) -> str:
    """Text in an unstated encoding: UTF-8 when it is valid UTF-8 (most tools write it without
    saying so), else Windows-1252."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8" if utf8 else "cp1252", errors="replace")


def _from_exif(img: Image.Image, titles: list[str], descriptions: list[str]) -> None:
    try:
        exif = img.getexif()
        exif_ifd = exif.get_ifd(_EXIF_IFD)
    except _BROKEN as e:
        log.debug("unreadable EXIF block: %s", e)
        return
    xp_title = exif.get(_XP_TITLE)
    if isinstance(xp_title, bytes | tuple):
        titles.append(_xp_text(xp_title))
    description = exif.get(_IMAGE_DESCRIPTION)
    if isinstance(description, str):
        descriptions.append(_latin1_to_utf8(description))
    elif isinstance(description, bytes):
        descriptions.append(_decode_legacy(description))
    comment = exif_ifd.get(_USER_COMMENT)
    if isinstance(comment, bytes):
        descriptions.append(user_comment_text(comment, exif.endian))
    elif isinstance(comment, str):
        descriptions.append(comment)
    for tag in (_XP_SUBJECT, _XP_COMMENT):
        value = exif.get(tag)
        if isinstance(value, bytes | tuple):
            descriptions.append(_xp_text(value))


def _latin1_to_utf8(text: str) -> str:
    """Pillow reads EXIF ASCII as Latin-1, but most software writes UTF-8 there."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return text


def _xp_text(value: bytes | tuple[int, ...]) -> str:
    raw = bytes(value)
    return raw[: len(raw) // 2 * 2].decode("utf-16-le", errors="replace")


def user_comment_text(raw: bytes, endian: str | None = None) -> str:
    """EXIF UserComment: an 8-byte character-code header, then the text."""
    header, body = raw[:8], raw[8:]
    if header.startswith(b"ASCII"):
        return _decode_legacy(body)  # UTF-8 under the ASCII header is common
    if header.startswith(b"UNICODE"):
        return _utf16(body, endian)
    if header.startswith(b"JIS"):
        for codec in ("iso2022_jp", "shift_jis", "euc_jp"):
            try:
                return body.decode(codec)
            except UnicodeDecodeError:
                continue
        return body.decode("shift_jis", errors="replace")
    if not header.strip(b"\x00 "):
        return _decode_legacy(body)  # "undefined" code: in practice ASCII or UTF-8
    return _decode_legacy(raw)  # no header at all, as some cameras write it


def _utf16(body: bytes, endian: str | None) -> str:
    """UTF-16 in the EXIF block's byte order, says the standard; but many writers use little
    endian whatever the block's order, so text that is mostly Latin tells by where its zero
    bytes are."""
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        return body.decode("utf-16", errors="replace")
    body = body[: len(body) // 2 * 2]
    zeros_even, zeros_odd = body[0::2].count(0), body[1::2].count(0)
    big = zeros_even > zeros_odd if zeros_even != zeros_odd else endian == ">"
    return body.decode("utf-16-be" if big else "utf-16-le", errors="replace")


def _clean_all(texts: list[str]) -> list[str]:
    """Stripped texts, without blanks, camera junk or repeats (whitespace and case aside)."""
    out: list[str] = []
    seen: set[str] = set()
    for text in texts:
        text = text.replace("\x00", "").strip()
        key = _key(text)
        if not key or key in seen or is_camera_junk(key):
            continue
        seen.add(key)
        out.append(text)
    return out


def is_camera_junk(text: str) -> bool:
    """A description that a camera, not a person, wrote."""
    key = _key(text)
    return key in CAMERA_JUNK or _FILE_NAME_LIKE.fullmatch(key) is not None


def _key(text: str) -> str:
    """What two captions share when they are the same text: whitespace and case aside."""
    return " ".join(text.split()).casefold()
