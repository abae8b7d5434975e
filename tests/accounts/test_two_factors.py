"""Two factors for administrators and the back office; half logged in reaches nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import twofactor
from audit.models import AuditRecord
from tests.factories import PASSWORD, authenticator_code

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _enforced(settings):
    settings.JINSHAO_2FA_ENFORCED = True


def enrol(user):
    device = twofactor.pending_device(user)
    codes = twofactor.confirm(user, device, authenticator_code(device))
    assert codes and len(codes) == 10
    return device, codes


def test_a_first_admin_log_in_sets_up_an_authenticator(world, client, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # (a wrong code slows the next one down otherwise)
    client.force_login(world.superuser)
    page = client.get(reverse("admin:cases_case_changelist"))
    assert page.status_code == 302 and page["Location"] == reverse("second-factor")
    setup = client.get(reverse("second-factor"))
    assert setup.status_code == 200 and setup.context["enrolling"]
    device = twofactor.pending_device(world.superuser)
    wrong = client.post(reverse("second-factor"), {"code": "000000"})
    assert wrong.status_code == 200 and wrong.context["form"].errors
    done = client.post(reverse("second-factor"), {"code": authenticator_code(device)})
    assert done.status_code == 200 and len(done.context["recovery_codes"]) == 10
    assert client.get(reverse("admin:cases_case_changelist")).status_code == 200


def test_half_logged_in_reaches_neither_the_admin_nor_the_api(world, client):
    enrol(world.superuser)
    client.force_login(world.superuser)  # the password was given, not the code
    assert client.get(reverse("admin:index")).status_code == 302
    api = client.get(reverse("api:case-list"))
    assert api.status_code == 403 and api.json()["error"]["code"] == "second_factor_required"


def test_a_recovery_code_works_once(world, client):
    _device, codes = enrol(world.superuser)
    client.force_login(world.superuser)
    assert client.post(reverse("second-factor"), {"code": codes[0]}).status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200
    other = type(client)()
    other.force_login(world.superuser)
    again = other.post(reverse("second-factor"), {"code": codes[0]})
    assert again.status_code == 200 and again.context["form"].errors
    assert AuditRecord.objects.filter(action="auth.second_factor", success=False).exists()


def test_administrators_give_their_code_with_the_password_on_the_api(world):
    world.sysadmin.set_password(PASSWORD)
    world.sysadmin.save()
    phone = APIClient(REMOTE_ADDR="10.3.3.3")
    url = reverse("api:token")
    body = {"username": "sysadmin", "password": PASSWORD}
    not_set_up = phone.post(url, body, format="json")
    assert not_set_up.status_code == 403
    assert not_set_up.json()["error"]["code"] == "second_factor_setup_required"
    _device, codes = enrol(world.sysadmin)  # (its current code was spent confirming it)
    missing = phone.post(url, body, format="json")
    assert (
        missing.status_code == 401 and missing.json()["error"]["code"] == "second_factor_required"
    )
    given = phone.post(url, {**body, "otp": codes[1]}, format="json")  # a recovery code
    assert given.status_code == 200, given.content
    # village officials are not asked (unless their role is configured to be)
    assert (
        phone.post(url, {"username": "official", "password": PASSWORD}, format="json").status_code
        == 200
    )


async def _socket_with_session(session_cookie: str):
    from channels.testing import WebsocketCommunicator

    from config.asgi import application

    headers = [(b"cookie", session_cookie.encode()), (b"origin", b"http://localhost")]
    socket = WebsocketCommunicator(application, "/ws/notifications/", headers=headers)
    assert (await socket.connect(timeout=5))[0]
    first = await socket.receive_json_from(timeout=5)
    await socket.disconnect()
    return first


@pytest.mark.django_db(transaction=True)
def test_half_logged_in_opens_no_socket(world, client):
    from asgiref.sync import async_to_sync
    from django.conf import settings

    enrol(world.superuser)
    client.force_login(world.superuser)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    refused = async_to_sync(_socket_with_session)(cookie)
    assert refused["code"] == "not_authenticated"


def test_devices_are_listed_by_their_labels_not_their_stored_names(world, client, settings):
    from accounts.choices import Role
    from tests.core.test_chinese_everywhere import visible_text
    from tests.factories import UserFactory, grant

    settings.JINSHAO_2FA_ENFORCED = False  # the reader's own second factor is not the point
    enrol(world.official)
    pages = {
        "otp_totp_totpdevice": (twofactor.TOTPDevice, twofactor.AUTHENTICATOR),
        "otp_static_staticdevice": (twofactor.StaticDevice, twofactor.RECOVERY),
    }
    client.force_login(world.superuser)
    for prefix, (_model, name) in pages.items():
        listed = visible_text(client.get(reverse(f"admin:{prefix}_changelist")).content.decode())
        assert name not in listed and str(twofactor.DEVICE_LABELS[name]) in listed, prefix
    # the security administrator may view and remove a business account's devices, not
    # change them: read-only pages
    secadmin = UserFactory(username="anquan", is_staff=True)
    grant(secadmin, Role.SECADMIN)
    client.force_login(secadmin)
    for prefix, (model, name) in pages.items():
        pk = model.objects.get(user=world.official).pk
        page = client.get(reverse(f"admin:{prefix}_change", args=[pk]))
        texts = visible_text(page.content.decode())
        assert page.status_code == 200 and b'name="name"' not in page.content, prefix
        assert name not in texts and str(twofactor.DEVICE_LABELS[name]) in texts, prefix
