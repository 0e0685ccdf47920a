"""Pillow validation and re-encoding (images.validation): what is refused, what is kept.

No database: clean_image is pure.
"""

from __future__ import annotations

import io
import zlib
from typing import Any

import pytest
from PIL import Image as PILImage
from PIL import ImageCms, PngImagePlugin

from images.exceptions import ImageRejected
from images.validation import CleanImage, clean_image
from tests.images.conftest import animated, image_bytes

TYPES = ("PNG", "JPEG", "GIF", "WEBP")

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def clean(
    data: bytes,
    *,
    types: tuple[str, ...] = TYPES,
    max_bytes: int = 10 * 1024 * 1024,
    max_pixels: int = 40_000_000,
) -> CleanImage:
    return clean_image(data, types=types, max_bytes=max_bytes, max_pixels=max_pixels)


def reopen(data: bytes) -> PILImage.Image:
    return PILImage.open(io.BytesIO(data))


def refused(data: bytes, **limits: Any) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        clean(data, **limits)
    return caught.value


def jpeg_with_gps() -> bytes:
    exif = PILImage.Exif()
    exif[0x010F] = "PhoneMaker"  # camera make
    exif[ORIENTATION] = 6  # rotate 90° clockwise to show
    exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}
    out = io.BytesIO()
    PILImage.new("RGB", (40, 20), (10, 120, 200)).save(
        out, format="JPEG", exif=exif.tobytes(), comment=b"taken at home"
    )
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
def test_each_accepted_type_is_re_encoded_in_its_own_format(fmt: str) -> None:
    result = clean(image_bytes(fmt, size=(64, 48)))
    assert (result.format, result.width, result.height) == (fmt, 64, 48)
    assert reopen(result.data).format == fmt


def test_exif_gps_and_comments_are_stripped_and_orientation_applied() -> None:
    original = jpeg_with_gps()
    assert reopen(original).getexif().get_ifd(GPS_IFD)  # the input really has a location
    result = clean(original)
    stored = reopen(result.data)
    assert dict(stored.getexif()) == {}
    assert "comment" not in stored.info and "exif" not in stored.info
    assert b"PhoneMaker" not in result.data and b"taken at home" not in result.data
    # Orientation 6 turned the 40×20 picture upright: 20×40, and no tag left to turn it twice.
    assert stored.size == (20, 40)


def test_png_text_xmp_and_exif_are_stripped_and_a_valid_icc_profile_kept() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Bob Secret")
    info.add_text("XML:com.adobe.xmp", "<x:xmpmeta>GPSLatitude 48</x:xmpmeta>")
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = PILImage.Exif()
    exif[GPS_IFD] = {1: "N"}
    out = io.BytesIO()
    PILImage.new("RGBA", (10, 10), (1, 2, 3, 200)).save(
        out, format="PNG", pnginfo=info, exif=exif.tobytes(), icc_profile=icc
    )
    result = clean(out.getvalue())
    stored = reopen(result.data)
    assert set(stored.info) == {"icc_profile"}
    assert stored.info["icc_profile"] == icc
    assert b"Bob Secret" not in result.data and b"GPSLatitude" not in result.data
    assert stored.mode == "RGBA"


def test_a_malformed_icc_profile_is_dropped() -> None:
    out = io.BytesIO()
    PILImage.new("RGB", (8, 8)).save(out, format="JPEG", icc_profile=b"not a profile" * 10)
    stored = reopen(clean(out.getvalue()).data)
    assert "icc_profile" not in stored.info


def test_webp_exif_and_xmp_are_stripped() -> None:
    exif = PILImage.Exif()
    exif[GPS_IFD] = {1: "N"}
    out = io.BytesIO()
    PILImage.new("RGB", (10, 10)).save(
        out, format="WEBP", exif=exif.tobytes(), xmp=b"<xmp>secret</xmp>"
    )
    result = clean(out.getvalue())
    stored = reopen(result.data)
    assert dict(stored.getexif()) == {} and "xmp" not in stored.info
    assert b"secret" not in result.data


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animations_keep_every_frame_their_durations_and_loop(fmt: str) -> None:
    result = clean(animated(fmt, frames=4))
    stored = reopen(result.data)
    assert result.frames == 4 and stored.n_frames == 4
    assert stored.info.get("loop") == 3
    durations, colours = [], []
    for index in range(stored.n_frames):
        stored.seek(index)
        colours.append(stored.convert("RGB").getpixel((5, 5)))
        durations.append(stored.info.get("duration"))  # WebP sets it on load
    assert durations == [100, 200, 300, 400]
    assert len(set(colours)) == 4  # still an animation, not one frame repeated


def test_the_type_comes_from_the_bytes_not_the_name() -> None:
    # A JPEG whatever it was called: stored as a JPEG.
    assert clean(image_bytes("JPEG")).ext == "jpg"


@pytest.mark.parametrize(
    ("data", "code", "says"),
    [
        (
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
            "unsupported_type",
            "SVG",
        ),
        (
            b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
            "unsupported_type",
            "SVG",
        ),
        (b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "unsupported_type", "PDF"),
        (image_bytes("BMP"), "unsupported_type", "BMP"),
        (image_bytes("TIFF"), "unsupported_type", "TIFF"),
        (b"just some text pretending to be a .png\n" * 3, "not_an_image", "not an image"),
        (b"", "not_an_image", "empty"),
    ],
    ids=["svg", "svg-xml", "pdf", "bmp", "tiff", "text", "empty"],
)
def test_other_files_are_refused_with_their_kind_named(data: bytes, code: str, says: str) -> None:
    error = refused(data)
    assert error.code == code
    assert says in error.message


def test_a_type_left_out_of_the_settings_is_refused() -> None:
    error = refused(image_bytes("GIF"), types=("PNG", "JPEG"))
    assert error.code == "unsupported_type" and "GIF" in error.message


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
def test_truncated_files_are_refused_as_damaged(fmt: str) -> None:
    data = image_bytes(fmt, size=(300, 200), color=(1, 2, 3))
    # Random-looking pixels so the cut lands inside the image data.
    noisy = PILImage.frombytes("RGB", (300, 200), bytes((i * 7919) % 251 for i in range(180000)))
    out = io.BytesIO()
    noisy.save(out, format=fmt)
    data = out.getvalue()
    error = refused(data[: len(data) * 2 // 3])
    assert error.code == "not_an_image" and "damaged" in error.message


def test_corrupt_bytes_after_a_valid_header_are_refused() -> None:
    data = bytearray(image_bytes("PNG", size=(100, 100)))
    data[60:80] = b"\xff" * 20  # inside the IDAT chunk: CRC and zlib stream broken
    assert refused(bytes(data)).code == "not_an_image"


def test_too_many_bytes_is_refused_before_decoding() -> None:
    error = refused(image_bytes("PNG"), max_bytes=100)
    assert error.code == "too_large" and "MB" in error.message


def png_bomb(width: int, height: int) -> bytes:
    """Return a tiny PNG whose header claims width × height pixels.

    Its data is a few rows of zeros only: the guard must refuse it from the
    header, before decoding anything (decoding would fail differently).
    """
    raw = zlib.compress(b"\x00" * ((width + 7) // 8 + 1) * 4, 9)

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body).to_bytes(4, "big")
        return len(body).to_bytes(4, "big") + kind + body + crc

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([1, 0, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [7000, 30000], ids=["over-the-setting", "over-pillows-own-guard"])
def test_decompression_bombs_are_refused_from_the_header(side: int) -> None:
    bomb = png_bomb(side, side)
    assert len(bomb) < 1000  # small on the wire, huge once decoded
    error = refused(bomb)
    assert error.code == "too_many_pixels"


def test_an_animation_with_too_many_pixels_in_all_frames_is_refused() -> None:
    # 4 frames of 32×24 = 3,072 pixels: over twice a 1,000-pixel limit.
    error = refused(animated("GIF", frames=4), max_pixels=1000)
    assert error.code == "too_many_pixels"
