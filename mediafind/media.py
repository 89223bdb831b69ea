"""Opening files: what kind a file is, what its content is known by (its hash), and pictures."""

from __future__ import annotations

import ctypes
import functools
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from mediafind.errors import EMPTY_FILE, NothingToRead, UnreadableFile
from mediafind.raw import RAW_EXTENSIONS, open_raw

log = logging.getLogger(__name__)

PHOTO_EXTENSIONS = (
    frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic", ".heif"})
    | RAW_EXTENSIONS
)
# Documents mediafind reads (mediafind.extract turns each kind into text; its
# DOCUMENT_EXTENSIONS is the same set).
NOTE_EXTENSIONS = frozenset(
    {".txt", ".md", ".markdown", ".pdf", ".docx", ".odt", ".html", ".htm", ".rtf"}
)

_heif_registered: bool | None = None


@functools.cache
def quiet_libtiff() -> bool:
    """libtiff prints its complaints about a damaged TIFF on the terminal itself (hundreds of
    lines for a folder of odd scans), burying mediafind's own one line per file; Pillow does
    not take them over. Silenced here: the file's reason is still recorded, from Pillow's
    error. True when done (Linux and macOS, where Pillow ships libtiff as a library of its
    own; elsewhere it is built into Pillow and this does nothing)."""
    import PIL._imaging  # noqa: F401 - maps the libtiff Pillow uses into this process

    for library in _loaded_libraries("libtiff"):
        try:
            tiff = ctypes.CDLL(library)
            tiff.TIFFSetErrorHandler.restype = ctypes.c_void_p
            tiff.TIFFSetWarningHandler.restype = ctypes.c_void_p
            tiff.TIFFSetErrorHandler(None)
            tiff.TIFFSetWarningHandler(None)
        except (OSError, AttributeError):
            log.info("cannot quiet %s", library, exc_info=True)
            continue
        return True
    return False


def _loaded_libraries(name: str) -> list[str]:
    """The shared libraries with name in their file name that this process has loaded."""
    try:  # Linux
        maps = Path("/proc/self/maps").read_text(encoding="utf-8", errors="replace")
        return sorted({line.split()[-1] for line in maps.splitlines() if name in line
                       and line.split()[-1].startswith("/")})  # fmt: skip
    except OSError:
        pass
    import PIL  # macOS wheels keep them beside the package

    found = Path(PIL.__file__).parent / ".dylibs"
    return sorted(str(p) for p in found.glob(f"{name}*.dylib")) if found.is_dir() else []


def register_heif() -> bool:
    """Decode HEIC/HEIF through pillow-heif when it is installed (the `heic` extra)."""
    global _heif_registered
    if _heif_registered is None:
        try:
            from pillow_heif import register_heif_opener

            register_heif_opener()
            _heif_registered = True
        except ImportError:
            _heif_registered = False
    return _heif_registered


def kind_of(path: Path) -> str | None:
    """'photo', 'note' or None for files mediafind does not index."""
    return kind_of_name(path.name)


def kind_of_name(name: str) -> str | None:
    """kind_of() a file called name."""
    dot = name.rfind(".")  # Path(name).suffix without making a Path: a scan asks per file
    suffix = name[dot:].lower() if dot > 0 else ""
    if suffix in PHOTO_EXTENSIONS:
        return "photo"
    if suffix in NOTE_EXTENSIONS:
        return "note"
    return None


def is_raw(path: Path) -> bool:
    """Whether the file at path is a camera RAW file, which open_image must be told (its TIFF
    cousins, DNG, NEF and CR2, open in Pillow as their tiny first thumbnail)."""
    return path.suffix.lower() in RAW_EXTENSIONS


def content_hash(data: bytes) -> str:
    """What a file's content is known by: two files with the same hash are copies, and a
    vanished file's hash found again is a move (its vectors are kept)."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def hash_file(path: Path) -> str:
    """content_hash of a file, read in blocks rather than whole."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


# A picture file larger than this is refused before it is read: camera files are tens of MB,
# the largest TIFF scans a few hundred, and each decode thread holds the file while it decodes.
MAX_PICTURE_BYTES = 512 * 1024 * 1024
# A picture that would decode to more pixels than this (after a JPEG's reduced decode) is
# refused: PNG, TIFF and WebP decode whole, 4 bytes a pixel and copies on the way (a
# 169-megapixel PNG took 2 GB). Below Pillow's own warning (89 megapixels), so Pillow never
# speaks for us; 100-megapixel camera JPEGs still open, at an eighth of their size.
MAX_PIXELS = 80_000_000


def read_head(path: Path, keep: int) -> tuple[bytes, int, str]:
    """A file's first keep bytes, its size and its content_hash, read in blocks: the whole file
    is hashed, but never held whole."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        head = f.read(keep)
        digest.update(head)
        size = len(head)
        while block := f.read(1 << 20):
            digest.update(block)
            size += len(block)
    return head, size, digest.hexdigest()


def check_picture_size(size: int) -> None:
    """Raise UnreadableFile for a picture file too large to open (see MAX_PICTURE_BYTES)."""
    if size > MAX_PICTURE_BYTES:
        raise UnreadableFile(
            f"picture file too large to open ({size / 2**20:,.0f} MB; mediafind opens pictures "
            f"up to {MAX_PICTURE_BYTES // 2**20} MB)"
        )


@dataclass(frozen=True, slots=True)
class Picture:
    image: Image.Image  # RGB, reduced to about the model's input size
    width: int  # as the photo is shown (EXIF orientation applied)
    height: int
    taken_at: float | None


def open_image(data: bytes, min_side: int, *, raw: bool = False) -> Picture:
    """Decode a photo from its bytes, no smaller than min_side on its short side; raw: a camera
    RAW file (is_raw).

    Pillow's decompression-bomb guard stays on: a picture of absurd pixel count is refused."""
    if not data:
        raise NothingToRead(EMPTY_FILE)
    if raw:
        taken_at = _raw_taken_at(data)
        developed = open_raw(data, min_side, MAX_PIXELS, dated=taken_at is not None)
        return Picture(
            _reduced(developed.image, min_side),
            developed.width,
            developed.height,
            taken_at or developed.taken_at,
        )
    register_heif()
    quiet_libtiff()
    try:
        with Image.open(BytesIO(data)) as img:
            width, height = img.size  # the photo's own size; draft may decode it smaller
            # JPEG can decode at 1/2, 1/4 or 1/8 scale directly: far faster for big photos.
            img.draft("RGB", (min_side, min_side))
            if img.size[0] * img.size[1] > MAX_PIXELS:
                raise UnreadableFile(
                    f"picture too large to open ({width * height / 1e6:,.0f} megapixels; "
                    f"mediafind opens pictures up to {MAX_PIXELS // 1_000_000})"
                )
            taken_at = _taken_at(img)
            img.load()
            oriented = ImageOps.exif_transpose(img)
            if oriented.size != img.size:  # turned a quarter: shown the other way round
                width, height = height, width
            picture = _to_rgb(oriented)
    except Image.DecompressionBombError as e:
        raise UnreadableFile(f"image too large to open safely ({e})") from e
    except UnidentifiedImageError as e:
        raise UnreadableFile("not a readable image (corrupt or unsupported format)") from e
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise UnreadableFile(f"damaged image: {_reason(e)}") from e
    return Picture(_reduced(picture, min_side), width, height, taken_at)


def _reduced(picture: Image.Image, min_side: int) -> Image.Image:
    factor = min(picture.size) // max(min_side, 1)
    if factor >= 2:
        # The model resizes to min_side anyway; shrinking here keeps queued pictures small.
        return picture.reduce(factor)
    return picture


def _reason(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    if "truncated" in text.lower():
        return "file is truncated"
    return text


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode == "RGB":
        return img.copy()
    if img.mode.startswith("I;16") or img.mode == "I":
        # 16-bit greyscale (Pillow opens it as I;16 or I): converting clips every value above
        # 255 to white, so scale it to 8 bits first.
        return img.convert("I").point(lambda v: v * (1 / 256)).convert("RGB")
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        # Transparent areas over white, as a viewer would show them, not over black.
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB")


def _raw_taken_at(data: bytes) -> float | None:
    """When a camera RAW file was taken, from its EXIF as Pillow reads it in the TIFF-based
    kinds (DNG, NEF, CR2, ARW, PEF, SRW: their first pages are TIFF), without decoding it;
    None for the others (CR3, RAF, RW2, ORF), whose date LibRaw gives."""
    quiet_libtiff()
    try:
        with Image.open(BytesIO(data)) as img:
            return _taken_at(img)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError,
            ValueError, EOFError):  # fmt: skip
        return None


def _taken_at(img: Image.Image) -> float | None:
    """EXIF DateTimeOriginal (or DateTime) as a timestamp in local time."""
    try:
        exif = img.getexif()
        raw = exif.get_ifd(0x8769).get(0x9003) or exif.get(0x0132)
        if not isinstance(raw, str):
            return None
        return datetime.strptime(raw.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S").timestamp()
    except (ValueError, OSError, SyntaxError, KeyError, TypeError):
        return None
