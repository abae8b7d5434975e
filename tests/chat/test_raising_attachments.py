"""A case raised from the phone sends its voice notes right after it exists (issue 14).

The phone's outbox posts a raised case's voice notes to its room as soon as
``POST cases/`` answers, while the case still waits for review: the caller's
attachments are taken then; texts, and everyone else, still wait for dispatch.
A retried upload with the same Idempotency-Key and client id makes one message.
"""

from __future__ import annotations

import pytest

from chat.models import Attachment, Message
from tests.api.client import as_user
from tests.chat.test_messages_api import messages_url, upload, wav_bytes

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("state", ["draft", "pending_review"])
def test_the_caller_attaches_a_voice_note_while_raising(world, case_in, state):
    case = case_in(state)
    response = upload(
        as_user(world.official), case, "voice", "语音.wav", wav_bytes(1), client_id="v-1"
    )
    assert response.status_code == 201, response.data
    assert Attachment.objects.filter(case=case, kind="voice").count() == 1


def test_a_retried_voice_note_with_the_same_key_is_one_message(world, case_in):
    case = case_in("pending_review")
    client = as_user(world.official)
    first = client.post(
        messages_url(case),
        {"kind": "voice", "file": _wav(), "client_id": "v-2"},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="v-2",
    )
    again = client.post(
        messages_url(case),
        {"kind": "voice", "file": _wav(), "client_id": "v-2"},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="v-2",
    )
    assert first.status_code == 201 and again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.data["id"] == first.data["id"]
    assert Message.objects.filter(case=case, client_id="v-2").count() == 1
    assert Attachment.objects.filter(case=case).count() == 1


def test_texts_wait_for_the_room_to_open(world, case_in):
    case = case_in("pending_review")
    response = as_user(world.official).post(
        messages_url(case), {"text": "你好", "client_id": "t-1"}, format="json"
    )
    assert response.status_code == 409, response.data
    assert Message.objects.filter(case=case, client_id="t-1").count() == 0


def test_only_the_caller_attaches_before_dispatch(world, case_in):
    case = case_in("pending_review")
    response = upload(
        as_user(world.commander), case, "voice", "语音.wav", wav_bytes(1), client_id="v-3"
    )
    assert response.status_code == 409, response.data
    assert Attachment.objects.filter(case=case).count() == 0


def test_a_closed_case_takes_no_attachment_from_its_caller(world, case_in):
    case = case_in("closed")
    response = upload(
        as_user(world.official), case, "voice", "语音.wav", wav_bytes(1), client_id="v-4"
    )
    assert response.status_code == 409, response.data


def _wav():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("语音.wav", wav_bytes(1))
