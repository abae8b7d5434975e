"""Open311 as clients written by others use it: discovery, GeoReport's errors, the report's photo."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

import pytest
import requests
from django.utils import timezone
from georeport import georeport as georeport_module
from georeport.georeport import GeoReport
from PIL import Image

from cases import services as case_services
from chat.models import Message
from integrations import services as integration_services
from integrations.choices import DeliveryOutcome
from integrations.models import Delivery, ExternalCase, IntakeReview
from tests.integrations.conftest import OPEN311_KEY as KEY
from tests.integrations.conftest import OTHER_OPEN311_KEY as OTHER_KEY
from tests.integrations.test_open311 import url

FORM = "application/x-www-form-urlencoded"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def params(**extra) -> dict:
    """A complete request for world.community's street vending."""
    return {
        "api_key": KEY,
        "service_code": "street_vending",
        "lat": "30.912345",
        "long": "121.456789",
        "address_string": "南桥镇曙光村路口",
        "description": "路口有人占道卖水果",
        "attribute[community]": "310120101001",
        **extra,
    }


def photo_bytes(size=(64, 48), *, gps: bool = True) -> bytes:
    """A phone photo: a JPEG carrying its maker and a GPS position in EXIF."""
    image = Image.new("RGB", size, (200, 60, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    if gps:
        exif[0x8825] = {1: "N", 2: (30.0, 54.0, 44.4), 3: "E", 4: (121.0, 27.0, 24.4)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def post_multipart(client, data: dict, files: dict, fmt: str = "json"):
    return client.post(url("requests", fmt), {**data, **files})


def named(content: bytes, name: str = "photo.jpg"):
    file = io.BytesIO(content)
    file.name = name
    return file


def errors_of(response) -> list[dict]:
    body = response.json()
    assert isinstance(body, list), body
    assert all(set(e) == {"code", "description"} for e in body), body
    return body


def xml_errors(response) -> list[dict]:
    root = ET.fromstring(response.content)
    assert root.tag == "errors"
    return [{c.tag: c.text for c in error} for error in root.findall("error")]


def read_back(client, number: str, key: str = KEY) -> dict:
    response = client.get(url("request", request_id=number), HTTP_X_API_KEY=key)
    assert response.status_code == 200, response.content
    (shown,) = response.json()
    return shown


# ------------------------------------------------------------------ discovery


def test_discovery_json_routes_to_the_v2_endpoint_as_the_specification_describes(
    client, world, settings
):
    settings.JINSHAO_OPEN311_CONTACT = "区城运中心 021-12345"
    settings.JINSHAO_OPEN311_KEY_SERVICE = "向区城运中心申请"

    response = client.get("/open311/discovery.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    document = response.json()
    assert set(document) == {"changeset", "contact", "key_service", "endpoints"}
    assert document["contact"] == "区城运中心 021-12345"
    assert document["key_service"] == "向区城运中心申请"
    (endpoint,) = document["endpoints"]
    assert endpoint == {
        "specification": "http://wiki.open311.org/GeoReport_v2",
        "url": "http://testserver/open311/v2/",
        "changeset": document["changeset"],
        "type": "production",
        "formats": ["text/xml", "application/json"],
    }
    # The changeset moves when a service changes: clients refresh what they cached.
    type(world.template).objects.filter(pk=world.template.pk).update(
        updated_at=timezone.now() + timedelta(minutes=5)
    )
    assert client.get("/open311/discovery.json").json()["changeset"] != document["changeset"]


def test_discovery_xml_lists_endpoints_and_formats_as_elements(client, world, settings):
    settings.JINSHAO_OPEN311_ENDPOINT_TYPE = "test"

    response = client.get("/open311/discovery.xml")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(response.content)
    assert root.tag == "discovery"
    assert [child.tag for child in root] == ["changeset", "contact", "key_service", "endpoints"]
    (endpoint,) = root.find("endpoints").findall("endpoint")
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint.findtext("url") == "http://testserver/open311/v2/"
    assert endpoint.findtext("type") == "test"
    assert [f.text for f in endpoint.find("formats").findall("format")] == [
        "text/xml",
        "application/json",
    ]


# ------------------------------------------------------------------ errors on every path


@pytest.mark.parametrize(
    "path",
    [
        "/open311/v2/",
        "/open311/v2/nothing.json",
        "/open311/v2/services",
        "/open311/v2/services.json/",
        "/open311/v2/requests/2026-0001/notes.json",
        "/open311/v1/services.json",
        "/open311/",
        "/open311/discovery",
    ],
)
def test_an_unknown_address_under_open311_answers_georeports_error_list_in_json(
    client, world, path
):
    response = client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json; charset=utf-8"
    (error,) = errors_of(response)
    assert error["code"] == 404
    assert error["description"]


@pytest.mark.parametrize(
    "path", ["/open311/v2/nothing.xml", "/open311/v1/requests.xml", "/open311/v2/tokens/a/b.xml"]
)
def test_an_unknown_address_ending_in_xml_answers_georeports_errors_element(client, world, path):
    response = client.post(path, "x=1", content_type=FORM)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    (error,) = xml_errors(response)
    assert error["code"] == "404"
    assert error["description"]


def test_a_wrong_method_on_discovery_answers_georeports_405_in_its_format(client, world):
    response = client.post("/open311/discovery.xml", "x=1", content_type=FORM)

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    (error,) = xml_errors(response)
    assert error["code"] == "405"
    assert client.delete("/open311/discovery.json").json()[0]["code"] == 405


# ------------------------------------------------------------------ media_url


def test_a_posted_media_url_is_linked_on_the_case_and_read_back(client, system):
    photo = "https://img.example.org/reports/2026/11/30/abc.jpg"

    response = client.post(url("requests"), urlencode(params(media_url=photo)), content_type=FORM)

    assert response.status_code == 201, response.content
    number = response.json()[0]["service_request_id"]
    assert ExternalCase.objects.get(case__number=number).media_url == photo
    assert read_back(client, number)["media_url"] == photo
    listed = client.get(url("requests"), HTTP_X_API_KEY=KEY).json()
    assert [r["media_url"] for r in listed] == [photo]


@pytest.mark.parametrize(
    "address",
    ["file:///etc/passwd", "javascript:alert(1)", "gopher://10.0.0.1/", "not a url"],
)
def test_a_media_url_that_is_not_an_http_address_is_refused_and_logged(client, system, address):
    response = client.post(url("requests"), urlencode(params(media_url=address)), content_type=FORM)

    assert response.status_code == 400
    (error,) = errors_of(response)
    assert error["description"].startswith("media_url: ")
    assert not ExternalCase.objects.exists()
    assert Delivery.objects.get().outcome == DeliveryOutcome.REFUSED


def test_the_media_url_of_a_request_that_waited_for_review_reaches_the_case_made_from_it(
    client, world, system
):
    photo = "https://img.example.org/reports/waiting.jpg"
    data = params(media_url=photo)
    data["attribute[community]"] = "unknown-village"

    response = client.post(url("requests"), urlencode(data), content_type=FORM)

    assert response.status_code == 201, response.content
    review = IntakeReview.objects.get()
    case = integration_services.resolve_review(
        review, actor=world.commander, template=world.template, community=world.community
    )
    assert case.external.media_url == photo
    assert read_back(client, case.number)["media_url"] == photo


# ------------------------------------------------------------------ an uploaded photo


def test_an_uploaded_photo_is_kept_without_its_metadata_and_read_back_by_its_system_only(
    client, system, other_system
):
    response = post_multipart(client, params(), {"media": named(photo_bytes())})

    assert response.status_code == 201, response.content
    number = response.json()[0]["service_request_id"]
    link = ExternalCase.objects.get(case__number=number)
    assert link.media_file
    media_url = read_back(client, number)["media_url"]
    assert media_url == f"http://testserver/open311/v2/requests/{number}/media.jpg"

    photo = client.get(media_url, HTTP_X_API_KEY=KEY)
    assert photo.status_code == 200
    assert photo["Content-Type"] == "image/jpeg"
    content = b"".join(photo.streaming_content)
    with Image.open(io.BytesIO(content)) as image:
        assert image.format == "JPEG"
        assert image.size == (64, 48)
        assert not image.getexif()  # no maker, no GPS position

    assert client.get(media_url).status_code == 403
    refused = client.get(media_url, HTTP_X_API_KEY=OTHER_KEY)
    assert refused.status_code == 404
    assert errors_of(refused)[0]["code"] == 404


def test_an_uploaded_photo_reaches_the_case_room_watermarked_when_the_room_opens(
    client, world, system
):
    response = post_multipart(client, params(), {"media": named(photo_bytes((400, 300)))})
    assert response.status_code == 201, response.content
    link = ExternalCase.objects.select_related("case").get()
    case = link.case
    assert not Message.objects.filter(case=case).exists()  # a draft's room is closed

    case_services.invite_person(
        case, actor=world.official, department=world.dept_a, person=world.staff_a
    )
    case_services.submit_case(case, actor=world.official)
    case_services.approve_case(case, actor=world.commander)

    (message,) = Message.objects.filter(case=case, attachment__isnull=False)
    assert message.sender == world.official  # the case's caller, as with every intake
    assert "市城运平台" in message.text
    attachment = message.attachment
    assert attachment.kind == "image"
    assert attachment.content_type == "image/jpeg"
    assert (attachment.width, attachment.height) == (400, 300)
    with attachment.file.open("rb") as stored, link.media_file.open("rb") as kept:
        assert stored.read() != kept.read()  # re-encoded with the watermark stamped on it
    link.refresh_from_db()
    assert link.media_posted

    # Later steps do not post it again.
    for invitation in case.invitations.all():
        case_services.accept_invitation(invitation, actor=invitation.person)
    assert Message.objects.filter(case=case, attachment__isnull=False).count() == 1


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"just some text, not a photo", "photo.jpg"),
        (b"", "empty.jpg"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "report.pdf"),
    ],
)
def test_an_upload_that_is_not_a_photo_is_refused_in_georeports_shape(
    client, system, content, name
):
    response = post_multipart(client, params(), {"media": named(content, name)}, fmt="xml")

    assert response.status_code == 400
    (error,) = xml_errors(response)
    assert error["code"] == "400"
    assert error["description"].startswith("media: ")
    assert not ExternalCase.objects.exists()
    delivery = Delivery.objects.get()
    assert delivery.outcome == DeliveryOutcome.REFUSED
    assert delivery.status_code == 400


def test_a_photo_larger_than_the_bound_is_refused_with_the_bound_named(client, system, settings):
    settings.JINSHAO_UPLOAD_LIMITS = {**settings.JINSHAO_UPLOAD_LIMITS, "image": 1000}

    response = post_multipart(client, params(), {"media": named(photo_bytes((300, 300)))})

    assert response.status_code == 400
    (error,) = errors_of(response)
    assert error["description"].startswith("media: ")
    assert "1000" in error["description"].replace("\xa0", " ").replace(",", "")
    assert not ExternalCase.objects.exists()


def test_a_body_larger_than_a_photos_bound_is_refused_before_it_is_read(client, system, settings):
    settings.JINSHAO_UPLOAD_LIMITS = {**settings.JINSHAO_UPLOAD_LIMITS, "image": 1000}

    response = post_multipart(client, params(), {"media": named(b"\xff" * (300 * 1024))})

    assert response.status_code == 413
    (error,) = errors_of(response)
    assert error["code"] == 413
    assert not ExternalCase.objects.exists()


def test_an_upload_with_a_request_that_would_wait_for_review_is_refused_not_dropped(client, system):
    data = params()
    data["attribute[community]"] = "unknown-village"

    response = post_multipart(client, data, {"media": named(photo_bytes())})

    assert response.status_code == 400
    (error,) = errors_of(response)
    assert error["description"].startswith("media: ")
    assert "unknown-village" in error["description"]  # why it would wait, in the asker's words
    assert not IntakeReview.objects.exists()
    assert Delivery.objects.get().outcome == DeliveryOutcome.REFUSED


def test_a_retry_with_the_same_id_keeps_the_first_photo(client, system):
    data = params(**{"attribute[external_id]": "APP-77"})
    first = post_multipart(client, data, {"media": named(photo_bytes())})
    assert first.status_code == 201
    kept = ExternalCase.objects.get().media_file.name

    again = post_multipart(client, data, {"media": named(photo_bytes((80, 80)))})

    assert again.status_code == 200
    assert ExternalCase.objects.get().media_file.name == kept


# ------------------------------------------------------------------ a third-party client


class KeyedRequests(SimpleNamespace):
    """``requests`` as the georeport client calls it, with our key in the X-Api-Key header.

    georeport 0.3.1 reads only; it sends no key (GeoReport lets a GET carry it in
    the query string, which we refuse: URLs are logged), so the test gives it the
    header a deployment would configure in front of it.
    """

    def __init__(self, key: str):
        super().__init__()
        self.key = key

    def get(self, address, **kwargs):
        return requests.get(address, headers={"X-Api-Key": self.key}, timeout=10, **kwargs)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_maintained_third_party_client_discovers_posts_with_a_photo_and_reads_back(
    live_server, world, system, monkeypatch, fmt
):
    """georeport (PyPI, 2025) for services, definitions and reads; POST and discovery as
    GeoReport clients send them (``three``'s multipart ``media``; georeport cannot post)."""
    base = f"{live_server.url}/open311"

    # Discovery: the client's root address comes from the document, not from us.
    discovery = requests.get(f"{base}/discovery.{fmt}", timeout=10)
    assert discovery.status_code == 200
    if fmt == "json":
        endpoint = discovery.json()["endpoints"][0]
        root_address = endpoint["url"]
        assert "application/json" in endpoint["formats"]
    else:
        root_address = ET.fromstring(discovery.content).findtext("endpoints/endpoint/url")
    assert root_address == f"{live_server.url}/open311/v2/"

    client = GeoReport(root_address, output_format=fmt)
    services = client.get_service_list()
    codes = [s["service_code"] for s in services] if fmt == "json" else [services["service_code"]]
    assert codes == ["street_vending"]
    definition = client.get_service_definition("street_vending")
    attributes = (
        definition["attributes"] if fmt == "json" else definition["attributes"]["attribute"]
    )
    assert [a["code"] for a in attributes] == ["stall_count", "goods"]

    # POST as a GeoReport client sends it: form fields and the photo as multipart ``media``.
    posted = requests.post(
        f"{root_address}requests.{fmt}",
        data={**params(first_name="三", last_name="张")},
        files={"media": ("IMG_0001.JPG", photo_bytes(), "image/jpeg")},
        timeout=10,
    )
    assert posted.status_code == 201, posted.text
    if fmt == "json":
        number = posted.json()[0]["service_request_id"]
    else:
        number = ET.fromstring(posted.content).findtext("request/service_request_id")

    monkeypatch.setattr(georeport_module, "requests", KeyedRequests(KEY))
    shown = client.get_service_request(number)
    assert shown["service_request_id"] == number
    assert shown["media_url"] == f"{root_address}requests/{number}/media.jpg"
    listed = client.get_service_requests(service_request_id=number)
    listed = listed if isinstance(listed, list) else [listed]
    assert [r["service_request_id"] for r in listed] == [number]

    photo = requests.get(shown["media_url"], headers={"X-Api-Key": KEY}, timeout=10)
    assert photo.status_code == 200
    assert photo.headers["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(photo.content)) as image:
        assert image.size == (64, 48)

    # The client's error handling sees GeoReport's errors, not an HTML page.
    missing = requests.get(f"{root_address}requests/NO-SUCH.{fmt}", headers={"X-Api-Key": KEY})
    assert missing.status_code == 404
    if fmt == "json":
        assert json.loads(missing.content)[0]["code"] == 404
    else:
        assert ET.fromstring(missing.content).findtext("error/code") == "404"
