"""Strangers cannot fill the delivery log: refusals are counted per address, then answered 429.

Also: the Open311 key is never taken from the URL (access logs keep URLs).
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.db.models import Sum
from django.urls import reverse

from cases.choices import CaseSource
from cases.models import Case
from integrations.models import Delivery, ExternalSystem
from tests.integrations.conftest import platform_case, post_signed

pytestmark = pytest.mark.django_db

KEY = "s3cret-open311-key-for-limits"
FORM = "application/x-www-form-urlencoded"
ATTACKS = 300


@pytest.fixture
def open311(world) -> ExternalSystem:
    return ExternalSystem.objects.create(
        code="city-open311", name="市城运平台", source=CaseSource.OPEN311, secret=KEY
    )


def open311_post(client, data: dict, **extra):
    url = reverse("open311:requests", kwargs={"fmt": "json"})
    return client.post(url, urlencode(data), content_type=FORM, **extra)


def open311_params(**extra) -> dict:
    return {
        "api_key": KEY,
        "service_code": "street_vending",
        "lat": "30.912345",
        "long": "121.456789",
        "description": "路口有人占道卖水果",
        "attribute[community]": "310120101001",
        "attribute[stall_count]": "3",
        "attribute[goods]": "果蔬",
        **extra,
    }


def test_three_hundred_forged_intake_posts_keep_a_bounded_log(settings, platform, client):
    limit = settings.JINSHAO_INTAKE_REFUSALS_PER_ADDRESS
    statuses = []
    for n in range(ATTACKS):
        response = post_signed(
            client, platform, platform_case(external_id=f"X{n}"), secret="guessed"
        )
        statuses.append(response.status_code)
    assert statuses[:limit] == [401] * limit
    assert statuses[limit:] == [429] * (ATTACKS - limit)
    last = response.json()["error"]
    assert last["code"] == "throttled" and last["message"] and last["fields"] == {}
    assert int(response["Retry-After"]) > 0

    # One row per answered refusal, then one row counting every 429.
    assert Delivery.objects.count() == limit + 1
    summary = Delivery.objects.get(status_code=429)
    assert summary.times == ATTACKS - limit and summary.remote_addr == "127.0.0.1"
    assert Delivery.objects.aggregate(n=Sum("times"))["n"] == ATTACKS
    assert not Case.objects.exists()

    # The platform itself, from its own address, is not affected.
    ok = post_signed(client, platform, platform_case(), REMOTE_ADDR="10.20.0.7")
    assert ok.status_code == 201, ok.content


def test_unknown_systems_count_against_the_address_too(settings, platform, client):
    settings.JINSHAO_INTAKE_REFUSALS_PER_ADDRESS = 3
    platform.code = "nobody"  # posted to a system that does not exist
    codes = [post_signed(client, platform, platform_case()).status_code for _ in range(10)]
    assert codes == [401] * 3 + [429] * 7
    assert Delivery.objects.count() == 4


def test_three_hundred_wrong_open311_keys_keep_a_bounded_log(settings, open311, client):
    limit = settings.JINSHAO_INTAKE_REFUSALS_PER_ADDRESS
    statuses = [
        open311_post(client, open311_params(api_key=f"guess-{n}")).status_code
        for n in range(ATTACKS)
    ]
    assert statuses[:limit] == [403] * limit
    assert statuses[limit:] == [429] * (ATTACKS - limit)
    throttled = open311_post(client, open311_params())  # even the right key, from there
    assert throttled.status_code == 429 and throttled["Retry-After"]
    assert throttled.json() == [{"code": 429, "description": throttled.json()[0]["description"]}]
    assert Delivery.objects.count() == limit + 1
    assert Delivery.objects.get(status_code=429).times == ATTACKS - limit + 1

    # Reads with a wrong key are refused from that address too.
    read = client.get(reverse("open311:requests", kwargs={"fmt": "json"}), HTTP_X_API_KEY="x")
    assert read.status_code == 429

    # A legitimate client elsewhere is unaffected.
    ok = open311_post(client, open311_params(), REMOTE_ADDR="10.20.0.8")
    assert ok.status_code == 201, ok.content


def test_refusals_on_one_door_count_on_the_other(settings, platform, open311, client):
    settings.JINSHAO_INTAKE_REFUSALS_PER_ADDRESS = 2
    for _ in range(2):
        assert open311_post(client, open311_params(api_key="wrong")).status_code == 403
    assert post_signed(client, platform, platform_case(), secret="x").status_code == 429


def test_the_address_is_the_proxys_when_a_proxy_is_trusted(settings, open311, client):
    settings.JINSHAO_TRUSTED_PROXIES = 1
    settings.JINSHAO_INTAKE_REFUSALS_PER_ADDRESS = 2
    for _ in range(2):
        open311_post(client, open311_params(api_key="wrong"), HTTP_X_FORWARDED_FOR="203.0.113.9")
    # A claimed address before the proxy's does not escape the count...
    again = open311_post(
        client,
        open311_params(api_key="wrong"),
        HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.9",
    )
    assert again.status_code == 429
    # ...and another client behind the same proxy is not held back.
    other = open311_post(client, open311_params(), HTTP_X_FORWARDED_FOR="203.0.113.10")
    assert other.status_code == 201


# ------------------------------------------------------------------ the key in the URL


def test_a_key_in_the_query_string_is_refused_and_not_kept(open311, client):
    url = reverse("open311:requests", kwargs={"fmt": "json"}) + f"?api_key={KEY}"
    data = open311_params()
    del data["api_key"]
    response = client.post(url, urlencode(data), content_type=FORM)

    assert response.status_code == 400
    (error,) = response.json()
    assert "X-Api-Key" in error["description"]
    assert not Case.objects.exists()
    delivery = Delivery.objects.get()
    assert delivery.outcome == "refused" and delivery.error_code == "open311_key_in_url"
    assert KEY not in json.dumps(
        list(Delivery.objects.values("body", "message", "external_id")), ensure_ascii=False
    )


@pytest.mark.parametrize("name", ["requests", "token"])
def test_reads_take_the_key_from_the_header_never_the_url(open311, client, name):
    kwargs = {"fmt": "json", **({"token": "review-1"} if name == "token" else {})}
    url = reverse(f"open311:{name}", kwargs=kwargs)
    assert client.get(url, {"api_key": KEY}).status_code == 400
    assert client.get(url, HTTP_X_API_KEY=KEY).status_code in (200, 404)
    assert client.get(url, HTTP_X_API_KEY="wrong").status_code == 403


def test_a_post_may_carry_the_key_in_the_header(open311, client):
    data = open311_params()
    del data["api_key"]
    assert open311_post(client, data, HTTP_X_API_KEY=KEY).status_code == 201


def test_many_addresses_together_cannot_fill_the_log_either(settings, platform, open311, client):
    settings.JINSHAO_INTAKE_KEPT_REFUSALS = 5
    intake = [
        post_signed(client, platform, platform_case(), secret="x", REMOTE_ADDR=f"10.1.0.{n}")
        for n in range(1, 9)
    ]
    open311 = [
        open311_post(client, open311_params(api_key="x"), REMOTE_ADDR=f"10.2.0.{n}")
        for n in range(1, 5)
    ]
    # Every one is answered as usual (no address went past its own limit)...
    assert [r.status_code for r in intake] == [401] * 8
    assert [r.status_code for r in open311] == [403] * 4
    # ...but past the budget they are counted, one row per door and status, with no address.
    assert Delivery.objects.filter(times=1).exclude(remote_addr=None).count() == 5
    counted = {
        (d.channel, d.status_code): d.times for d in Delivery.objects.filter(remote_addr=None)
    }
    assert counted == {("intake", 401): 3, ("open311", 403): 4}
    assert Delivery.objects.aggregate(n=Sum("times"))["n"] == 12
    # Accepted deliveries are always kept, one by one.
    assert post_signed(client, platform, platform_case(), REMOTE_ADDR="10.9.9.9").status_code == 201
    assert Delivery.objects.filter(outcome="created").count() == 1
