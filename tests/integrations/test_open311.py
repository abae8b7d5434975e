"""Open311 GeoReport v2: services from templates, requests taken in as cases, scoped by api_key."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.choices import CaseSource, CaseState
from cases.models import Case
from integrations.choices import DeliveryOutcome
from integrations.models import Delivery, ExternalCase, ExternalSystem, IntakeReview
from integrations.open311.throttles import SystemPostThrottle
from tests.conftest import make_case
from tests.integrations.conftest import OPEN311_KEY as KEY
from tests.integrations.conftest import OTHER_OPEN311_KEY as OTHER_KEY

FORM = "application/x-www-form-urlencoded"

SERVICE_FIELDS = {
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
}
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}


def url(name: str, fmt: str = "json", **kwargs) -> str:
    return reverse(f"open311:{name}", kwargs={"fmt": fmt, **kwargs})


def params(**extra) -> dict:
    """A complete request for world.community's street vending (form field names as sent)."""
    return {
        "api_key": KEY,
        "service_code": "street_vending",
        "lat": "30.912345",
        "long": "121.456789",
        "address_string": "南桥镇曙光村路口",
        "description": "路口有人占道卖水果\n每天早上七点开始",
        "attribute[community]": "310120101001",
        "attribute[stall_count]": "3",
        "attribute[goods]": "果蔬",
        "first_name": "三",
        "last_name": "张",
        "phone": "13800001111",
        "email": "zhang@example.com",
        **extra,
    }


def post(client, data: dict, fmt: str = "json"):
    """POST form-encoded, as GeoReport says (repeated keys for lists)."""
    return client.post(url("requests", fmt), urlencode(data, doseq=True), content_type=FORM)


def link(system: ExternalSystem, case: Case, external_id: str) -> Case:
    ExternalCase.objects.create(system=system, external_id=external_id, case=case)
    return case


def xml_items(response, item: str) -> list[dict]:
    root = ET.fromstring(response.content)
    return [{child.tag: child for child in element} for element in root.findall(item)]


# ------------------------------------------------------------------ services


def test_services_list_json_names_the_active_templates(client, world):
    world.template.description = "占道经营的描述"
    world.template.save()
    retired = type(world.template).objects.create(
        code="retired", name="停用模板", category=world.template.category, is_active=False
    )

    response = client.get(url("services"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    services = response.json()
    assert [s["service_code"] for s in services] == ["street_vending"]
    (service,) = services
    assert set(service) == SERVICE_FIELDS
    assert service == {
        "service_code": "street_vending",
        "service_name": "占道经营",
        "description": "占道经营的描述",
        "metadata": True,
        "type": "realtime",
        "keywords": "",
        "group": "市容环境",
    }
    assert retired.code not in response.content.decode()


def test_services_list_xml_carries_the_same_names(client, world):
    response = client.get(url("services", "xml"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(response.content)
    assert root.tag == "services"
    (service,) = root.findall("service")
    assert {child.tag for child in service} == SERVICE_FIELDS
    assert service.findtext("service_name") == "占道经营"
    assert service.findtext("metadata") == "true"
    assert service.findtext("group") == "市容环境"


def test_services_need_no_key_and_accept_get_only(client, world):
    assert client.get(url("services")).status_code == 200
    response = client.post(url("services"))
    assert response.status_code == 405
    assert response.json() == [{"code": 405, "description": response.json()[0]["description"]}]


def test_an_unknown_format_is_a_404_in_the_error_shape(client, world):
    response = client.get(url("services", "csv"))
    assert response.status_code == 404
    assert response.json()[0]["code"] == 404


def test_service_definition_lists_the_template_fields_as_attributes(client, world):
    response = client.get(url("service-definition", service_code="street_vending"))

    assert response.status_code == 200
    definition = response.json()
    assert definition["service_code"] == "street_vending"
    stall_count, goods = definition["attributes"]
    assert stall_count == {
        "variable": True,
        "code": "stall_count",
        "datatype": "number",
        "required": False,
        "datatype_description": stall_count["datatype_description"],
        "order": 1,
        "description": "摊位数量",
    }
    assert goods["datatype"] == "singlevaluelist"
    assert goods["order"] == 2 and goods["description"] == "经营品类"
    assert goods["values"] == [
        {"key": "果蔬", "name": "果蔬"},
        {"key": "熟食", "name": "熟食"},
        {"key": "其他", "name": "其他"},
    ]


def test_service_definition_maps_text_and_date_and_leaves_photos_out(client, world):
    from tests.factories import TemplateFieldFactory

    TemplateFieldFactory(template=world.template, key="seen_on", label="发现日期", kind="date")
    TemplateFieldFactory(template=world.template, key="notes", label="备注", kind="text")
    TemplateFieldFactory(template=world.template, key="photos", label="照片", kind="photo")

    attributes = client.get(url("service-definition", service_code="street_vending")).json()[
        "attributes"
    ]

    datatypes = {a["code"]: a["datatype"] for a in attributes}
    assert datatypes == {
        "stall_count": "number",
        "goods": "singlevaluelist",
        "seen_on": "datetime",
        "notes": "text",
    }


def test_service_definition_xml(client, world):
    response = client.get(url("service-definition", "xml", service_code="street_vending"))

    root = ET.fromstring(response.content)
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "street_vending"
    attributes = root.find("attributes").findall("attribute")
    assert [a.findtext("code") for a in attributes] == ["stall_count", "goods"]
    assert attributes[0].findtext("variable") == "true"
    assert attributes[0].findtext("required") == "false"
    values = attributes[1].find("values").findall("value")
    assert [(v.findtext("key"), v.findtext("name")) for v in values][0] == ("果蔬", "果蔬")


def test_an_unknown_service_definition_is_a_404(client, world):
    response = client.get(url("service-definition", "xml", service_code="nope"))
    assert response.status_code == 404
    error = ET.fromstring(response.content).find("error")
    assert error.findtext("code") == "404" and error.findtext("description")


# ------------------------------------------------------------------ POST requests


def test_post_creates_a_draft_case_in_the_community(client, world, system):
    response = post(client, params())

    assert response.status_code == 201, response.content
    (answer,) = response.json()
    case = Case.objects.get()
    assert answer["service_request_id"] == case.number
    assert answer["account_id"] is None and answer["service_notice"]
    assert case.community == world.community
    assert case.caller == world.official
    assert case.state == CaseState.DRAFT
    assert case.source == CaseSource.OPEN311
    assert case.template == world.template
    assert case.answers == {"stall_count": 3, "goods": "果蔬"}
    assert case.title == "路口有人占道卖水果"
    assert case.description.startswith("路口有人占道卖水果\n")
    assert case.address == "南桥镇曙光村路口"
    assert str(case.latitude) == "30.912345" and str(case.longitude) == "121.456789"
    link = ExternalCase.objects.get(case=case)
    assert link.system == system and len(link.external_id) == 32  # a fresh uuid4 hex
    delivery = Delivery.objects.get()
    assert (delivery.system, delivery.channel, delivery.outcome) == (system, "open311", "created")
    assert delivery.status_code == 201 and delivery.case == case
    assert delivery.external_id == link.external_id


def test_personal_fields_and_the_key_are_never_kept(client, world, system):
    post(client, params(**{"attribute[community]": ""}))  # to the review queue, payload kept
    post(client, params())

    kept = " ".join(
        [d.body for d in Delivery.objects.all()]
        + [json.dumps(r.payload, ensure_ascii=False) for r in IntakeReview.objects.all()]
        + [json.dumps(c.answers, ensure_ascii=False) + c.description for c in Case.objects.all()]
    )
    for secret in ("13800001111", "zhang@example.com", KEY, "张"):
        assert secret not in kept
    assert "南桥镇曙光村路口" in kept


def test_post_as_multipart_is_accepted(client, world, system):
    response = client.post(url("requests"), params())  # the test client's default: multipart
    assert response.status_code == 201
    assert Case.objects.count() == 1


def test_machines_post_without_a_csrf_token(world, system):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert post(strict, params()).status_code == 201


def test_xml_answers_escape_what_the_client_wrote(client, world, system):
    tricky = '<b>占道</b> & "引号" ]]> \x0b末尾'
    post(client, params(description=tricky))

    response = client.get(url("requests", "xml"), HTTP_X_API_KEY=KEY)

    (item,) = xml_items(response, "request")
    assert item["description"].text == '<b>占道</b> & "引号" ]]> 末尾'


def test_post_without_a_description_is_titled_after_the_service(client, world, system):
    data = params(description="")
    del data["lat"], data["long"]
    assert post(client, data).status_code == 201
    case = Case.objects.get()
    assert case.title == "占道经营" and case.latitude is None


def test_posting_the_same_external_id_twice_finds_the_same_case(client, world, system):
    first = post(client, params(**{"attribute[external_id]": "SH-2024-0001"}))
    again = post(
        client,
        params(**{"attribute[external_id]": "SH-2024-0001", "description": "另一个说法"}),
    )

    assert first.status_code == 201 and again.status_code == 200
    assert first.json()[0]["service_request_id"] == again.json()[0]["service_request_id"]
    case = Case.objects.get()
    assert case.title == "路口有人占道卖水果"  # nothing changed
    assert ExternalCase.objects.get().external_id == "SH-2024-0001"
    outcomes = list(Delivery.objects.order_by("id").values_list("outcome", "status_code"))
    assert outcomes == [("created", 201), ("duplicate", 200)]


def test_without_a_community_the_request_waits_for_review(client, world, system):
    data = params()
    del data["attribute[community]"]

    response = post(client, data)

    assert response.status_code == 201
    (answer,) = response.json()
    review = IntakeReview.objects.get()
    assert answer["token"] == f"review-{review.pk}"
    assert "service_request_id" not in answer
    assert review.system == system
    assert review.problems == [{"code": "unmapped_area", "value": ""}]
    assert review.payload["case"]["answers"] == {"stall_count": 3, "goods": "果蔬"}
    assert not Case.objects.exists()
    assert Delivery.objects.get().outcome == DeliveryOutcome.REVIEW


def test_an_unknown_community_code_waits_for_review(client, world, system):
    response = post(client, params(**{"attribute[community]": "999999"}), fmt="xml")

    assert response.status_code == 201
    (item,) = xml_items(response, "request")
    review = IntakeReview.objects.get()
    assert item["token"].text == f"review-{review.pk}"
    assert review.problems == [{"code": "unmapped_area", "value": "999999"}]


def test_the_token_tells_the_case_once_it_is_made(client, world, system):
    data = params()
    del data["attribute[community]"]
    token = post(client, data).json()[0]["token"]

    waiting = client.get(url("token", token=token), HTTP_X_API_KEY=KEY)
    assert waiting.json() == [{"service_request_id": None, "token": token}]

    from integrations.services import resolve_review

    review = IntakeReview.objects.get()
    case = resolve_review(
        review, actor=world.commander, template=world.template, community=world.community
    )
    made = client.get(url("token", token=token), HTTP_X_API_KEY=KEY)
    assert made.json() == [{"service_request_id": case.number, "token": token}]
    assert client.get(url("token", token=token), HTTP_X_API_KEY="x").status_code == 403


def test_a_wrong_api_key_is_refused_and_kept_as_a_refusal(client, world, system):
    response = post(client, params(api_key="wrong"))

    assert response.status_code == 403
    (error,) = response.json()
    assert error["code"] == 403 and error["description"]
    assert not Case.objects.exists() and not IntakeReview.objects.exists()
    delivery = Delivery.objects.get()
    assert delivery.system is None and delivery.outcome == DeliveryOutcome.REFUSED
    assert delivery.status_code == 403 and "wrong" not in delivery.body


def test_a_missing_api_key_and_an_inactive_system_are_refused(client, world, system):
    data = params()
    del data["api_key"]
    assert post(client, data).status_code == 403
    system.is_active = False
    system.save()
    assert post(client, params()).status_code == 403
    assert not Case.objects.exists()
    assert Delivery.objects.filter(outcome="refused").count() == 2


def test_a_missing_service_code_is_a_400_in_the_error_shape(client, world, system):
    data = params()
    del data["service_code"]

    response = post(client, data)

    assert response.status_code == 400
    assert response.json() == [{"code": 400, "description": response.json()[0]["description"]}]
    assert response.json()[0]["description"].startswith("service_code: ")
    delivery = Delivery.objects.get()
    assert delivery.system == system and delivery.outcome == "refused"
    assert delivery.status_code == 400


@pytest.mark.parametrize(
    ("changes", "parameter"),
    [
        ({"lat": "ninety"}, "lat"),
        ({"lat": "91"}, "lat"),
        ({"long": "NaN"}, "long"),
        ({"long": ""}, "long"),
        ({"service_code": "nope"}, "service_code"),
        ({"attribute[stall_count]": "many"}, "attribute[stall_count]"),
        ({"attribute[goods]": "汽车"}, "attribute[goods]"),
        ({"attribute[unknown]": "x"}, "attribute[unknown]"),
        ({"attribute[external_id]": "x" * 41}, "attribute[external_id]"),
        ({"description": "长" * 4001}, "description"),
    ],
)
def test_bad_parameters_are_400s_naming_the_parameter(client, world, system, changes, parameter):
    response = post(client, params(**changes))

    assert response.status_code == 400, response.content
    descriptions = [e["description"] for e in response.json()]
    assert any(d.startswith(f"{parameter}: ") for d in descriptions), descriptions
    assert not Case.objects.exists() and not IntakeReview.objects.exists()


def test_a_request_needs_a_location(client, world, system):
    data = params()
    del data["lat"], data["long"], data["address_string"]
    response = post(client, data)
    assert response.status_code == 400
    assert post(client, {**data, "address_id": "A-17"}).status_code == 201


def test_errors_in_xml(client, world, system):
    response = post(client, params(lat="abc"), fmt="xml")

    assert response.status_code == 400
    root = ET.fromstring(response.content)
    assert root.tag == "errors"
    (error,) = root.findall("error")
    assert error.findtext("code") == "400"
    assert error.findtext("description").startswith("lat: ")


def test_a_json_body_is_a_400_not_a_500(client, world, system):
    response = client.post(url("requests"), params(), content_type="application/json")
    assert response.status_code == 400
    assert Delivery.objects.get().outcome == "refused"


def test_posts_are_throttled_per_system(client, world, system, other_system, monkeypatch):
    monkeypatch.setattr(SystemPostThrottle, "THROTTLE_RATES", {"open311": "2/min"})

    assert post(client, params()).status_code == 201
    assert post(client, params()).status_code == 201
    refused = post(client, params())
    assert refused.status_code == 429 and refused["Retry-After"]
    assert refused.json()[0]["code"] == 429
    assert post(client, params(api_key=OTHER_KEY)).status_code == 201
    assert Delivery.objects.filter(status_code=429).count() == 1


# ------------------------------------------------------------------ GET requests


@pytest.fixture
def filed(world, system, other_system, client):
    """Three cases of ``system`` (open, in progress with two departments, cancelled), one of another."""
    post(client, params(**{"attribute[external_id]": "A"}))
    fresh = Case.objects.get()
    working = link(system, make_case(world, "in_progress"), "B")
    cancelled = link(system, make_case(world, "cancelled"), "C")
    foreign = link(other_system, make_case(world, "draft"), "D")
    return {"fresh": fresh, "working": working, "cancelled": cancelled, "foreign": foreign}


def listed(client, fmt="json", **query):
    return client.get(url("requests", fmt), query, HTTP_X_API_KEY=KEY)


def test_get_requests_lists_this_systems_cases_newest_first(client, filed):
    response = listed(client)

    assert response.status_code == 200
    requests = response.json()
    numbers = [r["service_request_id"] for r in requests]
    assert numbers == [filed[k].number for k in ("cancelled", "working", "fresh")]
    for request in requests:
        assert set(request) == REQUEST_FIELDS


def test_a_request_as_georeport_shows_it(client, world, filed):
    working = filed["working"]
    working.deadline = timezone.now() + timedelta(days=2)
    Case.objects.filter(pk=working.pk).update(deadline=working.deadline)

    by_number = {r["service_request_id"]: r for r in listed(client).json()}

    shown = by_number[working.number]
    assert shown["status"] == "open"
    assert shown["status_notes"] == "处置中"  # the state's label, in Chinese by default
    assert shown["service_code"] == "street_vending" and shown["service_name"] == "占道经营"
    assert shown["agency_responsible"] == "城管执法局、水务局"
    assert shown["expected_datetime"] == timezone.localtime(working.deadline).isoformat(
        timespec="seconds"
    )
    assert shown["requested_datetime"].endswith("+08:00")
    fresh = by_number[filed["fresh"].number]
    assert fresh["lat"] == 30.912345 and fresh["long"] == 121.456789
    assert fresh["address"] == "南桥镇曙光村路口" and fresh["expected_datetime"] is None
    assert fresh["agency_responsible"] == ""
    assert by_number[filed["cancelled"].number]["status"] == "closed"


def test_get_requests_by_id(client, filed):
    wanted = f"{filed['fresh'].number},{filed['foreign'].number}"
    requests = listed(client, service_request_id=wanted).json()
    assert [r["service_request_id"] for r in requests] == [filed["fresh"].number]


def test_get_requests_by_status_and_service(client, filed):
    def numbers(**query):
        return {r["service_request_id"] for r in listed(client, **query).json()}

    assert numbers(status="closed") == {filed["cancelled"].number}
    assert numbers(status="open") == {filed["fresh"].number, filed["working"].number}
    assert len(numbers(status="open,closed")) == 3
    assert numbers(service_code="nope") == set()
    assert listed(client, status="pending").status_code == 400


def test_get_requests_by_dates_defaults_to_the_last_90_days(client, filed):
    old = timezone.now() - timedelta(days=120)
    Case.objects.filter(pk=filed["working"].pk).update(created_at=old)

    recent = {r["service_request_id"] for r in listed(client).json()}
    assert filed["working"].number not in recent and len(recent) == 2

    start = (old - timedelta(days=1)).isoformat()
    end = (old + timedelta(days=1)).isoformat()
    around = listed(client, start_date=start, end_date=end).json()
    assert [r["service_request_id"] for r in around] == [filed["working"].number]
    day = timezone.localdate(old).isoformat()
    assert len(listed(client, start_date=day).json()) == 1  # a plain date, the next 90 days


def test_bad_dates_are_400s(client, filed):
    assert listed(client, start_date="yesterday").status_code == 400
    assert listed(client, start_date="2024-02-30T00:00:00+08:00").status_code == 400
    backwards = listed(client, start_date="2024-05-02", end_date="2024-05-01")
    assert backwards.status_code == 400
    too_wide = listed(client, start_date="2024-01-01", end_date="2024-06-01")
    assert too_wide.status_code == 400 and too_wide.json()[0]["description"].startswith(
        "end_date: "
    )


def test_an_offset_sent_unescaped_still_reads(client, filed):
    start = timezone.localtime() - timedelta(days=1)
    raw = start.isoformat(timespec="seconds").replace("+", " ")  # what '+' becomes in a query
    assert listed(client, start_date=raw).status_code == 200


def test_get_requests_needs_the_key(client, filed):
    assert client.get(url("requests")).status_code == 403
    assert client.get(url("requests"), HTTP_X_API_KEY="wrong").json()[0]["code"] == 403


def test_get_requests_in_xml(client, filed):
    response = listed(client, "xml")

    root = ET.fromstring(response.content)
    assert root.tag == "service_requests"
    items = root.findall("request")
    assert len(items) == 3
    assert {child.tag for child in items[0]} == REQUEST_FIELDS
    assert items[0].findtext("status") == "closed"
    assert items[0].find("expected_datetime").text is None  # null: an empty element


def test_get_one_request(client, filed):
    number = filed["fresh"].number
    response = client.get(url("request", request_id=number), HTTP_X_API_KEY=KEY)
    assert response.status_code == 200
    assert [r["service_request_id"] for r in response.json()] == [number]
    xml = client.get(url("request", "xml", request_id=number), HTTP_X_API_KEY=KEY)
    (item,) = xml_items(xml, "request")
    assert item["service_request_id"].text == number


def test_another_systems_request_is_a_404_like_an_unknown_one(client, filed):
    foreign = client.get(url("request", request_id=filed["foreign"].number), HTTP_X_API_KEY=KEY)
    unknown = client.get(url("request", request_id="FX-1999-000001"), HTTP_X_API_KEY=KEY)

    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json()[0]["code"] == 404
    assert (
        client.get(
            url("request", request_id=filed["foreign"].number), HTTP_X_API_KEY=OTHER_KEY
        ).status_code
        == 200
    )


def test_gets_are_not_kept_as_deliveries(client, filed):
    before = Delivery.objects.count()
    listed(client)
    client.get(url("services"))
    assert Delivery.objects.count() == before == 1


# ------------------------------------------------------------------ hostile ids and dates


@pytest.mark.parametrize("token", ["review-²", "review-99999999999999999999", "review--1"])
def test_a_forged_token_is_a_404_not_a_500(client, filed, token):
    response = client.get(url("token", token=token), HTTP_X_API_KEY=KEY)
    assert response.status_code == 404
    assert response.json()[0]["code"] == 404


def test_a_nul_in_the_path_or_the_query_is_a_400(client, filed):
    number = filed["fresh"].number
    assert client.get(url("request", request_id=number + "\x00"), HTTP_X_API_KEY=KEY).json() == [
        {
            "code": 400,
            "description": client.get(url("services"), {"q": "\x00"}).json()[0]["description"],
        }
    ]
    assert listed(client, service_request_id="FX\x00").status_code == 400
    assert post(client, params(description="占道\x00")).status_code == 400


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "9999-12-31T23:59:59-14:00"])
def test_dates_at_the_edge_of_the_calendar_are_400s(client, filed, day):
    response = listed(client, start_date=day)
    assert response.status_code == 400
    assert response.json()[0]["description"].split(":")[0] in ("start_date", "end_date")


def test_a_bare_end_date_takes_in_the_whole_local_day(client, filed):
    """One rule for a bare date everywhere (core.dates): the whole local day."""
    late = timezone.make_aware(datetime(2026, 3, 14, 23, 59, 30))  # local (Asia/Shanghai)
    Case.objects.filter(pk=filed["working"].pk).update(created_at=late)
    same_day = listed(client, start_date="2026-03-14", end_date="2026-03-14")
    assert same_day.status_code == 200
    assert [r["service_request_id"] for r in same_day.json()] == [filed["working"].number]
    assert listed(client, start_date="2026-03-13", end_date="2026-03-13").json() == []


def test_an_end_date_at_the_edge_of_the_calendar_is_a_400(client, filed):
    response = listed(client, start_date="9999-12-01", end_date="9999-12-31")
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("discovery", {"fmt": "json"}),
        ("services", {"fmt": "json"}),
        ("service-definition", {"fmt": "json", "service_code": "street_vending"}),
        ("requests", {"fmt": "xml"}),
    ],
)
def test_a_key_in_the_url_is_refused_on_public_endpoints_too(client, world, name, kwargs):
    """The key is a secret whatever page it is sent to: the URL lands in access logs."""
    response = client.get(reverse(f"open311:{name}", kwargs=kwargs), {"api_key": "abc"})
    assert response.status_code == 400
    assert "X-Api-Key" in response.content.decode()
