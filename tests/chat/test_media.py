"""Chat attachments are judged by their bytes; photos are stamped and stripped of metadata.

Every file here is made in memory by the test that uses it: images with
Pillow, AMR, MP3, MP4 and OLE by hand, WAV with ``wave``, Ogg pages with
mutagen's page writer.
"""

from __future__ import annotations

import io
import struct
import wave
import zipfile
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from mutagen.ogg import OggPage
from PIL import ExifTags, Image, ImageChops, ImageDraw, ImageFont, ImageStat

from chat import media
from chat.media import KINDS, CheckedUpload, check_upload, image_size, to_rgb, watermark_image
from core.errors import ValidationFailed

LIMIT = 5 * 1024 * 1024


def check(kind: str, data: bytes, *, max_bytes: int = LIMIT) -> CheckedUpload:
    upload = io.BytesIO(data)
    checked = check_upload(kind, upload, max_bytes=max_bytes)
    assert upload.tell() == 0
    assert checked.kind == kind and checked.size == len(data)
    return checked


def refused(kind: str, data: bytes, *, max_bytes: int = LIMIT) -> ValidationFailed:
    upload = io.BytesIO(data)
    with pytest.raises(ValidationFailed) as caught:
        check_upload(kind, upload, max_bytes=max_bytes)
    assert type(caught.value) is ValidationFailed
    assert caught.value.fields["file"] == [caught.value.message]
    assert upload.tell() == 0
    return caught.value


# --- Makers ----------------------------------------------------------------------


def image_bytes(fmt: str = "PNG", size=(32, 24), mode="RGB", color=(200, 30, 30), **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, fmt, **save)
    return out.getvalue()


def jpeg_with_gps(size=(40, 20), orientation=6) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "PhoneMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (30.0, 55.0, 12.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (121.0, 27.0, 36.0)
    return image_bytes("JPEG", size, exif=exif)


def png_header(width: int, height: int) -> bytes:
    """A PNG claiming huge dimensions: Pillow meets them when it opens the file."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def amr_nb(frames: int, *, header: int = 0x3C, frame_size: int = 32) -> bytes:
    """AMR-NB storage format; mode 7 (12.2 kbit/s) frames by default, 20 ms each."""
    return b"#!AMR\n" + (bytes([header]) + bytes(frame_size - 1)) * frames


def wav(seconds: float = 1.0, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(bytes(2 * int(rate * seconds)))
    return out.getvalue()


def mp3(frames: int = 40) -> bytes:
    """MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, no CRC: 417-byte frames of 1152 samples."""
    return (b"\xff\xfb\x90\x00" + bytes(417 - 4)) * frames


def ogg_opus(seconds: float = 1.0) -> bytes:
    pre_skip = 312
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, pre_skip, 48000, 0, 0)
    tags = b"OpusTags" + struct.pack("<I", 4) + b"test" + struct.pack("<I", 0)
    packets = [(head, 0), (tags, 0), (b"\xf8\xff\xfe", pre_skip + round(48000 * seconds))]
    pages = []
    for sequence, (packet, position) in enumerate(packets):
        page = OggPage()
        page.serial, page.sequence, page.position = 7, sequence, position
        page.first, page.last = sequence == 0, sequence == len(packets) - 1
        page.packets = [packet]
        pages.append(page.write())
    return b"".join(pages)


UNITY = struct.pack(">9i", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
ROTATE_90 = struct.pack(">9i", 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)


def box(kind: bytes, *children: bytes) -> bytes:
    payload = b"".join(children)
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def full_box(kind: bytes, version: int, body: bytes) -> bytes:
    return box(kind, bytes([version, 0, 0, 0]) + body)


def mvhd(timescale: int, duration: int, version: int = 0) -> bytes:
    if version == 1:
        times = struct.pack(">QQIQ", 0, 0, timescale, duration)
    else:
        times = struct.pack(">IIII", 0, 0, timescale, duration)
    rest = struct.pack(">iH10x", 0x10000, 0x100) + UNITY + bytes(24) + struct.pack(">I", 3)
    return full_box(b"mvhd", version, times + rest)


def tkhd(width: int, height: int, matrix: bytes = UNITY) -> bytes:
    ids = struct.pack(">IIIII", 0, 0, 1, 0, 3000)  # times, track id, reserved, duration
    rest = bytes(8) + struct.pack(">hhh2x", 0, 0, 0) + matrix
    return full_box(b"tkhd", 0, ids + rest + struct.pack(">II", width << 16, height << 16))


def trak(handler: bytes, *, width=0, height=0, matrix=UNITY, duration=3000) -> bytes:
    mdhd = full_box(b"mdhd", 0, struct.pack(">IIIIHH", 0, 0, 1000, duration, 0x55C4, 0))
    hdlr = full_box(b"hdlr", 0, struct.pack(">I4s12x", 0, handler) + b"\0")
    stbl = box(b"stbl", full_box(b"stsd", 0, struct.pack(">I", 0)))
    return box(b"trak", tkhd(width, height, matrix), box(b"mdia", mdhd, hdlr, box(b"minf", stbl)))


def mp4(brand: bytes, *tracks: bytes, duration: int = 3000, mvhd_version: int = 0) -> bytes:
    ftyp = box(b"ftyp", brand + struct.pack(">I", 0) + brand + b"isom")
    moov = box(b"moov", mvhd(1000, duration, mvhd_version), *tracks)
    return ftyp + moov + box(b"mdat", bytes(64))


M4A = mp4(b"M4A ", trak(b"soun"))
VIDE_HDLR_ONLY = box(b"mdia", full_box(b"hdlr", 0, struct.pack(">I4s12x", 0, b"vide")))
VIDEO_MP4 = mp4(b"isom", trak(b"vide", width=320, height=240))
WEBM = bytes.fromhex("1a45dfa3 9f 4286 81 01 42f7 81 01 4282 84") + b"webm" + bytes(8)
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(48)


def zip_of(*names: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return out.getvalue()


def ole(*names: str) -> bytes:
    """A compound file: header sector, then a directory sector of 128-byte entries."""

    def entry(name: str) -> bytes:
        return (name + "\0").encode("utf-16-le").ljust(64, b"\0") + bytes(64)

    header = bytes.fromhex("d0cf11e0a1b11ae1").ljust(512, b"\0")
    return header + b"".join(entry(name) for name in ("Root Entry", *names)).ljust(512, b"\0")


# --- Size and kind ---------------------------------------------------------------


class Unreadable:
    """An upload that declares its size and fails the test if it is read."""

    def __init__(self, size: int):
        self.size = size

    def read(self, *args):
        raise AssertionError("the content must not be read")

    def seek(self, *args):
        return 0


def test_a_file_over_the_limit_is_refused_before_it_is_read():
    with pytest.raises(ValidationFailed) as caught:
        check_upload("file", Unreadable(1001), max_bytes=1000)
    assert type(caught.value) is ValidationFailed
    assert "file" in caught.value.fields


def test_a_file_at_the_limit_is_accepted():
    assert check("file", b"x" * 1000, max_bytes=1000).size == 1000


def test_a_declared_size_that_lies_does_not_get_past_the_limit():
    upload = SimpleUploadedFile("notes.txt", b"x" * 100)
    upload.size = 10
    with pytest.raises(ValidationFailed) as caught:
        check_upload("file", upload, max_bytes=50)
    assert "file" in caught.value.fields


@pytest.mark.parametrize("kind", KINDS)
def test_an_empty_file_is_refused(kind):
    refused(kind, b"")


def test_an_unknown_kind_is_refused_on_the_kind_field():
    with pytest.raises(ValidationFailed) as caught:
        check_upload("sticker", io.BytesIO(image_bytes()), max_bytes=LIMIT)
    assert type(caught.value) is ValidationFailed
    assert "kind" in caught.value.fields


def test_the_name_and_the_claimed_type_are_ignored_and_the_file_is_rewound():
    upload = SimpleUploadedFile("setup.exe", image_bytes(), "application/x-msdownload")
    upload.read(5)
    checked = check_upload("image", upload, max_bytes=LIMIT)
    assert (checked.content_type, checked.extension) == ("image/png", ".png")
    assert upload.tell() == 0


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("image", mp3()),
        ("image", PDF),
        ("voice", image_bytes()),
        ("voice", PDF),
        ("voice", VIDEO_MP4),
        ("voice", mp4(b"isom", trak(b"soun"), trak(b"vide"))),
        ("video", PDF),
        ("video", image_bytes()),
        ("video", wav()),
        ("video", M4A),
        ("file", image_bytes()),
        ("file", mp3()),
    ],
    ids=[
        "mp3-as-image",
        "pdf-as-image",
        "png-as-voice",
        "pdf-as-voice",
        "video-as-voice",
        "video-with-sound-as-voice",
        "pdf-as-video",
        "png-as-video",
        "wav-as-video",
        "m4a-as-video",
        "png-as-file",
        "mp3-as-file",
    ],
)
def test_a_file_of_one_kind_sent_as_another_is_refused(kind, data):
    refused(kind, data)


# --- Images ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "content_type", "extension"),
    [
        ("PNG", "image/png", ".png"),
        ("JPEG", "image/jpeg", ".jpg"),
        ("WEBP", "image/webp", ".webp"),
        ("GIF", "image/gif", ".gif"),
    ],
)
def test_images_are_recognised_with_their_size(fmt, content_type, extension):
    checked = check("image", image_bytes(fmt, (64, 48)))
    assert (checked.content_type, checked.extension) == (content_type, extension)
    assert (checked.width, checked.height) == (64, 48)
    assert checked.duration_ms is None


def test_a_multi_picture_jpeg_from_a_phone_is_a_jpeg():
    out = io.BytesIO()
    first, second = Image.new("RGB", (48, 32), "red"), Image.new("RGB", (48, 32), "blue")
    first.save(out, "MPO", save_all=True, append_images=[second])
    checked = check("image", out.getvalue())
    assert (checked.content_type, checked.extension, checked.width) == ("image/jpeg", ".jpg", 48)


def test_a_photo_with_exif_and_gps_is_accepted_with_its_upright_size():
    checked = check("image", jpeg_with_gps((40, 20), orientation=6))
    assert (checked.content_type, checked.width, checked.height) == ("image/jpeg", 20, 40)


def test_a_truncated_jpeg_is_refused():
    data = image_bytes("JPEG", (256, 256), color=(10, 200, 90), quality=95)
    refused("image", data[: len(data) // 2])


def test_random_bytes_are_not_an_image():
    refused("image", bytes(range(256)) * 8)


def test_heic_is_refused():
    refused("image", box(b"ftyp", b"heic" + bytes(4) + b"mif1heic") + box(b"meta", bytes(32)))


def test_a_bitmap_of_too_many_pixels_is_refused():
    data = image_bytes("PNG", (8000, 8000), mode="1", color=0)
    assert len(data) < 100_000  # small on disk, 64 million pixels once decoded
    refused("image", data)


@pytest.mark.parametrize("side", [10_000, 20_000], ids=["pillow-warns", "pillow-refuses"])
def test_images_over_pillows_own_limits_are_refused_without_a_warning(side):
    # Pillow warns over ~89 Mpx and raises over twice that; neither may escape.
    refused("image", png_header(side, side))
    assert Image.MAX_IMAGE_PIXELS == 89_478_485


# --- Voice notes -----------------------------------------------------------------


def test_amr_nb_length_comes_from_its_frames():
    checked = check("voice", amr_nb(150))
    assert (checked.content_type, checked.extension) == ("audio/amr", ".amr")
    assert checked.duration_ms == 3000


def test_amr_wb_is_recognised():
    frames = (bytes([8 << 3 | 4]) + bytes(60)) * 50  # mode 8 (23.85 kbit/s): 61 bytes
    checked = check("voice", b"#!AMR-WB\n" + frames)
    assert (checked.content_type, checked.duration_ms) == ("audio/amr-wb", 1000)


@pytest.mark.parametrize(
    "data",
    [
        amr_nb(10)[:-5],  # last frame cut short
        amr_nb(10) + bytes([9 << 3 | 4]) + bytes(20),  # frame type 9 has no size in AMR-NB
        b"#!AMR\n",  # no frames at all
        amr_nb(30_001, header=15 << 3 | 4, frame_size=1),  # 10 minutes and 20 ms of NO_DATA
    ],
    ids=["truncated", "bad-frame-type", "empty", "too-long"],
)
def test_bad_amr_is_refused(data):
    refused("voice", data)


def test_wav_length():
    checked = check("voice", wav(1.0))
    assert (checked.content_type, checked.extension, checked.duration_ms) == (
        "audio/wav",
        ".wav",
        1000,
    )


def test_mp3_length_is_close_to_its_frames():
    checked = check("voice", mp3(40))
    assert (checked.content_type, checked.extension) == ("audio/mpeg", ".mp3")
    assert abs(checked.duration_ms - 1045) <= 10  # 40 × 1152 samples at 44.1 kHz


def test_ogg_opus_length():
    checked = check("voice", ogg_opus(2.0))
    assert (checked.content_type, checked.extension, checked.duration_ms) == (
        "audio/ogg",
        ".ogg",
        2000,
    )


def test_m4a_with_a_sound_track_is_a_voice_note():
    checked = check("voice", M4A)
    assert (checked.content_type, checked.extension, checked.duration_ms) == (
        "audio/mp4",
        ".m4a",
        3000,
    )


def test_audio_only_3gp_is_a_voice_note():
    checked = check("voice", mp4(b"3gp4", trak(b"soun")))
    assert (checked.content_type, checked.extension) == ("audio/3gpp", ".3gp")


@pytest.mark.parametrize(
    "data",
    [
        b"RIFF\x24\x00\x00\x00WAVEjunkjunkjunkjunk",  # signature right, chunks wrong
        b"ID3" + bytes(64),  # an ID3 header with no MPEG frame after it
        b"fLaC" + bytes(64),  # FLAC is not offered
        b"\xff\xf1\x50\x80" + bytes(64),  # AAC in ADTS, not MP3
        b"OggS" + bytes(22) + b"\x01\x0f\x80theora" + bytes(8),  # Ogg video
        mp4(b"M4A "),  # no track at all
        mp4(b"M4A ", trak(b"soun", duration=601_000)),  # over ten minutes
        mp4(b"M4A ", trak(b"soun", duration=0)),
    ],
    ids=["bad-wav", "id3-only", "flac", "adts", "theora", "no-track", "too-long", "zero"],
)
def test_unreadable_or_unsupported_voice_notes_are_refused(data):
    refused("voice", data)


# --- Videos ----------------------------------------------------------------------


def test_mp4_with_a_video_track():
    checked = check("video", VIDEO_MP4)
    assert (checked.content_type, checked.extension) == ("video/mp4", ".mp4")
    assert (checked.duration_ms, checked.width, checked.height) == (3000, 320, 240)


@pytest.mark.parametrize(
    ("brand", "content_type", "extension"),
    [
        (b"qt  ", "video/quicktime", ".mov"),
        (b"3gp4", "video/3gpp", ".3gp"),
        (b"mp42", "video/mp4", ".mp4"),
    ],
)
def test_video_type_comes_from_the_brand(brand, content_type, extension):
    checked = check("video", mp4(brand, trak(b"soun"), trak(b"vide", width=64, height=48)))
    assert (checked.content_type, checked.extension) == (content_type, extension)


def test_a_portrait_phone_video_is_taller_than_wide():
    checked = check("video", mp4(b"qt  ", trak(b"vide", width=1920, height=1080, matrix=ROTATE_90)))
    assert (checked.width, checked.height) == (1080, 1920)


@pytest.mark.parametrize(
    "data",
    [
        mp4(b"isom", box(b"trak", box(b"mdia", box(b"hdlr", b"\0\0")))),  # a short hdlr
        # empty mvhd and tkhd boxes, each the last bytes of the file
        box(b"ftyp", b"isom") + box(b"moov", trak(b"vide"), box(b"mvhd")),
        box(b"ftyp", b"isom") + box(b"moov", box(b"trak", VIDE_HDLR_ONLY, box(b"tkhd"))),
        box(b"ftyp", b"isom") + struct.pack(">I4s", 1, b"moov"),  # a 64-bit size cut short
        box(b"ftyp", b"isom") + struct.pack(">I4s", 4000, b"moov") + bytes(16),  # cut short
    ],
    ids=["short-hdlr", "empty-mvhd", "empty-tkhd", "short-largesize", "truncated-moov"],
)
def test_malformed_boxes_give_a_refusal_or_an_answer_never_an_error(data):
    for kind in ("voice", "video"):
        try:
            check(kind, data)
        except ValidationFailed as error:
            assert "file" in error.fields


@pytest.mark.parametrize("version", [0, 1])
def test_length_from_mvhd_when_mutagen_cannot_read_the_file(version):
    # A first track without media info (mutagen gives up on it), then the picture.
    odd = box(b"trak", tkhd(0, 0))
    data = mp4(b"qt  ", odd, trak(b"vide"), duration=4500, mvhd_version=version)
    assert check("video", data).duration_ms == 4500


def test_a_video_over_five_minutes_is_refused():
    refused("video", mp4(b"isom", trak(b"vide"), duration=301_000))


def test_webm_is_accepted_without_a_length():
    checked = check("video", WEBM)
    assert (checked.content_type, checked.extension, checked.duration_ms) == (
        "video/webm",
        ".webm",
        None,
    )


def test_matroska_is_told_from_webm_by_its_doctype():
    data = bytes.fromhex("1a45dfa3 8b 4282 88") + b"matroska" + bytes(8)
    checked = check("video", data)
    assert (checked.content_type, checked.extension) == ("video/x-matroska", ".mkv")


# --- Other files -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "content_type", "extension"),
    [
        (PDF, "application/pdf", ".pdf"),
        (
            zip_of("[Content_Types].xml", "_rels/.rels", "word/document.xml"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ".docx",
        ),
        (
            zip_of("[Content_Types].xml", "xl/workbook.xml"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ".xlsx",
        ),
        (ole("WordDocument", "1Table"), "application/msword", ".doc"),
        (ole("Workbook"), "application/vnd.ms-excel", ".xls"),
        ("现场情况说明\nline two\n".encode(), "text/plain", ".txt"),
    ],
    ids=["pdf", "docx", "xlsx", "doc", "xls", "text"],
)
def test_documents_are_recognised(data, content_type, extension):
    checked = check("file", data)
    assert (checked.content_type, checked.extension) == (content_type, extension)


@pytest.mark.parametrize(
    "data",
    [
        zip_of("readme.txt", "payload.bin"),  # a plain archive
        zip_of("[Content_Types].xml", "word/document.xml", "word/vbaProject.bin"),  # macros
        b"PK\x03\x04" + bytes(40),  # a broken zip
        ole("\x05SummaryInformation", "Property"),  # an installer-like compound file
        EXE,
        b"\x7fELF\x02\x01\x01\x00" + bytes(32),
        "caf\xe9 au lait".encode("latin-1"),  # not UTF-8
        b"text with a \x00 inside",
    ],
    ids=["zip", "docm", "broken-zip", "msi", "exe", "elf", "latin-1", "nul"],
)
def test_other_files_are_refused(data):
    refused("file", data)


# --- Watermark -------------------------------------------------------------------

LINES = ["wangwu", "2026-11-25 14:03", "FX-2026-000123"]


def stamped(data: bytes, **kwargs) -> Image.Image:
    upload = io.BytesIO(data)
    out = watermark_image(upload, lines=kwargs.pop("lines", LINES), **kwargs)
    assert upload.tell() == 0
    image = Image.open(io.BytesIO(out))
    assert image.format == "JPEG"
    return image


def changed_pixels(image: Image.Image, colour: tuple[int, int, int], box: tuple) -> int:
    """How many pixels of ``box`` differ noticeably from ``colour``."""
    region = image.convert("RGB").crop(box)
    diff = ImageChops.difference(region, Image.new("RGB", region.size, colour)).convert("L")
    return diff.point(lambda value: 255 if value > 60 else 0).histogram()[255]


@pytest.mark.parametrize("colour", [(255, 255, 255), (0, 0, 0)], ids=["white", "black"])
def test_the_stamp_shows_bottom_right_and_leaves_the_rest(colour):
    image = stamped(image_bytes("PNG", (400, 300), color=colour))
    assert image.size == (400, 300)
    assert changed_pixels(image, colour, (250, 240, 400, 300)) > 100
    assert changed_pixels(image, colour, (0, 0, 100, 100)) == 0


def test_the_output_has_no_exif_and_is_turned_upright():
    source = Image.open(io.BytesIO(jpeg_with_gps((40, 20), orientation=6)))
    assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the input does carry a position
    image = stamped(jpeg_with_gps((40, 20), orientation=6))
    assert image.size == (20, 40)
    assert len(image.getexif()) == 0
    assert "exif" not in image.info


def test_a_tiny_image_is_stamped_without_crashing():
    assert stamped(image_bytes("PNG", (16, 16))).size == (16, 16)


def test_transparent_parts_become_white():
    image = stamped(image_bytes("PNG", (200, 200), mode="RGBA", color=(0, 0, 0, 0)))
    assert changed_pixels(image, (255, 255, 255), (0, 0, 50, 50)) == 0


def test_no_lines_still_strips_the_metadata():
    image = stamped(jpeg_with_gps((40, 20), orientation=1), lines=[])
    assert image.size == (40, 20)
    assert len(image.getexif()) == 0


def test_watermarking_something_that_is_not_an_image_is_refused():
    with pytest.raises(ValidationFailed) as caught:
        watermark_image(io.BytesIO(PDF), lines=LINES)
    assert type(caught.value) is ValidationFailed
    assert "file" in caught.value.fields


def test_a_watermark_font_that_is_not_there_fails_the_start_up_checks(settings, tmp_path):
    from chat.checks import watermark_font

    settings.JINSHAO_WATERMARK_FONT = str(tmp_path / "missing.otf")
    assert [e.id for e in watermark_font(None)] == ["chat.E001"]
    (tmp_path / "broken.ttf").write_bytes(b"not a font")
    settings.JINSHAO_WATERMARK_FONT = str(tmp_path / "broken.ttf")
    assert [e.id for e in watermark_font(None)] == ["chat.E002"]
    settings.JINSHAO_WATERMARK_FONT = None
    assert watermark_font(None) == []


# --- Bounded memory ----------------------------------------------------------------


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose frame header (SOF0) claims ``width`` × ``height``."""
    data = bytearray(image_bytes("JPEG", (16, 16)))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


@pytest.fixture
def decoded_sizes(monkeypatch):
    """The size of every image Pillow decodes (``load``), to see how large it was decoded."""
    from PIL import ImageFile

    sizes: list[tuple[int, int]] = []
    original = ImageFile.ImageFile.load

    def load(self):
        sizes.append(self.size)
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return sizes


@pytest.mark.parametrize(
    "data",
    [png_header(30_000, 30_000), jpeg_claiming(30_000, 30_000), jpeg_claiming(8_000, 6_000)],
    ids=["png-900-mpx", "jpeg-900-mpx", "jpeg-48-mpx"],
)
def test_a_decompression_bomb_is_refused_from_its_header_without_decoding(data, decoded_sizes):
    assert len(data) < 2_000  # tiny on disk, gigabytes once decoded
    error = refused("image", data)
    assert "40" in error.message  # the limit, in millions of pixels
    with pytest.raises(ValidationFailed) as caught:
        watermark_image(io.BytesIO(data), lines=LINES)
    assert caught.value.message == error.message
    assert decoded_sizes == []  # nothing was decoded


def test_a_jpeg_is_checked_decoded_at_an_eighth_of_its_size(decoded_sizes):
    checked = check("image", image_bytes("JPEG", (2000, 1600)))
    assert (checked.width, checked.height) == (2000, 1600)  # the photo's own size is reported
    assert decoded_sizes == [(250, 200)]


def test_a_large_jpeg_is_decoded_scaled_down_and_stored_within_the_bound(settings, decoded_sizes):
    settings.JINSHAO_IMAGE_MAX_SIDE = 400
    image = stamped(image_bytes("JPEG", (2400, 1800)))
    assert max(image.size) <= 400 and image.size[0] / image.size[1] == pytest.approx(4 / 3, 0.02)
    assert set(decoded_sizes) == {(300, 225)}  # libjpeg at 1/8, not 2400 × 1800


def test_other_formats_are_stored_within_the_bound_too(settings):
    settings.JINSHAO_IMAGE_MAX_SIDE = 300
    assert stamped(image_bytes("PNG", (1200, 800))).size == (300, 200)
    assert stamped(image_bytes("PNG", (200, 120))).size == (200, 120)  # small: as it was


def test_a_sideways_photo_is_turned_and_bounded(settings):
    settings.JINSHAO_IMAGE_MAX_SIDE = 100
    width, height = stamped(jpeg_with_gps((400, 200), orientation=6)).size
    assert height == 2 * width and 50 <= height <= 100


def test_no_more_images_are_decoded_at_once_than_the_slots(monkeypatch):
    import threading

    from chat import media

    slots = threading.BoundedSemaphore(1)
    monkeypatch.setattr(media, "_decoding", slots)
    monkeypatch.setattr(media, "DECODE_WAIT_SECONDS", 0.01)
    opened = []
    monkeypatch.setattr(media.Image, "open", lambda *a, **k: opened.append(1))

    assert slots.acquire(blocking=False)  # another request is decoding
    try:
        with pytest.raises(media.Busy) as caught:
            check_upload("image", io.BytesIO(image_bytes()), max_bytes=LIMIT)
        assert caught.value.http_status == 503 and caught.value.code == "busy"
        with pytest.raises(media.Busy):
            watermark_image(io.BytesIO(image_bytes()), lines=LINES)
        assert opened == []  # nothing was even opened while waiting
    finally:
        slots.release()
    assert slots.acquire(blocking=False)  # every slot taken was given back
    slots.release()


# --- Phone photos: orientation and colour modes ----------------------------------------

RED, BLUE, GREY = (220, 20, 20), (20, 20, 220), (128, 128, 128)
#: How a viewer turns the stored picture for each EXIF orientation, and its inverse,
#: with which the test writes the sideways file of an upright picture.
TURN_BACK = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,  # shown turned 90° clockwise, so written turned back
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def upright_picture(orientation: int) -> Image.Image:
    """What the person saw: grey, a red block top left and a blue one top right.

    Portrait (300 × 400) for the orientations a phone uses when held upright
    (5 to 8), landscape (400 × 300) otherwise; the file is 400 × 300 either way.
    """
    size = (300, 400) if orientation >= 5 else (400, 300)
    picture = Image.new("RGB", size, GREY)
    picture.paste(RED, (0, 0, 60, 60))
    picture.paste(BLUE, (size[0] - 60, 0, size[0], 60))
    return picture


def oriented_jpeg(orientation: int) -> bytes:
    """The upright picture as a phone writes it: pixels as the sensor saw them, plus EXIF."""
    picture = upright_picture(orientation)
    turn = TURN_BACK[orientation]
    sensor = picture if turn is None else picture.transpose(turn)
    assert sensor.size == (400, 300)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    out = io.BytesIO()
    sensor.save(out, "JPEG", quality=95, exif=exif)
    return out.getvalue()


def near(pixel, colour, tolerance: int = 12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_photo_is_checked_stored_and_measured_upright_in_every_orientation(orientation):
    data = oriented_jpeg(orientation)
    upright = upright_picture(orientation).size
    checked = check("image", data)
    assert (checked.width, checked.height) == upright
    assert image_size(data) == upright
    stored_bytes = watermark_image(io.BytesIO(data), lines=[])
    stored = Image.open(io.BytesIO(stored_bytes))
    assert stored.size == upright and image_size(stored_bytes) == upright
    width = upright[0]
    assert near(stored.getpixel((30, 30)), RED)  # the person's top left is the stored top left
    assert near(stored.getpixel((width - 30, 30)), BLUE)
    assert near(stored.getpixel((width // 2, 200)), GREY)
    assert len(stored.getexif()) == 0  # and no orientation left to turn it twice


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def raw_png(
    width: int, height: int, depth: int, colour_type: int, pixel, *, trns: bytes = b""
) -> bytes:
    """A PNG written sample by sample, at any bit depth (Pillow writes no 16-bit colour PNG).

    ``pixel(x, y)`` gives the samples of one pixel (grey; grey and alpha; RGB; RGBA);
    samples of under 8 bits are packed from the high bit, as the PNG specification says.
    """
    rows = b""
    for y in range(height):
        samples = [value for x in range(width) for value in pixel(x, y)]
        if depth == 16:
            row = struct.pack(f">{len(samples)}H", *samples)
        elif depth == 8:
            row = bytes(samples)
        else:
            bits = "".join(format(value, f"0{depth}b") for value in samples)
            bits += "0" * (-len(bits) % 8)
            row = int(bits, 2).to_bytes(len(bits) // 8, "big")
        rows += b"\0" + row
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + (png_chunk(b"tRNS", trns) if trns else b"")
        + png_chunk(b"IDAT", zlib.compress(rows))
        + png_chunk(b"IEND", b"")
    )


def saved(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def with_palette(image: Image.Image) -> Image.Image:
    image.putpalette([0, 0, 0, 10, 200, 30] + [0] * (254 * 3))
    return image


WHITE = (255, 255, 255)
# Files as cameras, scanners, editors and phones write them, and the colour each one shows.
PHOTO_FILES = {
    "png-16-bit-grey-mid": (raw_png(64, 48, 16, 0, lambda x, y: (32768,)), GREY),
    "png-16-bit-grey-dark": (raw_png(64, 48, 16, 0, lambda x, y: (8224,)), (32, 32, 32)),
    "png-16-bit-grey-alpha": (raw_png(64, 48, 16, 4, lambda x, y: (32768, 65535)), GREY),
    "png-16-bit-grey-transparent": (raw_png(64, 48, 16, 4, lambda x, y: (0, 0)), WHITE),
    "png-16-bit-rgb": (raw_png(64, 48, 16, 2, lambda x, y: (56540, 5140, 5140)), RED),
    "png-16-bit-rgba-transparent": (raw_png(64, 48, 16, 6, lambda x, y: (0, 0, 0, 0)), WHITE),
    "png-2-bit-grey": (raw_png(64, 48, 2, 0, lambda x, y: (2,)), (170, 170, 170)),
    "png-1-bit": (saved(Image.new("1", (64, 48), 1), "PNG"), WHITE),
    "png-L": (saved(Image.new("L", (64, 48), 128), "PNG"), GREY),
    "png-L-transparent-key": (saved(Image.new("L", (64, 48), 0), "PNG", transparency=0), WHITE),
    "png-LA-half-transparent-black": (saved(Image.new("LA", (64, 48), (0, 128)), "PNG"), GREY),
    "png-P": (saved(with_palette(Image.new("P", (64, 48), 1)), "PNG"), (10, 200, 30)),
    "png-P-transparent": (
        saved(with_palette(Image.new("P", (64, 48), 1)), "PNG", transparency=1),
        WHITE,
    ),
    "png-RGB": (saved(Image.new("RGB", (64, 48), RED), "PNG"), RED),
    "png-RGBA-transparent": (saved(Image.new("RGBA", (64, 48), (*RED, 0)), "PNG"), WHITE),
    "jpeg-L": (saved(Image.new("L", (64, 48), 128), "JPEG"), GREY),
    "jpeg-CMYK": (saved(Image.new("CMYK", (64, 48), (0, 255, 255, 0)), "JPEG"), (255, 0, 0)),
    "gif-P": (saved(with_palette(Image.new("P", (64, 48), 1)), "GIF"), (10, 200, 30)),
    "gif-P-transparent": (
        saved(with_palette(Image.new("P", (64, 48), 1)), "GIF", transparency=1),
        WHITE,
    ),
    "webp-RGBA-transparent": (saved(Image.new("RGBA", (64, 48), (*RED, 0)), "WEBP"), WHITE),
}


def mean_colour(image: Image.Image, box=None) -> tuple[float, ...]:
    region = image.convert("RGB") if box is None else image.convert("RGB").crop(box)
    return tuple(ImageStat.Stat(region).mean)


@pytest.mark.parametrize(("data", "colour"), PHOTO_FILES.values(), ids=PHOTO_FILES.keys())
def test_every_kind_of_photo_file_keeps_its_colours_when_stored(data, colour):
    checked = check("image", data)
    stored = stamped(data, lines=[])
    assert stored.mode == "RGB" and stored.size == (checked.width, checked.height) == (64, 48)
    assert near(mean_colour(stored), colour, tolerance=4), mean_colour(stored)


def test_a_16_bit_grey_scan_keeps_its_tones_from_black_to_white():
    levels = (0, 16384, 32768, 49152, 65535)  # five stripes, 16 pixels wide
    data = raw_png(80, 16, 16, 0, lambda x, y: (levels[x // 16],))
    assert Image.open(io.BytesIO(data)).mode.startswith("I")  # read as 16-bit, not 8
    stored = stamped(data, lines=[])
    greys = [mean_colour(stored, (16 * n + 4, 4, 16 * n + 12, 12))[0] for n in range(5)]
    for grey, expected in zip(greys, (0, 64, 128, 191, 255), strict=True):
        assert abs(grey - expected) <= 4, greys


def test_the_transparent_value_of_a_16_bit_grey_image_becomes_white():
    data = raw_png(64, 16, 16, 0, lambda x, y: (1000 if x < 32 else 32768,), trns=b"\x03\xe8")
    assert Image.open(io.BytesIO(data)).info["transparency"] == 1000
    stored = stamped(data, lines=[])
    assert near(mean_colour(stored, (4, 4, 28, 12)), WHITE, tolerance=4)
    assert near(mean_colour(stored, (36, 4, 60, 12)), GREY, tolerance=4)


# Every mode Pillow has, a pixel in it, and the colour that pixel shows (on white).
MODE_PIXELS = {
    "1": (1, WHITE),
    "L": (100, (100, 100, 100)),
    "LA": ((100, 255), (100, 100, 100)),
    "La": ((50, 128), (177, 177, 177)),  # premultiplied: 50 + 255 × (1 − 128/255)
    "P": (1, (10, 200, 30)),
    "PA": ((1, 255), (10, 200, 30)),
    "RGB": ((10, 200, 30), (10, 200, 30)),
    "RGBA": ((10, 200, 30, 0), WHITE),
    "RGBa": ((5, 100, 15, 128), (132, 227, 142)),
    "RGBX": ((10, 200, 30, 0), (10, 200, 30)),
    "CMYK": ((0, 255, 255, 0), (255, 0, 0)),
    "YCbCr": ((128, 128, 128), GREY),
    "LAB": ((128, 128, 128), (119, 119, 119)),  # L* 50, neutral: sRGB 119
    "HSV": ((0, 255, 255), (255, 0, 0)),
    "I": (32768, GREY),
    "I;16": (32768, GREY),
    "I;16L": (32768, GREY),
    "I;16B": (32768, GREY),
    "I;16N": (32768, GREY),
    "F": (0.5, GREY),
}


def test_every_mode_pillow_has_is_covered():
    assert set(Image.MODES) <= set(MODE_PIXELS)


@pytest.mark.parametrize(("mode", "value", "colour"), [(m, *v) for m, v in MODE_PIXELS.items()])
def test_every_colour_mode_becomes_the_rgb_it_shows(mode, value, colour):
    image = Image.new(mode, (8, 8), value)
    if mode in ("P", "PA"):
        with_palette(image)
    flat = to_rgb(image)
    assert flat.mode == "RGB" and flat.size == (8, 8)
    assert near(flat.getpixel((4, 4)), colour, tolerance=3), flat.getpixel((4, 4))


def test_a_wide_integer_image_is_scaled_by_its_own_range():
    image = Image.new("I", (2, 1), -1000)
    image.putpixel((1, 0), 100_000)
    flat = to_rgb(image)
    assert (flat.getpixel((0, 0)), flat.getpixel((1, 0))) == ((0, 0, 0), WHITE)


def test_a_mode_that_cannot_be_converted_is_refused_plainly(monkeypatch):
    def cannot(self, *args, **kwargs):
        raise ValueError("conversion from LAB to RGB not supported")

    monkeypatch.setattr(Image.Image, "convert", cannot)
    with pytest.raises(ValidationFailed) as caught:
        to_rgb(Image.new("LAB", (4, 4)))
    assert type(caught.value) is ValidationFailed
    assert caught.value.fields["file"] == [caught.value.message]
    assert "LAB" in caught.value.message and "ValueError" not in caught.value.message


def test_a_tiff_is_refused_by_name():
    tiff = saved(Image.new("I;16", (8, 8), 32768), "TIFF")
    assert "TIFF" in refused("image", tiff).message


# --- The watermark in Chinese ---------------------------------------------------------


@pytest.fixture
def cjk_font(settings) -> str:
    """The font the watermark finds by itself (none configured), as production does."""
    settings.JINSHAO_WATERMARK_FONT = None
    font = media.watermark_font()
    assert font is not None, "no CJK font installed: run bin/setup"
    return font


def glyph(font: ImageFont.FreeTypeFont, char: str) -> bytes:
    canvas = Image.new("L", (64, 64))
    ImageDraw.Draw(canvas).text((8, 8), char, font=font, fill=255)
    return canvas.tobytes()


def test_the_installed_watermark_font_draws_chinese_names_not_boxes(cjk_font):
    font = ImageFont.truetype(cjk_font, 32)
    notdef = glyph(font, "\U0010fffd")  # no font has it: the box it draws instead
    bitmaps = {char: glyph(font, char) for char in "张三丰李四"}
    assert all(bitmap != notdef for bitmap in bitmaps.values())
    assert all(any(bitmap) for bitmap in bitmaps.values())  # not blank either
    assert len(set(bitmaps.values())) == 5  # five characters, five different glyphs
    assert media.font_draws(cjk_font, "张三丰 2026-11-30 14:03 FX-2026-000123")


@pytest.fixture
def latin_font(tmp_path) -> str:
    """Pillow's own font (Aileron), which has Latin letters and no Chinese, as a file."""
    path = tmp_path / "aileron.ttf"
    path.write_bytes(ImageFont.load_default(size=32).font_bytes)
    return str(path)


def test_a_font_without_chinese_is_told_apart(settings, latin_font):
    latin = latin_font
    assert media.font_draws(latin, "wangwu 14:03")
    assert not media.font_draws(latin, "张三丰")
    from chat.checks import watermark_font

    settings.JINSHAO_WATERMARK_FONT = latin
    assert [e.id for e in watermark_font(None)] == ["chat.E003"]


def test_a_missing_cjk_font_is_a_start_up_warning(settings, monkeypatch):
    from chat.checks import watermark_font

    settings.JINSHAO_WATERMARK_FONT = None
    monkeypatch.setattr(media, "_installed_cjk_font", lambda: None)
    assert [e.id for e in watermark_font(None)] == ["chat.W001"]


def test_the_stamp_shows_the_chinese_name_it_is_given(cjk_font):
    photo = image_bytes("PNG", (400, 300), color=(255, 255, 255))
    when = ["2026-11-30 14:03", "FX-2026-000123"]
    first = stamped(photo, lines=["张三丰", *when], font_path=cjk_font)
    second = stamped(photo, lines=["李四", *when], font_path=cjk_font)
    again = stamped(photo, lines=["张三丰", *when], font_path=cjk_font)
    corner = (200, 200, 400, 300)
    assert changed_pixels(first, (255, 255, 255), corner) > 100
    assert first.crop(corner).tobytes() == again.crop(corner).tobytes()
    assert ImageChops.difference(first.crop(corner), second.crop(corner)).getbbox() is not None


# --- Colour profiles ----------------------------------------------------------------

#: sRGB's primaries in the profile connection space (D50).
SRGB_RED = (0.4361, 0.2225, 0.0139)
SRGB_GREEN = (0.3851, 0.7169, 0.0971)
SRGB_BLUE = (0.1431, 0.0606, 0.7141)
RED_FULL, GREEN_FULL = (255, 0, 0), (0, 255, 0)


def icc_profile(red, green, blue, gamma: float = 2.2) -> bytes:
    """A minimal ICC v2 display profile: primaries (D50 XYZ) and one gamma curve."""

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ " + bytes(4) + s15(x) + s15(y) + s15(z)

    curve = b"curv" + bytes(4) + struct.pack(">IH", 1, round(gamma * 256)) + bytes(2)
    text = b"test profile"
    desc = b"desc" + bytes(4) + struct.pack(">I", len(text) + 1) + text + b"\0" + bytes(78)
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(*red)),
        (b"gXYZ", xyz(*green)),
        (b"bXYZ", xyz(*blue)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        body += bytes(-len(body) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    header = (
        struct.pack(
            ">I4sI4s4s4s", offset + len(data), b"none", 0x02100000, b"mntr", b"RGB ", b"XYZ "
        )
        + bytes(12)
        + b"acsp"
        + bytes(28)
        + s15(0.9642)
        + s15(1.0)
        + s15(0.8249)
        + bytes(48)
    )
    return header + struct.pack(">I", len(tags)) + table + data


#: A display whose red and green primaries are sRGB's green and red: its "red" is green.
SWAPPED = icc_profile(SRGB_GREEN, SRGB_RED, SRGB_BLUE)


@pytest.mark.parametrize(
    "data",
    [
        saved(Image.new("RGB", (64, 48), (255, 0, 0)), "JPEG", icc_profile=SWAPPED),
        saved(Image.new("RGB", (64, 48), (255, 0, 0)), "PNG", icc_profile=SWAPPED),
        saved(Image.new("RGBA", (64, 48), (255, 0, 0, 255)), "PNG", icc_profile=SWAPPED),
        saved(Image.new("RGB", (64, 48), (255, 0, 0)), "WEBP", icc_profile=SWAPPED),
    ],
    ids=["jpeg", "png", "png-rgba", "webp"],
)
def test_a_photo_in_another_colour_space_is_stored_in_srgb(data):
    stored = stamped(data, lines=[])
    assert near(mean_colour(stored), GREEN_FULL, tolerance=8), mean_colour(stored)
    assert "icc_profile" not in stored.info  # the profile is applied, not kept


def test_a_transparent_colour_stays_transparent_under_a_profile():
    # The key colour is one the profile changes: matched before the conversion, not after.
    picture = Image.new("RGB", (64, 16), (0, 0, 255))
    picture.paste(RED_FULL, (0, 0, 32, 16))
    stored = stamped(saved(picture, "PNG", transparency=RED_FULL, icc_profile=SWAPPED), lines=[])
    assert near(mean_colour(stored, (4, 4, 28, 12)), WHITE, tolerance=4)
    assert near(mean_colour(stored, (36, 4, 60, 12)), (0, 0, 255), tolerance=8)


def test_a_broken_or_mismatched_profile_is_ignored():
    red = Image.new("RGB", (64, 48), (255, 0, 0))
    assert near(
        mean_colour(stamped(saved(red, "PNG", icc_profile=b"not a profile"), lines=[])), RED_FULL
    )
    cmyk = Image.new("CMYK", (64, 48), (0, 255, 255, 0))
    stored = stamped(saved(cmyk, "JPEG", icc_profile=SWAPPED), lines=[])  # RGB profile, CMYK pixels
    assert near(mean_colour(stored), RED_FULL, tolerance=4)
