"""The room over HTTP: history, uploads checked by content and watermarked, read marks."""

from __future__ import annotations

import io
import os
import wave

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from chat.models import Attachment, Message
from tests.api.client import as_user
from tests.chat.conftest import png_bytes

pytestmark = pytest.mark.django_db


def messages_url(case) -> str:
    return reverse("api:case-messages", args=[case.pk])


def upload(client, case, kind, name, data, **extra):
    body = {"kind": kind, "file": SimpleUploadedFile(name, data), **extra}
    return client.post(messages_url(case), body, format="multipart")


def wav_bytes(seconds: float = 1.5) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * int(8000 * seconds))
    return buffer.getvalue()


@pytest.fixture
def live_case(case_in):
    return case_in("in_progress", invite=("staff_a",))


def test_text_then_history_after_and_before(world, live_case):
    client = as_user(world.official)
    sent = [
        client.post(messages_url(live_case), {"text": f"第{n}条"}, format="json") for n in range(4)
    ]
    assert all(r.status_code == 201 for r in sent)
    ids = [r.data["id"] for r in sent]
    staff = as_user(world.staff_a)
    after = staff.get(messages_url(live_case), {"after": ids[1]}).data
    assert [m["id"] for m in after["messages"]] == ids[2:] and not after["has_more"]
    before = staff.get(messages_url(live_case), {"before": ids[3], "limit": 2}).data
    assert [m["id"] for m in before["messages"]] == ids[1:3] and before["has_more"]
    everything = staff.get(messages_url(live_case)).data["messages"]
    kinds = {m["kind"] for m in everything}
    assert kinds == {"system", "text"}  # the case's steps are in the room too
    assert staff.get(messages_url(live_case), {"after": "x"}).status_code == 400


def test_a_resend_with_the_same_client_id_returns_the_first(world, live_case):
    client = as_user(world.official)
    body = {"text": "同一条", "client_id": "phone-42"}
    first = client.post(messages_url(live_case), body, format="json")
    again = client.post(messages_url(live_case), body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.data["id"] == again.data["id"]
    assert Message.objects.filter(text="同一条").count() == 1


def test_who_reads_and_writes_the_room(world, live_case):
    url = messages_url(live_case)
    for reader in (world.official, world.commander, world.staff_a, world.auditor):
        assert as_user(reader).get(url).status_code == 200, reader
    for outsider in (world.leader, world.head_a, world.grid_leader):
        response = as_user(outsider).get(url)
        assert response.status_code == 403, outsider
        assert response.json()["error"]["code"] == "permission_denied"
    for hidden in (world.other_official, world.staff_b, world.stranger):
        assert as_user(hidden).get(url).status_code == 404
    refused = as_user(world.auditor).post(url, {"text": "旁听"}, format="json")
    assert refused.status_code == 403  # auditors read, never write
    assert not Message.objects.filter(text="旁听").exists()


def test_a_photo_is_watermarked_stored_and_served_to_the_room_only(world, live_case):
    client = as_user(world.official)
    original = png_bytes((400, 300), (255, 255, 255))
    response = upload(client, live_case, "image", "现场.png", original, text="路口现场")
    assert response.status_code == 201, response.content
    attachment = response.data["attachment"]
    assert attachment["content_type"] == "image/jpeg"
    assert (attachment["width"], attachment["height"]) == (400, 300)
    assert response.data["text"] == "路口现场"
    served = as_user(world.staff_a).get(attachment["url"])
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    stamped = Image.open(io.BytesIO(b"".join(served.streaming_content))).convert("RGB")
    corner = [stamped.getpixel((x, y)) for x in range(300, 400, 5) for y in range(250, 300, 5)]
    assert any(sum(pixel) < 600 for pixel in corner)  # the stamp darkened the white corner
    assert stamped.getpixel((5, 5)) >= (250, 250, 250)  # the rest is untouched
    assert as_user(world.leader).get(attachment["url"]).status_code == 403
    assert as_user(world.other_official).get(attachment["url"]).status_code == 404


def test_a_voice_note_keeps_its_duration(world, live_case):
    response = upload(as_user(world.staff_a), live_case, "voice", "语音.wav", wav_bytes(1.5))
    assert response.status_code == 201, response.content
    assert response.data["kind"] == "voice"
    assert response.data["attachment"]["duration_ms"] == 1500
    assert response.data["attachment"]["content_type"] == "audio/wav"


@pytest.mark.parametrize(
    ("kind", "name", "data"),
    [
        ("image", "photo.jpg", b"\xff\xd8\xff\xe0 this is not really a jpeg"),
        ("image", "photo.png", b"ID3\x03\x00\x00\x00\x00\x00\x00 an mp3 dressed as a photo"),
        ("voice", "note.amr", png_bytes()),
        ("video", "clip.mp4", b"%PDF-1.4\n%%EOF\n"),
        ("file", "report.pdf", b"MZ\x90\x00\x03\x00 a windows program"),
        ("sticker", "x.png", png_bytes()),
    ],
)
def test_a_lying_upload_is_refused_and_leaves_nothing(world, live_case, kind, name, data, settings):
    before = Message.objects.count()
    response = upload(as_user(world.official), live_case, kind, name, data)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and ({"file", "kind"} & set(error["fields"]))
    assert Message.objects.count() == before and not Attachment.objects.exists()
    media = settings.MEDIA_ROOT
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def noisy_png(size=(300, 300)) -> bytes:
    buffer = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(buffer, "PNG")
    return buffer.getvalue()


def test_uploads_are_bounded_per_kind(world, live_case, settings):
    settings.JINSHAO_UPLOAD_LIMITS = {**settings.JINSHAO_UPLOAD_LIMITS, "image": 1000}
    response = upload(as_user(world.official), live_case, "image", "big.png", noisy_png())
    assert response.status_code == 400 and "file" in response.json()["error"]["fields"]
    settings.JINSHAO_UPLOAD_LIMITS = dict.fromkeys(("image", "voice", "video", "file"), 100)
    huge = upload(as_user(world.official), live_case, "image", "big.png", noisy_png())
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "request_too_large"


def test_read_marks_drive_the_unread_counts(world, live_case):
    official, staff = as_user(world.official), as_user(world.staff_a)
    ids = [
        official.post(messages_url(live_case), {"text": t}, format="json").data["id"]
        for t in ("一", "二", "三")
    ]
    unread = staff.get(reverse("api:me")).data
    room = next(r for r in unread["unread_rooms"] if r["case"] == live_case.pk)
    assert room["unread"] >= 3 and unread["waiting"]["messages"] >= 3
    listed = staff.get(reverse("api:case-list")).data["results"]
    assert next(c for c in listed if c["id"] == live_case.pk)["unread_messages"] == room["unread"]
    mark = staff.post(
        reverse("api:case-messages-read", args=[live_case.pk]), {"up_to": ids[-1]}, format="json"
    )
    assert mark.status_code == 200 and mark.data == {"last_read_id": ids[-1]}
    assert staff.get(reverse("api:me")).data["waiting"]["messages"] == 0
    own = official.get(reverse("api:case-list")).data["results"]
    assert next(c for c in own if c["id"] == live_case.pk)["unread_messages"] == 0  # sent = read


def test_the_admin_shows_the_room_with_its_attachments(client, world, live_case):
    upload(as_user(world.official), live_case, "image", "现场.png", png_bytes())
    attachment = Attachment.objects.get()
    client.force_login(world.superuser)
    page = client.get(reverse("admin:chat_message_changelist"), {"q": live_case.number})
    assert page.status_code == 200 and live_case.number in page.content.decode()
    served = client.get(reverse("admin:chat_attachment_file", args=[attachment.pk]))
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert client.get(reverse("admin:chat_message_add")).status_code == 403


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("photo.jpg", b"<!doctype html><html><script>alert(document.cookie)</script></html>"),
    ],
)
def test_html_or_svg_dressed_as_a_photo_is_refused(world, live_case, name, data):
    response = upload(as_user(world.official), live_case, "image", name, data)
    assert response.status_code == 400 and "file" in response.json()["error"]["fields"]
    assert not Attachment.objects.exists()


def test_attachments_are_served_as_downloads_never_as_pages(world, live_case):
    response = upload(as_user(world.official), live_case, "image", "p.png", png_bytes())
    served = as_user(world.staff_a).get(response.data["attachment"]["url"])
    assert served["Content-Disposition"].startswith("attachment")
    assert served["X-Content-Type-Options"] == "nosniff"


def test_each_person_has_a_daily_upload_quota(world, live_case, settings):
    client = as_user(world.official)
    first = upload(client, live_case, "voice", "a.wav", wav_bytes(1))
    assert first.status_code == 201
    settings.JINSHAO_UPLOAD_QUOTA_BYTES = first.data["attachment"]["size"] + 100
    refused = upload(client, live_case, "voice", "b.wav", wav_bytes(1))
    assert refused.status_code == 400 and "file" in refused.json()["error"]["fields"]
    assert (
        upload(as_user(world.staff_a), live_case, "voice", "c.wav", wav_bytes(1)).status_code == 201
    )


def test_someone_taken_off_the_case_is_told_why_when_they_write_again(world, case_in):
    from cases import services as case_services

    case = case_in("in_progress", invite=("staff_a", "staff_b"))
    invitation = case.invitations.get(person=world.staff_a)
    case_services.withdraw_invitation(invitation, actor=world.commander, reason="改派他人")
    # a message the phone queued before the change arrives now
    response = as_user(world.staff_a).post(
        messages_url(case), {"text": "现场已处理", "client_id": "queued-1"}, format="json"
    )
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "permission_denied"
    assert "不再" in error["message"] and "撤回" in error["message"]
    assert not Message.objects.filter(text="现场已处理").exists()
    # whoever was never on the case still learns nothing: it is not found
    assert (
        as_user(world.other_official)
        .post(messages_url(case), {"text": "试探"}, format="json")
        .status_code
        == 404
    )
