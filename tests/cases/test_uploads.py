"""Photos for a template's photo field, uploaded before the case exists (issue 13)."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image

from cases.models import PhotoUpload
from cases.uploads import purge_expired_uploads
from tests.api.client import as_user, case_url
from tests.factories import TemplateFieldFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def photo_field(world):
    return TemplateFieldFactory(template=world.template, key="photos", label="照片", kind="photo")


def jpeg_with_gps() -> io.BytesIO:
    image = Image.new("RGB", (80, 60), (10, 120, 200))
    exif = Image.Exif()
    exif[0x8825] = {2: (31.0, 0.0, 0.0)}  # GPS latitude
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    buffer.seek(0)
    buffer.name = "site.jpg"
    return buffer


def upload(user, file=None):
    return as_user(user).post(
        reverse("api:upload-list"), {"file": file or jpeg_with_gps()}, format="multipart"
    )


def raise_case(user, world, photos, **extra):
    return as_user(user).post(
        reverse("api:case-list"),
        {
            "community": world.community.pk,
            "title": "占道经营",
            "template": world.template.pk,
            "answers": {"stall_count": 2, "goods": "果蔬", "photos": photos},
            **extra,
        },
        format="json",
    )


def test_an_uploaded_photo_is_re_encoded_and_attached_to_the_case(world, photo_field):
    response = upload(world.official)
    assert response.status_code == 201, response.data
    photo_id = response.data["id"]
    stored = PhotoUpload.objects.get(pk=photo_id)
    assert stored.content_type == "image/jpeg" and stored.case is None
    with stored.file.open("rb") as file:
        assert Image.open(file).getexif().get(0x8825) is None  # GPS gone
    created = raise_case(world.official, world, [photo_id])
    assert created.status_code == 201, created.data
    assert created.data["answers"]["photos"] == [photo_id]
    stored.refresh_from_db()
    assert stored.case_id == created.data["id"]
    # The commander sees the case, so its photo; a stranger does not.
    url = reverse("api:upload-file", args=[photo_id])
    assert as_user(world.commander).get(url).status_code == 200
    assert as_user(world.other_official).get(url).status_code == 404


def test_not_a_photo_is_refused_in_chinese(world):
    fake = io.BytesIO(b"not an image at all")
    fake.name = "x.jpg"
    response = upload(world.official, fake)
    assert response.status_code == 400
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(response.data))


def test_someone_elses_unknown_or_used_photos_are_refused(world, photo_field, case_in):
    theirs = upload(world.commander).data["id"]
    response = raise_case(world.official, world, [theirs])
    assert response.status_code == 400
    assert "answers.photos" in response.data["error"]["fields"], response.data
    assert response.data["error"]["fields"]["answers.photos"] == [
        str(_("You did not upload this photo."))
    ]
    response = raise_case(world.official, world, [str(uuid.uuid4())])
    assert response.status_code == 400 and "answers.photos" in response.data["error"]["fields"]
    mine = upload(world.official).data["id"]
    assert raise_case(world.official, world, [mine]).status_code == 201
    again = raise_case(world.official, world, [mine])  # already another case's
    assert again.status_code == 400 and "answers.photos" in again.data["error"]["fields"]


def test_a_draft_keeps_its_photos_and_takes_new_ones(world, photo_field):
    first = upload(world.official).data["id"]
    case_id = raise_case(world.official, world, [first]).data["id"]
    second = upload(world.official).data["id"]
    from cases.models import Case

    response = as_user(world.official).patch(
        case_url(Case.objects.get(pk=case_id)),
        {"answers": {"stall_count": 2, "goods": "果蔬", "photos": [first, second]}},
        format="json",
    )
    assert response.status_code == 200, response.data
    assert set(PhotoUpload.objects.filter(case_id=case_id).values_list("pk", flat=True)) == {
        uuid.UUID(first),
        uuid.UUID(second),
    }


def test_unused_uploads_expire(world, photo_field):
    unused = upload(world.official).data["id"]
    used = upload(world.official).data["id"]
    raise_case(world.official, world, [used])
    later = timezone.now() + timedelta(days=2)
    response = raise_case(world.official, world, [unused])
    assert response.status_code == 201  # not yet expired
    stale = upload(world.official).data["id"]
    assert purge_expired_uploads(now=later) == 1
    assert not PhotoUpload.objects.filter(pk=stale).exists()
    assert PhotoUpload.objects.filter(pk=used).exists()


def test_expired_uploads_are_purged_on_the_beat_schedule(world, photo_field, settings):
    """Celery beat (and the in-process scheduler, which reads the same list) runs the purge."""
    from cases.tasks import purge_expired_uploads as task

    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == task.name]
    assert len(entries) == 1
    stale = upload(world.official).data["id"]
    PhotoUpload.objects.filter(pk=stale).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert task.apply().get() == 1
    assert not PhotoUpload.objects.filter(pk=stale).exists()


@pytest.mark.parametrize("side", [1, 3, 8])
def test_a_photo_a_few_pixels_across_is_taken_not_a_crash(world, side):
    buffer = io.BytesIO()
    Image.new("RGB", (side, side), (10, 120, 200)).save(buffer, "PNG")
    buffer.seek(0)
    buffer.name = "tiny.png"
    answer = upload(world.official, buffer)
    assert answer.status_code == 201, answer.content[:300]
    assert (answer.data["width"], answer.data["height"]) == (side, side)


def test_an_id_that_is_no_uuid_reads_as_not_found(world):
    answer = as_user(world.official).get(f"/api/v1/uploads/{'0' * 36}/file/")
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"
