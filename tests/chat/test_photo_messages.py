"""Photos posted to a room: the size phones lay them out by, and the name stamped on them.

A phone lays a photo out by the width and height in the message before it
downloads the file, so every place that carries them (the POST answer, the
history, the attachment row, the socket frame) must say the stored file's
upright size. The watermark is the seed's proof of who took a photo and when:
it must show the person's Chinese name, not their username.
"""

from __future__ import annotations

import datetime
import io

import pytest
from channels.db import database_sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageFont

from chat import media
from chat.models import Attachment
from tests.api.client import as_user
from tests.chat.conftest import next_of, open_socket, png_bytes
from tests.chat.test_media import oriented_jpeg, upright_picture

ORIENTATIONS = range(1, 9)


def post_photo(user, case, data: bytes, client_id: str):
    body = {"kind": "image", "file": SimpleUploadedFile("现场.jpg", data), "client_id": client_id}
    response = as_user(user).post(
        reverse("api:case-messages", args=[case.pk]), body, format="multipart"
    )
    assert response.status_code == 201, response.content
    return response.data


def stored_photo(user, message: dict) -> bytes:
    served = as_user(user).get(message["attachment"]["url"])
    assert served.status_code == 200
    return b"".join(served.streaming_content)


def size_of(message: dict) -> tuple[int, int]:
    return message["attachment"]["width"], message["attachment"]["height"]


@pytest.mark.django_db
def test_every_orientation_is_recorded_with_the_stored_upright_size(world, case_in):
    case = case_in("in_progress", invite=("staff_a",))
    posted = {
        orientation: post_photo(
            world.official, case, oriented_jpeg(orientation), f"o-{orientation}"
        )
        for orientation in ORIENTATIONS
    }
    history = as_user(world.staff_a).get(reverse("api:case-messages", args=[case.pk])).data
    listed = {m["id"]: m for m in history["messages"] if m["kind"] == "image"}
    for orientation, message in posted.items():
        upright = upright_picture(orientation).size  # 300 × 400 for a portrait shot
        stored = Image.open(io.BytesIO(stored_photo(world.staff_a, message)))
        row = Attachment.objects.get(message__pk=message["id"])
        assert stored.size == upright, orientation
        assert size_of(message) == upright, orientation
        assert size_of(listed[message["id"]]) == upright, orientation
        assert (row.width, row.height) == upright, orientation


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_db_threads")
async def test_the_socket_frame_carries_the_stored_upright_size(world, case_in):
    case = await database_sync_to_async(case_in)("in_progress", invite=("staff_a",))
    socket, _hello = await open_socket(f"/ws/cases/{case.pk}/", world.staff_a)
    for orientation in ORIENTATIONS:
        sent = await database_sync_to_async(post_photo)(
            world.official, case, oriented_jpeg(orientation), f"s-{orientation}"
        )
        frame = (await next_of(socket, "message"))["message"]
        assert frame["id"] == sent["id"]
        assert size_of(frame) == upright_picture(orientation).size, orientation
    await socket.disconnect()


@pytest.fixture
def fixed_clock(monkeypatch):
    """``timezone.localtime()`` without an argument answers 2026-11-30 14:03 in Shanghai."""
    real = timezone.localtime
    fixed = datetime.datetime(2026, 11, 30, 6, 3, tzinfo=datetime.UTC)
    monkeypatch.setattr(
        timezone, "localtime", lambda value=None, timezone=None: real(value or fixed, timezone)
    )
    return "2026-11-30 14:03"


@pytest.mark.django_db
def test_the_stored_photo_is_stamped_with_the_chinese_name_and_the_time(
    world, case_in, settings, fixed_clock
):
    settings.JINSHAO_WATERMARK_FONT = None  # as deployed: the installed CJK font is found
    font = media.watermark_font()
    assert font is not None, "no CJK font installed: run bin/setup"
    case = case_in("in_progress", invite=("staff_a",))
    photo = png_bytes((400, 300), (255, 255, 255))
    stored = {}
    for name in ("张三丰", "李四"):
        world.official.name = name
        world.official.save(update_fields=["name"])
        message = post_photo(world.official, case, photo, f"name-{name}")
        stored[name] = stored_photo(world.staff_a, message)
        expected = media.watermark_image(
            io.BytesIO(photo), lines=[name, fixed_clock, case.number], font_path=font
        )
        assert stored[name] == expected  # exactly the name, the time and the case, drawn
    assert stored["张三丰"] != stored["李四"]


@pytest.mark.django_db
def test_a_name_the_font_cannot_draw_falls_back_to_the_username(
    world, case_in, monkeypatch, fixed_clock, tmp_path
):
    latin = str(tmp_path / "aileron.ttf")  # Pillow's own font: Latin letters, no Chinese
    (tmp_path / "aileron.ttf").write_bytes(ImageFont.load_default(size=32).font_bytes)
    monkeypatch.setattr(media, "watermark_font", lambda: latin)
    case = case_in("in_progress", invite=("staff_a",))
    photo = png_bytes((400, 300), (255, 255, 255))
    message = post_photo(world.official, case, photo, "latin")
    expected = media.watermark_image(
        io.BytesIO(photo),
        lines=[world.official.get_username(), fixed_clock, case.number],
        font_path=latin,
    )
    assert stored_photo(world.staff_a, message) == expected  # never boxes for a name


@pytest.mark.django_db
def test_the_schema_says_which_size_a_photo_message_carries(world):
    schema = as_user(world.official).get(
        "/api/schema/", {"format": "json"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    fields = schema.json()["components"]["schemas"]["MessageAttachment"]["properties"]
    for field in ("width", "height"):
        assert "stored copy" in fields[field]["description"]
        assert "upright" in fields[field]["description"]
