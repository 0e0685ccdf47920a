"""Check an uploaded image with Pillow and re-encode it without its metadata.

:func:`clean_image` is the one gate every stored image passes. It takes the
uploaded bytes and the limits, and returns new bytes or raises
:class:`~images.exceptions.ImageRejected`; it touches no database or
storage. Steps, in order (the first failure wins):

1. Size: more than ``max_bytes`` is ``too_large``.
2. Type, from the content (never the file name): only the parsers of
   ``types`` (Pillow format names: PNG, JPEG, GIF, WEBP) may read the bytes,
   and one must recognise them. Other images and documents (BMP, TIFF, ICO,
   PSD, SVG, PDF, HEIC, AVIF), sniffed by their signature, are
   ``unsupported_type``; anything else ``not_an_image``.
3. Pixels, from the header before any decoding: more than ``max_pixels`` in
   one frame, or more than :data:`ANIMATION_PIXEL_FACTOR` times that in all
   frames together, or more than :data:`MAX_FRAMES` frames, is
   ``too_many_pixels`` (the decompression-bomb guard). Pillow's own
   ``DecompressionBombWarning`` is raised as an error too.
4. Decoding every frame: a truncated or damaged file is ``not_an_image``
   (``ImageFile.LOAD_TRUNCATED_IMAGES`` is held off while decoding, even
   when another library turned it on: see :func:`_strict_decoding`).
5. Re-encoding into a fresh image of the same format: EXIF (camera, GPS
   location), XMP, IPTC, comments and text chunks are not copied. The EXIF
   orientation is applied to the pixels first, so a photo taken sideways
   stays upright. An ICC colour profile is kept when it is a well-formed
   profile of at most :data:`MAX_ICC_BYTES` (it carries colours, not who or
   where); a CMYK JPEG becomes RGB without its profile. JPEG at quality
   :data:`JPEG_QUALITY`, WebP at :data:`WEBP_QUALITY`; PNG (zlib level 9)
   and JPEG (Huffman tables) optimised up to :data:`OPTIMIZE_MAX_PIXELS`
   pixels, beyond which optimising costs more time than the bytes it saves
   (PNG level 6). Animated GIF and WebP keep every frame, each
   frame's duration, and the loop count.

Failure modes: Pillow raising anything unexpected while decoding or
encoding is reported as ``not_an_image`` (the file is refused, nothing is
stored); a bug in Pillow's plugins cannot store a half-written file because
nothing is stored here at all.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from PIL import Image, ImageFile, ImageOps, ImageSequence, UnidentifiedImageError

from images.exceptions import ImageRejected

try:
    from PIL import ImageCms
except ImportError:  # pragma: no cover - Debian's and PyPI's Pillow both have it
    ImageCms = None  # type: ignore[assignment]  # reason: optional colour management

#: Most frames an animation may have.
MAX_FRAMES = 1000
#: All frames of an animation together may have this many times max_pixels.
ANIMATION_PIXEL_FACTOR = 2
#: Largest ICC profile kept; a bigger one is dropped (colours fall back to sRGB).
MAX_ICC_BYTES = 256 * 1024
JPEG_QUALITY = 90
WEBP_QUALITY = 90
#: Images up to this many pixels are optimised (PNG: zlib level 9, else 6;
#: JPEG: optimised Huffman tables): bigger ones would take too long.
OPTIMIZE_MAX_PIXELS = 2_000_000

#: Pillow format name -> (extension, MIME type).
FORMATS: dict[str, tuple[str, str]] = {
    "PNG": ("png", "image/png"),
    "JPEG": ("jpg", "image/jpeg"),
    "GIF": ("gif", "image/gif"),
    "WEBP": ("webp", "image/webp"),
}

#: Signatures of files people upload as images that are not accepted.
_OTHER_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "PDF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"8BPS", "Photoshop"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"<svg", "SVG"),
    (b"<?xml", "SVG"),
    (b"\x00\x00\x00\x18ftypheic", "HEIC"),
    (b"\x00\x00\x00\x1cftypheic", "HEIC"),
    (b"\x00\x00\x00\x1cftypavif", "AVIF"),
)

#: Serialises the switch of Pillow's process-wide truncation flag.
_strict_lock = threading.Lock()


@contextmanager
def _strict_decoding() -> Iterator[None]:
    """Decode with ``ImageFile.LOAD_TRUNCATED_IMAGES`` off, whatever set it.

    WeasyPrint (the PDF export) turns the flag on for the whole process when
    it is imported, which would let a truncated upload through as a picture
    padded with grey. The flag is turned off while an upload is decoded and
    put back after. A PDF rendered meanwhile only ever reads stored images,
    which were all decoded whole, so the switch cannot change its output.
    """
    with _strict_lock:
        previous = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = previous


@dataclass(frozen=True)
class CleanImage:
    """A re-encoded image, ready to store."""

    data: bytes
    #: Pillow format name: PNG, JPEG, GIF or WEBP.
    format: str
    ext: str
    content_type: str
    width: int
    height: int
    frames: int


def _sniff_other(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    head = data[:512].lstrip()
    for signature, name in _OTHER_SIGNATURES:
        if head.startswith(signature):
            if name == "SVG" and signature == b"<?xml" and b"<svg" not in data[:4096]:
                return None
            return name
    return None


def _refuse_type(data: bytes, detected: str | None, types: tuple[str, ...]) -> ImageRejected:
    accepted = ", ".join(types)
    if detected is None:
        detected = _sniff_other(data)
    if detected is not None:
        return ImageRejected(
            "unsupported_type",
            f"{detected} images can’t be added; use one of {accepted}.",
        )
    return ImageRejected("not_an_image", f"This file is not an image (accepted types: {accepted}).")


def _open(data: bytes, types: tuple[str, ...]) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # Only the accepted formats' parsers ever read the bytes.
            image = Image.open(io.BytesIO(data), formats=list(types))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected(
            "too_many_pixels", "This image has too many pixels to be added."
        ) from None
    except UnidentifiedImageError:
        raise _refuse_type(data, None, types) from None
    except (OSError, SyntaxError, ValueError):
        raise ImageRejected("not_an_image", "This image file is damaged or incomplete.") from None
    if image.format not in FORMATS:
        image.close()
        raise _refuse_type(data, image.format, types)
    return image


def _check_pixels(image: Image.Image, max_pixels: int) -> int:
    width, height = image.size
    if width < 1 or height < 1:
        raise ImageRejected("not_an_image", "This image has no pixels.")
    if width * height > max_pixels:
        raise ImageRejected(
            "too_many_pixels",
            f"This image is {width}×{height} pixels; the most allowed is {max_pixels:,} pixels.",
        )
    # n_frames walks the file's frame headers only (no pixel decoding).
    frames = int(getattr(image, "n_frames", 1) or 1)
    if frames > MAX_FRAMES:
        raise ImageRejected(
            "too_many_pixels",
            f"This animation has {frames} frames; the most allowed is {MAX_FRAMES}.",
        )
    if frames * width * height > ANIMATION_PIXEL_FACTOR * max_pixels:
        raise ImageRejected(
            "too_many_pixels", "This animation has too many pixels in all its frames together."
        )
    return frames


def _icc(image: Image.Image) -> bytes | None:
    profile = image.info.get("icc_profile")
    if not isinstance(profile, bytes) or not profile or len(profile) > MAX_ICC_BYTES:
        return None
    if ImageCms is None:
        return None
    try:
        ImageCms.ImageCmsProfile(io.BytesIO(profile))
    except (OSError, ValueError, TypeError, ImageCms.PyCMSError):
        return None
    return profile


def _still(image: Image.Image, fmt: str) -> tuple[bytes, tuple[int, int]]:
    icc = _icc(image)
    upright = ImageOps.exif_transpose(image)
    if fmt == "JPEG" and upright.mode not in ("L", "RGB"):
        # CMYK, YCbCr, I;16...: to RGB; a CMYK profile would be wrong on RGB.
        if upright.mode in ("CMYK", "YCbCr"):
            icc = None
        upright = upright.convert("RGB")
    # The pixels (and palette) only: info (exif, xmp, comments, text chunks)
    # is left behind, so no encoder can fall back to it.
    transparency = upright.info.get("transparency") if fmt in ("PNG", "GIF") else None
    # exif_transpose always returns a new image: clearing its info leaves
    # the opened file's untouched and costs no copy of the pixels.
    clean = upright if upright is not image else upright.copy()
    clean.info = {}
    out = io.BytesIO()
    options: dict[str, object] = {}
    if icc is not None:
        options["icc_profile"] = icc
    if transparency is not None:
        options["transparency"] = transparency
    if fmt == "JPEG":
        # Huffman optimisation saves ~7 % but doubles the encoding time.
        small = clean.width * clean.height <= OPTIMIZE_MAX_PIXELS
        clean.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=small, **options)
    elif fmt == "PNG":
        big = clean.width * clean.height > OPTIMIZE_MAX_PIXELS
        level = {"compress_level": 6} if big else {"optimize": True}
        clean.save(out, format="PNG", **level, **options)
    elif fmt == "WEBP":
        clean.save(out, format="WEBP", quality=WEBP_QUALITY, **options)
    else:
        clean.save(out, format="GIF", **options)
    return out.getvalue(), clean.size


def _animated(image: Image.Image, fmt: str) -> tuple[bytes, tuple[int, int]]:
    frames: list[Image.Image] = []
    durations: list[int] = []
    for frame in ImageSequence.Iterator(image):
        rgba = frame.convert("RGBA")
        frames.append(Image.frombytes("RGBA", rgba.size, rgba.tobytes()))
        durations.append(int(frame.info.get("duration", 100) or 100))
    loop = image.info.get("loop", 0)
    out = io.BytesIO()
    options: dict[str, object] = {
        "save_all": True,
        "append_images": frames[1:],
        "duration": durations,
        "loop": int(loop) if isinstance(loop, int) else 0,
    }
    if fmt == "GIF":
        # Each frame is a whole picture: clear to background before the next.
        frames[0].save(out, format="GIF", disposal=2, optimize=False, **options)
    else:
        frames[0].save(out, format="WEBP", quality=WEBP_QUALITY, **options)
    return out.getvalue(), frames[0].size


def clean_image(
    data: bytes, *, types: tuple[str, ...], max_bytes: int, max_pixels: int
) -> CleanImage:
    """Return ``data`` checked and re-encoded without metadata (see the module docstring).

    :raises ImageRejected: the bytes are refused; nothing else is raised for
        bad input.
    """
    if len(data) > max_bytes:
        raise ImageRejected(
            "too_large",
            f"This image is {len(data) / 1048576:.1f} MB; the most allowed is "
            f"{max_bytes / 1048576:.1f} MB.",
        )
    if not data:
        raise ImageRejected("not_an_image", "The file is empty.")
    types = tuple(t.upper() for t in types)
    image = _open(data, types)
    fmt = str(image.format)
    try:
        frames = _check_pixels(image, max_pixels)
        with _strict_decoding(), warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            if frames > 1 and fmt in ("GIF", "WEBP"):
                encoded, size = _animated(image, fmt)
            else:
                image.load()
                encoded, size = _still(image, fmt)
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected(
            "too_many_pixels", "This image has too many pixels to be added."
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError):
        raise ImageRejected("not_an_image", "This image file is damaged or incomplete.") from None
    finally:
        image.close()
    ext, content_type = FORMATS[fmt]
    return CleanImage(
        data=encoded,
        format=fmt,
        ext=ext,
        content_type=content_type,
        width=size[0],
        height=size[1],
        frames=frames,
    )
