"""Chat attachments: checking an upload by its bytes, and watermarking site photos.

Nothing is trusted from the file name or from the content type the client
claims. ``check_upload`` reads the bytes (never more than the size limit),
recognises the format by its signature, decodes images fully and reads audio
and video containers far enough to know what they hold and how long they last.
Every refusal is a :class:`~core.errors.ValidationFailed` naming the ``file``
field (or ``kind`` for an unknown kind).

Memory is bounded for images, whoever sends them: the pixel count is read
from the header and refused over ``MAX_IMAGE_PIXELS`` before anything is
decoded; a JPEG is decoded scaled down by libjpeg (``Image.draft``) both to
check it and to stamp it; the stored photo's longest side is at most
``JINSHAO_IMAGE_MAX_SIDE``; and one server process decodes at most
``JINSHAO_IMAGE_WORKERS`` images at once (a semaphore; a photo that waits
longer than ``DECODE_WAIT_SECONDS`` is refused as ``busy``, 503).

Sizes are the upright picture's: a phone photo turned by its EXIF orientation
is reported, stored and recorded as it is seen. Every colour mode is turned
into 8-bit sRGB faithfully (``to_rgb``): 16-bit and float samples are scaled
by their range, transparency goes onto white, CMYK, LAB and HSV are
converted, and an embedded ICC profile is applied before it is dropped.

The watermark needs a font with Chinese glyphs to draw a person's name: the
font ``JINSHAO_WATERMARK_FONT`` names, else the first of ``CJK_FONTS`` that is
installed (``bin/setup`` installs Debian's ``fonts-wqy-microhei``).
"""

from __future__ import annotations

import functools
import io
import math
import os
import struct
import threading
import warnings
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggspeex import OggSpeex
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE
from PIL import ExifTags, Image, ImageCms, ImageDraw, ImageFont, ImageMath, ImageOps

from core.errors import DomainError, ValidationFailed

KINDS = ("image", "voice", "video", "file")

MAX_IMAGE_PIXELS = 40_000_000
MAX_VOICE_MINUTES = 10
MAX_VIDEO_MINUTES = 5
WATERMARK_QUALITY = 85
#: How long a photo may wait for one of the process's decoding slots.
DECODE_WAIT_SECONDS = 30.0
_JPEG_FORMATS = ("JPEG", "MPO")


class Busy(DomainError):
    """Every decoding slot of this process stayed taken: try again shortly (nothing was kept)."""

    code = "busy"
    http_status = 503


#: At most this many images are decoded at once in one process (each may take
#: up to MAX_IMAGE_PIXELS × 4 bytes while it is decoded).
_decoding = threading.BoundedSemaphore(max(1, settings.JINSHAO_IMAGE_WORKERS))


@contextmanager
def _decoding_slot() -> Iterator[None]:
    if not _decoding.acquire(timeout=DECODE_WAIT_SECONDS):
        raise Busy(_("The server is busy with other photos; send this one again in a moment."))
    try:
        yield
    finally:
        _decoding.release()


@dataclass(frozen=True)
class CheckedUpload:
    """What an accepted upload turned out to be, read from its bytes."""

    kind: str  # one of KINDS
    content_type: str  # the sniffed type, never the client's
    extension: str  # with the dot, matching content_type
    size: int  # bytes
    width: int | None = None  # pixels, as seen: a photo upright, a video by its matrix
    height: int | None = None
    duration_ms: int | None = None


def check_upload(kind: str, file: IO[bytes], *, max_bytes: int) -> CheckedUpload:
    """Check ``file`` sent as an attachment of ``kind`` and say what it is.

    Raises ``ValidationFailed`` when the kind is unknown, the file is empty or
    over ``max_bytes`` (checked before anything is read), or its content is
    not an acceptable attachment of that kind. The file is left at offset 0.
    """
    if kind not in KINDS:
        message = _("Unknown attachment kind.")
        raise ValidationFailed(message, fields={"kind": [message]})
    try:
        data = _read_within(file, max_bytes)
        return _CHECKS[kind](data)
    finally:
        file.seek(0)


def watermark_image(file: IO[bytes], *, lines: list[str], font_path: str | None = None) -> bytes:
    """Stamp ``lines`` in the bottom-right corner of a photo; return it as a JPEG.

    The photo is turned upright from its EXIF orientation, scaled down to at
    most ``JINSHAO_IMAGE_MAX_SIDE`` on its longest side, and re-encoded
    without any metadata: photos taken on site carry their GPS position.
    ``font_path`` names a TrueType/OpenType font, normally ``watermark_font()``
    (a CJK font, so Chinese names render). Without it Pillow's built-in font
    is used, which only covers Latin text, so callers pass ASCII lines then;
    ``font_draws`` tells whether a font has every character of a line.
    Call it on a file that ``check_upload(kind="image")`` accepted.
    """
    with _decoding_slot():
        image = _open_upright(file)
        if lines:
            _stamp(image, lines, font_path)
        out = io.BytesIO()
        # Only what is passed here is written: no EXIF, GPS, XMP or ICC profile.
        image.save(out, "JPEG", quality=WATERMARK_QUALITY)
        return out.getvalue()


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height in pixels of an image as it is seen, read from its header.

    Nothing is decoded, except a PNG whose EXIF follows its pixels. A picture
    whose EXIF orientation turns it by 90° or 270° (5 to 8, as phones write
    portrait shots) is as wide as it is high in its file, and as high as its
    file is wide.
    """
    with Image.open(io.BytesIO(data)) as image:
        return _upright_size(image)


#: Where the usual CJK font packages put their fonts, searched in this order
#: when ``JINSHAO_WATERMARK_FONT`` names none: Debian/Ubuntu's
#: ``fonts-wqy-microhei`` (which ``bin/setup`` installs), ``fonts-wqy-zenhei``
#: and ``fonts-noto-cjk``; Fedora's and Alpine's Noto CJK; macOS.
CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
)
#: A private-use code point no font draws: it shows the font's ``.notdef`` glyph.
_NOT_IN_ANY_FONT = "\U0010fffd"


def watermark_font() -> str | None:
    """Path of the font the watermark uses: ``JINSHAO_WATERMARK_FONT``, else an installed CJK font.

    ``None`` when neither exists (the start-up checks warn about it).
    """
    return settings.JINSHAO_WATERMARK_FONT or _installed_cjk_font()


@functools.cache
def _installed_cjk_font() -> str | None:
    return next((path for path in CJK_FONTS if os.path.isfile(path)), None)


def font_draws(font_path: str, text: str) -> bool:
    """Whether the font at ``font_path`` has a glyph for every character of ``text``.

    A missing glyph would be drawn as the font's ``.notdef`` box ("tofu"), so
    each character's bitmap is compared with that box's. Raises ``OSError``
    when the font cannot be loaded.
    """
    font = ImageFont.truetype(font_path, 32)
    missing = _glyph_bitmap(font, _NOT_IN_ANY_FONT)
    return all(char.isspace() or _glyph_bitmap(font, char) != missing for char in text)


def _glyph_bitmap(font: ImageFont.FreeTypeFont, char: str) -> bytes:
    canvas = Image.new("L", (64, 64))
    ImageDraw.Draw(canvas).text((8, 8), char, font=font, fill=255)
    return canvas.tobytes()


# --- Reading -----------------------------------------------------------------


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed(message, fields={"file": [message]})


def _read_within(file: IO[bytes], max_bytes: int) -> bytes:
    """The content of ``file``, refused when empty or larger than ``max_bytes``.

    The declared size is checked before reading; at most one byte more than
    the limit is then read, in case the declared size was wrong.
    """
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, io.SEEK_END)
        size = file.tell()
    _check_size(size, max_bytes)
    file.seek(0)
    data = file.read(max_bytes + 1)
    _check_size(len(data), max_bytes)
    return data


def _check_size(size: int, max_bytes: int) -> None:
    if size == 0:
        raise _refuse(_("An empty file cannot be sent."))
    if size > max_bytes:
        raise _refuse(
            _("The file is larger than %(limit)s.") % {"limit": filesizeformat(max_bytes)}
        )


# --- Images ------------------------------------------------------------------

_IMAGE_TYPES = {
    "JPEG": ("image/jpeg", ".jpg"),
    "PNG": ("image/png", ".png"),
    "WEBP": ("image/webp", ".webp"),
    "GIF": ("image/gif", ".gif"),
    "MPO": ("image/jpeg", ".jpg"),  # a JPEG with extra pictures, as many phones take them
}
# HEIC/HEIF and AVIF stills share the ISO container with MP4 but are not accepted.
_HEIF_BRANDS = frozenset(b"heic heix heim heis hevc hevx mif1 msf1 avif avis".split())


#: Image formats Pillow reads but a photo is not accepted in, by their signature,
#: so that the refusal names them (TIFF is where 16-bit, float and LAB images come from).
_OTHER_IMAGE_FORMATS = (
    (b"II*\0", "TIFF"),
    (b"MM\0*", "TIFF"),
    (b"8BPS", "PSD"),
    (b"\0\0\0\x0cjP  \r\n", "JPEG 2000"),
    (b"\xffO\xffQ", "JPEG 2000"),
)


def _check_image(data: bytes) -> CheckedUpload:
    if _ftyp_brand(data) in _HEIF_BRANDS:
        raise _refuse(_("HEIC photos are not supported; please send a JPEG or PNG photo."))
    for signature, name in _OTHER_IMAGE_FORMATS:
        if data.startswith(signature):
            raise _refuse(
                _("%(format)s images are not supported; please send a JPEG or PNG photo.")
                % {"format": name}
            )
    with _decoding_slot():
        return _checked_image(data)


def _checked_image(data: bytes) -> CheckedUpload:
    try:
        with _bomb_warnings_as_errors():
            content_type, extension, width, height = _decode_image(data)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except Exception:  # Pillow fails on hostile bytes in many ways; all mean the same here.
        raise _refuse(_("This file is not a valid image.")) from None
    return CheckedUpload("image", content_type, extension, len(data), width, height)


def _decode_image(data: bytes) -> tuple[str, str, int, int]:
    """Verify ``data`` and decode it fully (a truncated file fails); type and size."""
    formats = list(_IMAGE_TYPES)
    with Image.open(io.BytesIO(data), formats=formats) as image:
        _check_pixels(image.size)
        image.verify()
    # verify() leaves the image unusable and does not decode the pixels: open again.
    with Image.open(io.BytesIO(data), formats=formats) as image:
        width, height = _upright_size(image)
        if image.format in _JPEG_FORMATS:
            # libjpeg decodes at 1/8 scale: every byte is still read (a truncated
            # file still fails), in 1/64 of the memory.
            image.draft(None, (1, 1))
        image.load()
        content_type, extension = _IMAGE_TYPES[str(image.format)]
        return content_type, extension, width, height


def _upright_size(image: Image.Image) -> tuple[int, int]:
    """Width and height once turned by the EXIF orientation, as ``ImageOps.exif_transpose`` does."""
    orientation = image.getexif().get(ExifTags.Base.Orientation)
    width, height = image.size
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _check_pixels(size: tuple[int, int]) -> None:
    # Our own limit, lower than Pillow's global one, which is left alone.
    if size[0] * size[1] > MAX_IMAGE_PIXELS:
        raise Image.DecompressionBombError(f"{size[0]}x{size[1]} pixels")


def _too_many_pixels() -> ValidationFailed:
    millions = MAX_IMAGE_PIXELS // 1_000_000
    return _refuse(
        _("This image is too large: at most %(millions)s million pixels.") % {"millions": millions}
    )


@contextmanager
def _bomb_warnings_as_errors() -> Iterator[None]:
    """Turn Pillow's decompression-bomb warning into an exception, here only.

    Images between Pillow's global limit and twice it only warn; the warning
    must not escape (the test suite turns warnings into errors) and such an
    image is refused anyway. ``catch_warnings`` swaps process-wide filters: a
    race between threads could at worst leave this one filter in place, which
    only makes a bomb fail louder elsewhere.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield


# --- ISO base media files (MP4, M4A, MOV, 3GP) ---------------------------------


def _ftyp_brand(data: bytes) -> bytes | None:
    """The major brand of an ISO base media file, ``None`` for anything else."""
    return data[8:12] if data[4:8] == b"ftyp" and len(data) >= 12 else None


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """``(type, payload start, box end)`` for each box in ``data[start:end]``.

    Stops at the first box that does not fit: callers look only for what
    they need, and a missing box is refused by them.
    """
    pos = start
    while pos + 8 <= end:
        size, box_type = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:  # a 64-bit size follows the type
            if pos + 16 > end:
                return
            size, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
        elif size == 0:  # the box runs to the end of its container
            size = end - pos
        if size < header or pos + size > end:
            return
        yield box_type, pos + header, pos + size
        pos += size


def _find(
    data: bytes, path: tuple[bytes, ...], start: int = 0, end: int | None = None
) -> Iterator[tuple[int, int]]:
    """``(payload start, box end)`` of every box at ``path`` below ``data[start:end]``."""
    end = len(data) if end is None else end
    for box_type, payload, box_end in _boxes(data, start, end):
        if box_type == path[0]:
            if len(path) == 1:
                yield payload, box_end
            else:
                yield from _find(data, path[1:], payload, box_end)


def _tracks(data: bytes) -> list[tuple[bytes, int, int]]:
    """``(handler type, start, end)`` of each track: ``soun``, ``vide``, ``text``…"""
    tracks = []
    for start, end in _find(data, (b"moov", b"trak")):
        for payload, box_end in _find(data, (b"mdia", b"hdlr"), start, end):
            # hdlr: version and flags (4), pre_defined (4), handler type (4)
            if box_end - payload >= 12:
                tracks.append((data[payload + 8 : payload + 12], start, end))
    return tracks


def _mvhd_duration_ms(data: bytes) -> int | None:
    """The movie duration from ``moov/mvhd``, for files mutagen cannot read."""
    for payload, end in _find(data, (b"moov", b"mvhd")):
        if data[payload : payload + 1] == b"\x01":  # 64-bit times and duration
            fmt, offset, unknown = ">IQ", payload + 20, 0xFFFF_FFFF_FFFF_FFFF
        else:
            fmt, offset, unknown = ">II", payload + 12, 0xFFFF_FFFF
        if offset + struct.calcsize(fmt) > end:
            return None
        timescale, duration = struct.unpack_from(fmt, data, offset)
        if not timescale or duration == unknown:
            return None
        return round(duration * 1000 / timescale)
    return None


def _video_size(data: bytes, start: int, end: int) -> tuple[int | None, int | None]:
    """Display width and height of a video track from its ``tkhd``, turned by its matrix."""
    for payload, box_end in _find(data, (b"tkhd",), start, end):
        # Past version/flags, times, ids, layer, volume and the 3x3 matrix (36 bytes).
        offset = payload + (88 if data[payload : payload + 1] == b"\x01" else 76)
        if offset + 8 > box_end:
            break
        a, b = struct.unpack_from(">ii", data, offset - 36)
        width, height = (value >> 16 for value in struct.unpack_from(">II", data, offset))
        if a == 0 and b != 0:  # turned by 90° or 270°: phones record portrait this way
            width, height = height, width
        if width and height:
            return width, height
    return None, None


def _iso_type(brand: bytes, media: str) -> tuple[str, str]:
    """Content type and extension of an ISO media file from its major brand."""
    if brand.startswith(b"3g2"):
        return f"{media}/3gpp2", ".3g2"
    if brand.startswith(b"3g"):
        return f"{media}/3gpp", ".3gp"
    if media == "video":
        return ("video/quicktime", ".mov") if brand == b"qt  " else ("video/mp4", ".mp4")
    return "audio/mp4", ".m4a"


# --- Voice notes ---------------------------------------------------------------

# Frame sizes in bytes, header included, indexed by the frame type (RFC 4867 §5.3).
_AMR_NB_SIZES = (13, 14, 16, 18, 20, 21, 27, 32, 6, 0, 0, 0, 0, 0, 0, 1)
_AMR_WB_SIZES = (18, 24, 33, 37, 41, 47, 51, 59, 61, 6, 0, 0, 0, 0, 1, 1)
_AMR_FORMATS = (
    (b"#!AMR\n", _AMR_NB_SIZES, "audio/amr", ".amr"),
    (b"#!AMR-WB\n", _AMR_WB_SIZES, "audio/amr-wb", ".awb"),
)
_OGG_CODECS = (
    (b"OpusHead", OggOpus),
    (b"\x01vorbis", OggVorbis),
    (b"Speex   ", OggSpeex),
    (b"\x7fFLAC", OggFLAC),
)
_Parser = Callable[[IO[bytes]], Any]


def _check_voice(data: bytes) -> CheckedUpload:
    for magic, sizes, content_type, extension in _AMR_FORMATS:
        if data.startswith(magic):
            duration = _amr_duration_ms(data, len(magic), sizes)
            return _voice(data, content_type, extension, duration)
    brand = _ftyp_brand(data)
    if brand is not None and brand not in _HEIF_BRANDS:
        handlers = [handler for handler, _start, _end in _tracks(data)]
        if b"vide" in handlers:
            raise _refuse(_("This is a video, not a voice note."))
        if b"soun" not in handlers:
            raise _refuse(_("This file has no sound, so it is not a voice note."))
        content_type, extension = _iso_type(brand, "audio")
        return _voice(data, content_type, extension, _voice_length_ms(MP4, data))
    sniffed = _sniff_audio(data)
    if sniffed is None:
        raise _refuse(_("This voice note is not in a supported format (AMR, M4A, MP3, OGG, WAV)."))
    content_type, extension, parser = sniffed
    return _voice(data, content_type, extension, _voice_length_ms(parser, data))


def _sniff_audio(data: bytes) -> tuple[str, str, _Parser] | None:
    """Ogg, WAV and MP3 by their signatures, with the mutagen class that reads them."""
    if data.startswith(b"OggS") and len(data) > 27:
        # The first packet follows the page header and its segment table.
        packet = data[27 + data[26] :]
        for magic, parser in _OGG_CODECS:
            if packet.startswith(magic):
                return "audio/ogg", ".ogg", parser
        return None
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav", ".wav", WAVE
    if data.startswith(b"ID3") or _mpeg_audio_sync(data):
        return "audio/mpeg", ".mp3", MP3
    return None


def _mpeg_audio_sync(data: bytes) -> bool:
    # Eleven set bits of frame sync; layer bits 00 would be AAC in ADTS, not MP3.
    return len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0 and data[1] & 0x06 != 0


def _amr_duration_ms(data: bytes, start: int, sizes: tuple[int, ...]) -> int:
    """Walk the AMR frames (20 ms each); an invalid or truncated frame is corruption."""
    frames, pos = 0, start
    while pos < len(data):
        size = sizes[(data[pos] >> 3) & 0x0F]
        if size == 0 or pos + size > len(data):
            raise _refuse(_("This voice note is damaged and cannot be played."))
        pos += size
        frames += 1
    return frames * 20


def _voice_length_ms(parser: _Parser, data: bytes) -> int | None:
    try:
        return _mutagen_length_ms(parser, data)
    except Exception:  # the signature looked right, but mutagen could not read it
        raise _refuse(_("This voice note is damaged and cannot be played.")) from None


def _mutagen_length_ms(parser: _Parser, data: bytes) -> int | None:
    """The length as read by a mutagen class; raises whatever mutagen raises."""
    length = getattr(parser(io.BytesIO(data)).info, "length", None)
    return None if length is None else round(length * 1000)


def _voice(data: bytes, content_type: str, extension: str, duration: int | None) -> CheckedUpload:
    if duration is None:
        raise _refuse(_("The length of this voice note cannot be determined."))
    if duration <= 0:
        raise _refuse(_("This voice note is empty."))
    if duration > MAX_VOICE_MINUTES * 60_000:
        message = ngettext(
            "A voice note may last at most %(count)d minute.",
            "A voice note may last at most %(count)d minutes.",
            MAX_VOICE_MINUTES,
        )
        raise _refuse(message % {"count": MAX_VOICE_MINUTES})
    return CheckedUpload("voice", content_type, extension, len(data), duration_ms=duration)


# --- Videos --------------------------------------------------------------------

_EBML_MAGIC = b"\x1a\x45\xdf\xa3"


def _check_video(data: bytes) -> CheckedUpload:
    if data.startswith(_EBML_MAGIC):
        return _matroska(data)
    brand = _ftyp_brand(data)
    if brand is None or brand in _HEIF_BRANDS:
        raise _refuse(_("This file is not a video in a supported format (MP4, MOV, 3GP, WebM)."))
    video = [(start, end) for handler, start, end in _tracks(data) if handler == b"vide"]
    if not video:
        raise _refuse(_("This file has no picture, so it is not a video."))
    duration = _video_duration_ms(data)
    if duration is not None and duration > MAX_VIDEO_MINUTES * 60_000:
        message = ngettext(
            "A video may last at most %(count)d minute.",
            "A video may last at most %(count)d minutes.",
            MAX_VIDEO_MINUTES,
        )
        raise _refuse(message % {"count": MAX_VIDEO_MINUTES})
    width, height = _video_size(data, *video[0])
    content_type, extension = _iso_type(brand, "video")
    return CheckedUpload("video", content_type, extension, len(data), width, height, duration)


def _video_duration_ms(data: bytes) -> int | None:
    """Length from mutagen, else from ``mvhd``; ``None`` when unknown (0 in fragmented files)."""
    try:
        duration = _mutagen_length_ms(MP4, data)
    except Exception:  # mutagen does not read every QuickTime file: read mvhd ourselves
        duration = None
    return duration or _mvhd_duration_ms(data) or None


def _matroska(data: bytes) -> CheckedUpload:
    """WebM (or other Matroska) by its EBML signature, without a duration.

    Browsers' MediaRecorder writes WebM as a live stream and leaves the
    Segment Duration out, so finding the length would mean walking every
    cluster; the size limit bounds these files instead.
    """
    if b"matroska" in data[:64]:  # the DocType in the EBML header
        return CheckedUpload("video", "video/x-matroska", ".mkv", len(data))
    return CheckedUpload("video", "video/webm", ".webm", len(data))


# --- Other files ---------------------------------------------------------------

_OOXML_TYPES = (
    ("word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
    ("xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    ("ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation", ".pptx"),
)
_OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
# The stream that says which legacy Office program wrote a compound file.
_OLE_STREAMS = (
    ("WordDocument", "application/msword", ".doc"),
    ("Workbook", "application/vnd.ms-excel", ".xls"),
    ("Book", "application/vnd.ms-excel", ".xls"),
    ("PowerPoint Document", "application/vnd.ms-powerpoint", ".ppt"),
)


def _check_file(data: bytes) -> CheckedUpload:
    if data.startswith(b"%PDF-"):
        content_type, extension = "application/pdf", ".pdf"
    elif data.startswith(b"PK\x03\x04"):
        content_type, extension = _ooxml_type(data)
    elif data.startswith(_OLE_MAGIC):
        content_type, extension = _ole_type(data)
    elif b"\0" not in data and _is_utf8(data):
        content_type, extension = "text/plain", ".txt"
    else:
        raise _cannot_send()
    return CheckedUpload("file", content_type, extension, len(data))


def _cannot_send() -> ValidationFailed:
    return _refuse(_("This kind of file cannot be sent."))


def _ooxml_type(data: bytes) -> tuple[str, str]:
    """A Word, Excel or PowerPoint file; any other zip archive is refused."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except Exception:  # zipfile fails on hostile bytes in many ways
        raise _cannot_send() from None
    if "[Content_Types].xml" not in names:
        raise _cannot_send()
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise _refuse(_("Office files with macros cannot be sent."))
    for prefix, content_type, extension in _OOXML_TYPES:
        if any(name.startswith(prefix) for name in names):
            return content_type, extension
    raise _cannot_send()


def _ole_type(data: bytes) -> tuple[str, str]:
    """A legacy Word, Excel or PowerPoint file, told apart by its main stream's name.

    Windows Installer packages and Outlook messages share the compound file
    format but have none of these streams, so they are refused.
    """
    for name, content_type, extension in _OLE_STREAMS:
        if _ole_has_entry(data, name):
            return content_type, extension
    raise _cannot_send()


def _ole_has_entry(data: bytes, name: str) -> bool:
    # Directory entries are 128 bytes and start with the UTF-16 name, NUL-terminated.
    needle = (name + "\0").encode("utf-16-le")
    pos = data.find(needle)
    while pos != -1:
        if pos % 128 == 0:
            return True
        pos = data.find(needle, pos + 1)
    return False


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


_CHECKS: dict[str, Callable[[bytes], CheckedUpload]] = {
    "image": _check_image,
    "voice": _check_voice,
    "video": _check_video,
    "file": _check_file,
}


# --- Watermark -----------------------------------------------------------------


def _open_upright(file: IO[bytes]) -> Image.Image:
    """The photo in ``file`` as RGB, turned upright, with its metadata dropped."""
    file.seek(0)
    try:
        data = file.read()
        with (
            _bomb_warnings_as_errors(),
            Image.open(io.BytesIO(data), formats=list(_IMAGE_TYPES)) as original,
        ):
            _check_pixels(original.size)
            _shrink(original, settings.JINSHAO_IMAGE_MAX_SIDE)
            image = ImageOps.exif_transpose(original)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except Exception:  # Pillow fails on hostile bytes in many ways
        raise _refuse(_("This file is not a valid image.")) from None
    finally:
        file.seek(0)
    image = to_rgb(image)
    image.info.clear()
    return image


# --- Colours -------------------------------------------------------------------


def to_rgb(image: Image.Image) -> Image.Image:
    """``image`` (any mode Pillow opens) as 8-bit RGB with its colours kept.

    16-bit, 32-bit and float samples are scaled to 8 bits by their range
    (``_sample_range``), never clipped; premultiplied alpha is undone and
    transparent parts become white, as they look in a chat; CMYK, YCbCr, LAB
    and HSV are converted; an RGB or CMYK picture with an ICC profile (a
    phone's Display P3, a print shop's CMYK) is converted to sRGB by it, as
    the profile is not kept. Raises ``ValidationFailed`` for a mode Pillow
    cannot convert.
    """
    mode = image.mode
    try:
        image = _in_srgb(image)
        if mode in ("I", "F") or mode.startswith("I;16"):
            image = _to_eight_bits(image)
        if image.mode in ("RGBa", "La"):  # premultiplied alpha
            image = image.convert(image.mode.upper())
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            rgba = image.convert("RGBA")
            flat = Image.new("RGB", rgba.size, "white")
            flat.paste(rgba, mask=rgba.getchannel("A"))
            return flat
        return image.convert("RGB")
    except Exception:  # Pillow raises ValueError or OSError for modes it cannot convert
        raise _refuse(
            _(
                "The colours of this image (%(mode)s) cannot be read; please send a JPEG or PNG photo."
            )
            % {"mode": mode}
        ) from None


_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
#: Modes whose embedded ICC profile is applied, the colour space it must describe,
#: and the mode of the result.
_PROFILED_MODES = {"RGB": ("RGB", "RGB"), "RGBA": ("RGB", "RGBA"), "CMYK": ("CMYK", "RGB")}


def _in_srgb(image: Image.Image) -> Image.Image:
    """``image`` converted to sRGB by its embedded ICC profile; as it is without a usable one."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in _PROFILED_MODES:
        return image
    if "transparency" in image.info:  # a transparent colour: made alpha before colours change
        image = image.convert("RGBA")
    space, output_mode = _PROFILED_MODES[image.mode]
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if profile.profile.xcolor_space.strip() != space:
            return image
        converted = ImageCms.profileToProfile(image, profile, _SRGB, outputMode=output_mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):  # a broken profile
        return image
    assert converted is not None  # returned unless inPlace
    converted.info = {key: value for key, value in image.info.items() if key != "icc_profile"}
    return converted


def _to_eight_bits(image: Image.Image) -> Image.Image:
    """A 16-bit, 32-bit or float grey image as ``L`` (``LA`` with a transparent value)."""
    wide = image if image.mode in ("I", "F") else image.convert("I")
    low, high = _sample_range(image)
    scale = 255 / (high - low)
    grey = wide.point(lambda value: (value - low) * scale + 0.5).convert("L")
    transparent = image.info.get("transparency")
    if not isinstance(transparent, int | float):
        return grey
    opaque = ImageMath.lambda_eval(lambda ops: ops["notequal"](ops["wide"], transparent), wide=wide)
    return Image.merge("LA", (grey, opaque.point(lambda value: value * 255).convert("L")))


def _sample_range(image: Image.Image) -> tuple[float, float]:
    """The darkest and brightest values a sample of ``image`` can take.

    16-bit modes span 0 to 65535, and so does an ``I`` image whose values fit
    there (older Pillow reads 16-bit PNG so); a float image 0.0 to 1.0 when
    its values fit there. Otherwise the image's own extremes are its range.
    """
    if image.mode.startswith("I;16"):
        return 0, 65535
    extrema = image.getextrema()  # one band here: (lowest, highest)
    low, high = float(extrema[0]), float(extrema[1])  # type: ignore[arg-type]
    if image.mode == "I" and low >= 0 and high <= 65535:
        return 0, 65535
    if image.mode == "F" and low >= 0 and high <= 1:
        return 0.0, 1.0
    return (low, high) if high > low else (0, 255)


def _shrink(image: Image.Image, max_side: int) -> None:
    """Bring ``image`` (opened, not yet decoded) to at most ``max_side`` on its longest side.

    A JPEG is decoded scaled down by a power of two (``draft``) as far as it
    stays over half ``max_side``; then ``thumbnail`` reduces what is left.
    Other formats are decoded whole (within ``MAX_IMAGE_PIXELS``) and reduced.
    """
    longest = max(image.size)
    if longest <= max_side:
        return
    if image.format in _JPEG_FORMATS:
        ratio = (max_side / 2) / longest
        image.draft(None, (math.ceil(image.width * ratio), math.ceil(image.height * ratio)))
    image.thumbnail((max_side, max_side))


def _stamp(image: Image.Image, lines: list[str], font_path: str | None) -> None:
    """Draw ``lines`` in white on a half-transparent dark box, bottom right."""
    size = max(10, round(min(image.size) * 0.035))
    font = ImageFont.truetype(font_path, size) if font_path else ImageFont.load_default(size=size)
    text, spacing, pad = "\n".join(lines), max(2, size // 4), max(3, size // 2)
    # An RGBA drawing on an RGB image blends the box into the photo.
    draw = ImageDraw.Draw(image, "RGBA")
    left, top, right, bottom = draw.multiline_textbbox(
        (0, 0), text, font=font, spacing=spacing, align="right"
    )
    # A photo a few pixels across is smaller than the padding: the box shrinks to nothing
    # (a tiny image from a phone or a client's test must not fail its upload).
    box_right, box_bottom = max(0, image.width - pad), max(0, image.height - pad)
    box = (
        max(0, box_right - (right - left) - 2 * pad),
        max(0, box_bottom - (bottom - top) - 2 * pad),
        box_right,
        box_bottom,
    )
    draw.rectangle(box, fill=(0, 0, 0, 150))
    origin = (box_right - pad - right, box_bottom - pad - bottom)
    draw.multiline_text(
        origin, text, font=font, fill=(255, 255, 255, 255), spacing=spacing, align="right"
    )
