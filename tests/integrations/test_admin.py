"""The integration back office: systems and their secret, mapping sheets, the
review queue's decisions, the outbox, and the one-click import of platform cases."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import openpyxl
import pytest
import tablib
from django.contrib import admin
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditRecord
from cases.choices import CaseState, EventKind
from cases.models import Case
from grids.choices import AreaLevel
from integrations import services
from integrations.choices import DeliveryOutcome, OutboundState, ReviewState
from integrations.forms import COLUMN_LABELS
from integrations.labels import CHANNEL_LABELS, PAYLOAD_LABELS
from integrations.models import (
    AreaMapping,
    CategoryMapping,
    Delivery,
    ExternalCase,
    ExternalSystem,
    IntakeReview,
    OutboundAttempt,
    OutboundMessage,
)
from integrations.resources import AreaMappingResource, CategoryMappingResource
from templates.choices import Priority
from tests.core.test_chinese_everywhere import visible_text
from tests.factories import make_area

pytestmark = pytest.mark.django_db

IMPORT_URL = "admin:integrations_externalsystem_import_cases"


@pytest.fixture
def system(world):
    return ExternalSystem.objects.create(
        code="city", name="城运平台", callback_url="https://platform.example/cb"
    )


@pytest.fixture
def mapped(world, system):
    CategoryMapping.objects.create(system=system, external_code="C01", template=world.template)
    AreaMapping.objects.create(system=system, external_code="A01", community=world.community)
    return system


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.superuser)
    return client


def platform_case(external_id: str, category: str = "C01", area: str = "A01", **extra) -> dict:
    return {
        "external_id": external_id,
        "category_code": category,
        "area_code": area,
        "title": f"占道经营 {external_id}",
        **extra,
    }


def take_in(system, data: dict) -> services.IntakeResult:
    return services.take_in(system, services.parse_platform_case(system, data))


def waiting_review(system, external_id: str = "P900") -> IntakeReview:
    result = take_in(
        system, platform_case(external_id, category="X9", area="Z9", address="南桥路1号")
    )
    assert result.outcome == DeliveryOutcome.REVIEW
    return result.review


def _changelist(model) -> str:
    return reverse(f"admin:integrations_{model._meta.model_name}_changelist")


def _change(model, pk) -> str:
    return reverse(f"admin:integrations_{model._meta.model_name}_change", args=[pk])


# ------------------------------------------------------------------ every page


def test_every_integration_page_loads_for_the_superuser(admin_client, world, mapped):
    created = take_in(mapped, platform_case("P001"))
    waiting_review(mapped)
    services.record_delivery(
        mapped, channel="intake", status_code=201, outcome=created.outcome, result=created
    )
    message = OutboundMessage.objects.create(
        system=mapped, case=created.case, payload={"event": "submitted", "case": {"number": "x"}}
    )
    OutboundAttempt.objects.create(message=message, status_code=500, error="HTTP 500")
    models = [m for m in admin.site._registry if m._meta.app_label == "integrations"]
    assert len(models) == 7  # attempts are shown in their message
    for model in models:
        response = admin_client.get(_changelist(model))
        assert response.status_code == 200, model
        assert admin_client.get(_changelist(model), {"q": "P001"}).status_code == 200, model
        obj = model._default_manager.order_by("pk").first()
        assert admin_client.get(_change(model, obj.pk)).status_code == 200, model
    page = admin_client.get(_change(OutboundMessage, message.pk)).content.decode()
    assert "HTTP 500" in page and str(EventKind.SUBMITTED.label) in page


def _texts(client, url) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, url
    return visible_text(response.content.decode())


def test_the_outbox_shows_steps_and_states_by_their_labels_never_json(admin_client, mapped):
    case = take_in(mapped, platform_case("P001")).case
    payload = {
        "system": "city",
        "external_id": "P001",
        "case": {"number": case.number, "state": "dispatched"},
        "event": "approved",
        "from_state": "pending_review",
        "to_state": "dispatched",
        "note": "",
        "at": "2026-11-30T03:00:00+00:00",
    }
    message = OutboundMessage.objects.create(system=mapped, case=case, payload=payload)
    approved, dispatched = str(EventKind.APPROVED.label), str(CaseState.DISPATCHED.label)
    page = _texts(admin_client, _change(OutboundMessage, message.pk))
    assert "approved" not in page and "dispatched" not in page
    assert not [text for text in page if "{" in text or '"' in text]  # no JSON anywhere
    assert approved in page and dispatched in page and str(CaseState.PENDING_REVIEW.label) in page
    for key in ("event", "from_state", "to_state", "at", "case", "external_id"):
        assert str(PAYLOAD_LABELS[key]) in page, key
    assert "2026-11-30 11:00:00" in page  # the time in Asia/Shanghai, to the second
    assert f"city · {approved} · {OutboundState.PENDING.label}" in page  # the title
    listed = _texts(admin_client, _changelist(OutboundMessage))
    assert approved in listed and "approved" not in listed


def test_the_delivery_log_shows_the_channel_and_what_was_sent_by_labels(admin_client, mapped):
    data = platform_case("P002", priority="high")
    result = take_in(mapped, data)
    body = json.dumps(data, ensure_ascii=False)
    for channel in ("intake", "open311", "admin_import"):
        services.record_delivery(
            mapped, channel=channel, status_code=201, outcome=result.outcome, body=body
        )
    delivery = Delivery.objects.get(channel="intake")
    page = _texts(admin_client, _change(Delivery, delivery.pk))
    assert str(CHANNEL_LABELS["intake"]) in page and "intake" not in page
    assert not [text for text in page if "{" in text]
    for key in ("external_id", "category_code", "area_code", "title", "priority"):
        assert str(PAYLOAD_LABELS[key]) in page, key
    assert "C01" in page and "A01" in page and str(Priority.HIGH.label) in page
    listed = _texts(admin_client, _changelist(Delivery))
    assert {str(label) for label in CHANNEL_LABELS.values()} <= set(listed)  # column and filter
    assert not {"intake", "open311", "admin_import"} & set(listed)


def test_a_review_shows_what_they_sent_as_named_values(admin_client, system):
    review = waiting_review(system)
    page = _texts(admin_client, _change(IntakeReview, review.pk))
    assert not [text for text in page if "{" in text]
    assert str(PAYLOAD_LABELS["category_code"]) in page and "X9" in page
    assert str(PAYLOAD_LABELS["area_code"]) in page and "Z9" in page


def test_logs_are_read_only(admin_client, mapped):
    take_in(mapped, platform_case("P001"))
    waiting_review(mapped)
    for model in (Delivery, IntakeReview, OutboundMessage, ExternalCase):
        assert (
            admin_client.get(
                reverse(f"admin:integrations_{model._meta.model_name}_add")
            ).status_code
            == 403
        )
    review = IntakeReview.objects.get()
    delete = reverse("admin:integrations_intakereview_delete", args=[review.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert IntakeReview.objects.filter(pk=review.pk).exists()


# ------------------------------------------------------------------ systems and the secret


def _system_post(**fields) -> dict:
    data = {
        "code": "hotline",
        "name": "12345热线",
        "source": ExternalSystem._meta.get_field("source").default,
        "callback_url": "",
        "is_active": "on",
        "new_secret": "",
    }
    for prefix in ("category_mappings", "area_mappings"):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    data.update(fields)
    return data


def test_the_secret_is_shown_once_and_never_listed(admin_client, world):
    response = admin_client.post(reverse("admin:integrations_externalsystem_add"), _system_post())
    system = ExternalSystem.objects.get(code="hotline")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert system.secret and system.secret in response.content.decode()  # shown this once
    for url in (_changelist(ExternalSystem), _change(ExternalSystem, system.pk)):
        page = admin_client.get(url)
        assert page.status_code == 200 and system.name in page.content.decode(), url
        assert system.secret not in page.content.decode()

    # Replaced by hand: shown once more, the old one gone, the change audited.
    old = system.secret
    replaced = admin_client.post(
        _change(ExternalSystem, system.pk), _system_post(new_secret="agreed-with-the-hotline-2024")
    )
    system.refresh_from_db()
    assert system.secret == "agreed-with-the-hotline-2024" != old
    assert "agreed-with-the-hotline-2024" in replaced.content.decode()
    assert (
        AuditRecord.objects.filter(
            action="integration.secret_set", object_id=str(system.pk)
        ).count()
        == 2
    )

    # Saved without a new secret: the secret stays, and the page is the usual redirect.
    kept = admin_client.post(_change(ExternalSystem, system.pk), _system_post(name="热线"))
    system.refresh_from_db()
    assert kept.status_code == 302 and system.secret == "agreed-with-the-hotline-2024"


def test_a_callback_must_be_http_or_https(admin_client, world):
    response = admin_client.post(
        reverse("admin:integrations_externalsystem_add"),
        _system_post(callback_url="ftp://platform.example/cb"),
    )
    assert (
        response.status_code == 200 and "callback_url" in response.context["adminform"].form.errors
    )
    assert not ExternalSystem.objects.filter(code="hotline").exists()


def test_the_system_page_links_to_its_traffic_and_the_import(admin_client, system):
    body = admin_client.get(_change(ExternalSystem, system.pk)).content.decode()
    assert f"system__id__exact={system.pk}" in body
    assert reverse(IMPORT_URL) + f"?system={system.pk}" in body


# ------------------------------------------------------------------ mapping sheets


def _xlsx(headers, rows) -> bytes:
    return tablib.Dataset(*rows, headers=headers).export("xlsx")


def _import_sheet(client, model, data: bytes):
    url = reverse(f"admin:integrations_{model._meta.model_name}_import")
    upload = SimpleUploadedFile("mappings.xlsx", data)
    return client.post(url, {"resource": 0, "format": 0, "import_file": upload})


def test_mapping_sheets_import_from_xlsx(admin_client, world, system):
    headers = CategoryMappingResource().get_export_headers()
    preview = _import_sheet(
        admin_client,
        CategoryMapping,
        _xlsx(
            headers,
            [
                ["city", "C01", "占道经营", world.template.code],
                ["city", "C02", "", world.template.code],
            ],
        ),
    )
    assert not CategoryMapping.objects.exists()  # previewed, not yet saved
    confirm = preview.context["confirm_form"]
    done = admin_client.post(
        reverse("admin:integrations_categorymapping_process_import"), confirm.initial
    )
    assert done.status_code == 302
    assert set(CategoryMapping.objects.values_list("external_code", "template")) == {
        ("C01", world.template.pk),
        ("C02", world.template.pk),
    }
    assert AuditRecord.objects.filter(action="import.categorymapping").exists()

    headers = AreaMappingResource().get_export_headers()
    preview = _import_sheet(
        admin_client, AreaMapping, _xlsx(headers, [["city", "A01", "曙光", world.community.code]])
    )
    admin_client.post(
        reverse("admin:integrations_areamapping_process_import"),
        preview.context["confirm_form"].initial,
    )
    assert AreaMapping.objects.get(external_code="A01").community == world.community


def test_a_bad_mapping_row_saves_nothing_and_says_why(admin_client, world, system):
    headers = AreaMappingResource().get_export_headers()
    rows = [
        ["city", "A01", "曙光", world.community.code],  # good
        ["nosuch", "A02", "", world.community.code],  # unknown system
        ["city", "A03", "南桥镇", world.town.code],  # a town, not a community
        ["city", "A04", "", "NOAREA"],  # unknown area
    ]
    response = _import_sheet(admin_client, AreaMapping, _xlsx(headers, rows))
    assert response.status_code == 200 and response.context.get("confirm_form") is None
    assert not AreaMapping.objects.exists()
    result = response.context["result"]
    bad = {row.number: set(row.error_dict) for row in result.invalid_rows}
    assert bad == {2: {"system"}, 3: {"community"}, 4: {"community"}}
    body = response.content.decode()
    assert "nosuch" in body and world.town.name in body and "NOAREA" in body

    headers = CategoryMappingResource().get_export_headers()
    response = _import_sheet(
        admin_client, CategoryMapping, _xlsx(headers, [["city", "C01", "", "no_template"]])
    )
    assert {r.number: set(r.error_dict) for r in response.context["result"].invalid_rows} == {
        1: {"template"}
    }
    assert not CategoryMapping.objects.exists()


# ------------------------------------------------------------------ review queue


def test_the_queue_lists_waiting_reviews_first_with_their_problems(admin_client, world, system):
    older = waiting_review(system, "P901")
    newer = waiting_review(system, "P902")
    services.dismiss_review(newer, actor=world.superuser, reason="测试数据")
    response = admin_client.get(_changelist(IntakeReview))
    assert [r.pk for r in response.context["cl"].result_list] == [older.pk, newer.pk]
    body = response.content.decode()
    assert services.describe_problem({"code": "unmapped_area", "value": "Z9"}) in body
    page = admin_client.get(_change(IntakeReview, older.pk)).content.decode()
    assert "南桥路1号" in page and "Z9" in page
    assert reverse("admin:integrations_intakereview_resolve", args=[older.pk]) in page
    decided_page = admin_client.get(_change(IntakeReview, newer.pk))
    decided = decided_page.content.decode()
    assert decided_page.status_code == 200 and "测试数据" in decided  # the decided review shows
    assert reverse("admin:integrations_intakereview_resolve", args=[newer.pk]) not in decided


def test_resolving_creates_the_case_and_remembers_the_mappings(admin_client, world, system):
    review = waiting_review(system)
    url = reverse("admin:integrations_intakereview_resolve", args=[review.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        url, {"template": world.template.pk, "community": world.community.pk, "remember": "on"}
    )
    assert response.status_code == 302 and response["Location"] == _change(IntakeReview, review.pk)
    review.refresh_from_db()
    assert review.state == ReviewState.RESOLVED and review.decided_by == world.superuser
    case = review.case
    assert case.community == world.community and case.caller == world.official
    assert case.template == world.template and case.address == "南桥路1号"
    assert ExternalCase.objects.get(system=system, external_id="P900").case == case
    assert CategoryMapping.objects.get(system=system, external_code="X9").template == world.template
    assert AreaMapping.objects.get(system=system, external_code="Z9").community == world.community
    # Decided: the form is not offered again.
    again = admin_client.post(url, {"template": world.template.pk, "community": world.community.pk})
    assert (
        again.status_code == 302
        and Case.objects.filter(external_id__startswith="city:").count() == 1
    )


def test_resolving_without_remembering_keeps_the_mappings_as_they_were(admin_client, world, system):
    review = waiting_review(system)
    admin_client.post(
        reverse("admin:integrations_intakereview_resolve", args=[review.pk]),
        {"template": world.template.pk, "community": world.other_community.pk},
    )
    review.refresh_from_db()
    assert review.case.community == world.other_community
    assert review.case.caller == world.other_official
    assert not CategoryMapping.objects.exists() and not AreaMapping.objects.exists()


def test_a_refused_decision_shows_on_the_form_and_changes_nothing(admin_client, world, system):
    empty = make_area(AreaLevel.COMMUNITY, world.grid, code="310120101009", name="无人村")
    review = waiting_review(system)
    response = admin_client.post(
        reverse("admin:integrations_intakereview_resolve", args=[review.pk]),
        {"template": world.template.pk, "community": empty.pk, "remember": "on"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["community"]  # no village official there
    review.refresh_from_db()
    assert review.state == ReviewState.PENDING and not AreaMapping.objects.exists()


def test_the_community_must_be_a_village_or_community(admin_client, world, system):
    review = waiting_review(system)
    response = admin_client.post(
        reverse("admin:integrations_intakereview_resolve", args=[review.pk]),
        {"template": world.template.pk, "community": world.town.pk},
    )
    assert response.status_code == 200 and "community" in response.context["form"].errors
    review.refresh_from_db()
    assert review.state == ReviewState.PENDING


def test_dismissing_needs_a_reason(admin_client, world, system):
    review = waiting_review(system)
    url = reverse("admin:integrations_intakereview_dismiss", args=[review.pk])
    response = admin_client.post(url, {"note": "  "})
    assert response.status_code == 200 and "note" in response.context["form"].errors
    review.refresh_from_db()
    assert review.state == ReviewState.PENDING
    response = admin_client.post(url, {"note": "平台测试数据"})
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.state == ReviewState.DISMISSED and review.note == "平台测试数据"
    assert review.case is None


def test_deciding_needs_the_change_permission(client, world, system, django_user_model):
    review = waiting_review(system)
    viewer = world.stranger
    viewer.is_staff = True
    viewer.save(update_fields=["is_staff"])
    perm = django_user_model._meta.apps.get_model("auth", "Permission")
    viewer.user_permissions.add(perm.objects.get(codename="view_intakereview"))
    client.force_login(viewer)
    assert client.get(_change(IntakeReview, review.pk)).status_code == 200
    for name in ("resolve", "dismiss"):
        url = reverse(f"admin:integrations_intakereview_{name}", args=[review.pk])
        assert client.get(url).status_code == 403
    assert client.get(reverse(IMPORT_URL)).status_code == 403


# ------------------------------------------------------------------ outbox


def test_retry_now_makes_pending_messages_due(admin_client, world, mapped):
    case = take_in(mapped, platform_case("P001")).case
    later = timezone.now() + timedelta(hours=1)
    waiting = OutboundMessage.objects.create(
        system=mapped, case=case, payload={"event": "submitted"}, next_attempt_at=later, attempts=3
    )
    delivered = OutboundMessage.objects.create(
        system=mapped,
        case=case,
        payload={"event": "approved"},
        next_attempt_at=later,
        state=OutboundState.DELIVERED,
    )
    response = admin_client.post(
        _changelist(OutboundMessage),
        {"action": "retry_selected", "_selected_action": [waiting.pk, delivered.pk]},
    )
    assert response.status_code == 302
    waiting.refresh_from_db()
    delivered.refresh_from_db()
    assert waiting.next_attempt_at <= timezone.now()
    assert delivered.next_attempt_at == later
    assert OutboundMessage.objects.due().filter(pk=waiting.pk).exists()
    assert any("1" in str(m) for m in get_messages(response.wsgi_request))


# ------------------------------------------------------------------ one-click import

HEADERS_ZH = ["编号", "类别代码", "区域代码", "标题", "描述", "地址", "纬度", "经度", "优先级"]


def _workbook(rows, headers=HEADERS_ZH) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


SHEET_ROWS = [
    ["P001", "C01", "A01", "菜场门口占道经营", "早市摊位", "南桥路8号", 30.91, 121.47, "high"],
    ["P002", "C99", "A01", "不明类别", "", "", None, None, ""],
    ["P003", "C01", "A01", "坐标有误", "", "", "abc", None, ""],
    ["P004", "C01", "A01", "重复上报", "", "", None, None, ""],
]


def _preview(client, system, data: bytes, name="cases.xlsx"):
    upload = SimpleUploadedFile(name, data)
    return client.post(reverse(IMPORT_URL), {"system": system.pk, "file": upload})


def test_the_import_previews_each_row_and_creates_nothing(admin_client, world, mapped):
    earlier = take_in(mapped, platform_case("P004")).case
    cases_before, deliveries_before = Case.objects.count(), Delivery.objects.count()
    response = _preview(admin_client, mapped, _workbook(SHEET_ROWS))
    assert response.status_code == 200
    fates = response.context["fates"]
    assert [(f.values["external_id"], f.kind) for f in fates] == [
        ("P001", "new"),
        ("P002", "review"),
        ("P003", "error"),
        ("P004", "duplicate"),
    ]
    assert [f.line for f in fates] == ["2", "3", "4", "5"]
    assert str(world.community) in fates[0].text and str(world.template) in fates[0].text
    assert "C99" in fates[1].text and str(COLUMN_LABELS["latitude"]) in fates[2].text
    assert earlier.number in fates[3].text
    assert fates[0].values["priority"] == "high" and fates[0].values["latitude"] == "30.91"
    assert Case.objects.count() == cases_before and Delivery.objects.count() == deliveries_before
    assert not IntakeReview.objects.exists()
    assert response.context["counts"] == {"new": 1, "review": 1, "duplicate": 1, "error": 1}


def test_confirming_takes_each_good_row_in_and_lists_the_bad(admin_client, world, mapped):
    earlier = take_in(mapped, platform_case("P004")).case
    preview = _preview(admin_client, mapped, _workbook(SHEET_ROWS))
    token = preview.context["confirm_form"].initial["token"]
    response = admin_client.post(reverse(IMPORT_URL), {"token": token})
    assert response.status_code == 200
    assert [f.kind for f in response.context["fates"]] == ["new", "review", "error", "duplicate"]

    link = ExternalCase.objects.get(system=mapped, external_id="P001")
    case = link.case
    assert case.community == world.community and case.caller == world.official
    assert case.title == "菜场门口占道经营" and case.priority == "high"
    assert str(case.latitude) == "30.910000" and case.source == mapped.source
    assert IntakeReview.objects.get(external_id="P002").state == ReviewState.PENDING
    assert not ExternalCase.objects.filter(external_id="P003").exists()
    # The duplicate changed nothing: one case for P004, as it was.
    assert ExternalCase.objects.filter(external_id="P004").get().case == earlier
    assert Case.objects.filter(external_id="city:P004").count() == 1

    outcomes = dict(
        Delivery.objects.filter(channel="admin_import").values_list("external_id", "outcome")
    )
    assert outcomes == {
        "P001": DeliveryOutcome.CREATED,
        "P002": DeliveryOutcome.REVIEW,
        "P003": DeliveryOutcome.REFUSED,
        "P004": DeliveryOutcome.DUPLICATE,
    }
    audit = AuditRecord.objects.get(action="import.platform_cases")
    assert audit.details["new"] == 1 and audit.details["error"] == 1

    # Confirmed twice (a reload): every row is already known, nothing more is made.
    again = admin_client.post(reverse(IMPORT_URL), {"token": token})
    assert [f.kind for f in again.context["fates"]] == [
        "duplicate",
        "duplicate",
        "error",
        "duplicate",
    ]
    assert ExternalCase.objects.filter(system=mapped).count() == 2


def test_a_row_twice_in_one_file_is_taken_in_once(admin_client, world, mapped):
    rows = [SHEET_ROWS[0], SHEET_ROWS[0]]
    preview = _preview(admin_client, mapped, _workbook(rows))
    assert [f.kind for f in preview.context["fates"]] == ["new", "duplicate"]
    token = preview.context["confirm_form"].initial["token"]
    admin_client.post(reverse(IMPORT_URL), {"token": token})
    assert ExternalCase.objects.filter(external_id="P001").count() == 1


def test_a_tampered_confirmation_is_refused(admin_client, world, mapped):
    preview = _preview(admin_client, mapped, _workbook(SHEET_ROWS[:1]))
    token = preview.context["confirm_form"].initial["token"]
    payload, _sep, signature = token.rpartition(":")
    tampered = payload + ":" + ("A" if signature[0] != "A" else "B") + signature[1:]
    for bad in (tampered, "", "not-a-token"):
        response = admin_client.post(reverse(IMPORT_URL), {"token": bad})
        assert response.status_code == 400
    # Signed for someone else: refused as well.
    from django.core import signing

    from integrations.forms import CONFIRM_SALT

    rows = signing.loads(token, salt=CONFIRM_SALT)["rows"]
    forged = signing.dumps(
        {"system": mapped.pk, "user": world.sysadmin.pk, "rows": rows}, salt=CONFIRM_SALT
    )
    assert admin_client.post(reverse(IMPORT_URL), {"token": forged}).status_code == 400
    assert not ExternalCase.objects.exists() and not Delivery.objects.exists()


def test_a_file_that_is_not_a_workbook_is_refused(admin_client, world, mapped):
    csv_text = "编号,类别代码,区域代码\nP001,C01,A01\n".encode()
    other_zip = io.BytesIO()
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("readme.txt", "hello")
    for data in (csv_text, other_zip.getvalue(), b""):
        response = _preview(admin_client, mapped, data)
        assert response.status_code == 200
        form = response.context["form"]
        assert form.errors and ".xlsx" in " ".join(form.non_field_errors()) or not data
        assert "fates" not in response.context
    assert not Case.objects.filter(external_id__startswith="city:").exists()


def test_pasted_rows_work_like_a_workbook(admin_client, world, mapped):
    text = "external_id\tcategory_code\tarea_code\ttitle\nP010\tC01\tA01\t井盖缺失\n"
    response = admin_client.post(reverse(IMPORT_URL), {"system": mapped.pk, "text": text})
    assert [f.kind for f in response.context["fates"]] == ["new"]
    token = response.context["confirm_form"].initial["token"]
    admin_client.post(reverse(IMPORT_URL), {"token": token})
    assert ExternalCase.objects.get(external_id="P010").case.title == "井盖缺失"


def test_missing_columns_and_too_many_rows_are_refused(admin_client, world, mapped, monkeypatch):
    response = admin_client.post(
        reverse(IMPORT_URL), {"system": mapped.pk, "text": "编号\t标题\nP1\tx\n"}
    )
    assert "category_code" in " ".join(response.context["form"].non_field_errors())
    monkeypatch.setattr("integrations.forms.MAX_ROWS", 2)
    response = _preview(admin_client, mapped, _workbook(SHEET_ROWS))
    assert response.context["form"].non_field_errors() and "fates" not in response.context


def test_the_import_page_is_reached_from_the_queue(admin_client, world, system):
    body = admin_client.get(_changelist(IntakeReview)).content.decode()
    assert reverse(IMPORT_URL) in body
    page = admin_client.get(reverse(IMPORT_URL), {"system": system.pk})
    assert page.status_code == 200 and page.context["form"].initial["system"] == str(system.pk)


def test_mappings_are_edited_on_the_system_page(admin_client, world, system):
    data = _system_post(code="city", name="城运平台")
    data.update(
        {
            "category_mappings-TOTAL_FORMS": "1",
            "category_mappings-0-external_code": "C01",
            "category_mappings-0-external_name": "占道经营",
            "category_mappings-0-template": str(world.template.pk),
            "area_mappings-TOTAL_FORMS": "1",
            "area_mappings-0-external_code": "A01",
            "area_mappings-0-community": str(world.community.pk),
        }
    )
    response = admin_client.post(_change(ExternalSystem, system.pk), data)
    assert response.status_code == 302
    assert CategoryMapping.objects.get(system=system).template == world.template
    assert AreaMapping.objects.get(system=system).community == world.community
    data.update(
        {"area_mappings-0-external_code": "A02", "area_mappings-0-community": str(world.town.pk)}
    )
    refused = admin_client.post(_change(ExternalSystem, system.pk), data)
    assert (
        refused.status_code == 200 and not AreaMapping.objects.filter(external_code="A02").exists()
    )


def test_the_community_search_offers_villages_and_communities_only(admin_client, world):
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "integrations",
            "model_name": "areamapping",
            "field_name": "community",
            "term": "南桥",
        },
    )
    assert response.status_code == 200 and response.json()["results"] == []
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "integrations",
            "model_name": "areamapping",
            "field_name": "community",
            "term": "村",
        },
    )
    names = {r["text"] for r in response.json()["results"]}
    assert names == {str(world.community), str(world.other_community)}


def test_a_systems_code_stays_once_saved(admin_client, system):
    admin_client.post(_change(ExternalSystem, system.pk), _system_post(code="renamed"))
    system.refresh_from_db()
    assert system.code == "city" and system.name == "12345热线"


def _staff(person):
    person.is_staff = True
    person.save(update_fields=["is_staff"])
    return person


def test_the_system_administrators_real_role_reaches_every_page(client, world, mapped):
    """No permission is given by hand: the role's own table (accounts.backends) grants it."""
    case = take_in(mapped, platform_case("P001")).case
    review = waiting_review(mapped)
    message = OutboundMessage.objects.create(system=mapped, case=case, payload={"event": "x"})
    OutboundAttempt.objects.create(message=message, status_code=502, error="bad gateway")
    person = _staff(world.sysadmin)
    assert not person.user_permissions.exists() and not person.groups.exists()
    client.force_login(person)
    for model in (ExternalSystem, CategoryMapping, AreaMapping, Delivery, IntakeReview):
        assert client.get(_changelist(model)).status_code == 200, model
    assert [r.pk for r in client.get(_changelist(ExternalCase)).context["cl"].result_list] == [
        case.external.pk
    ]
    assert "bad gateway" in client.get(_change(OutboundMessage, message.pk)).content.decode()
    assert client.get(reverse("admin:integrations_categorymapping_import")).status_code == 200
    resolve = reverse("admin:integrations_intakereview_resolve", args=[review.pk])
    assert client.get(resolve).status_code == 200
    assert client.get(reverse(IMPORT_URL)).status_code == 200
    # The community search of the resolve form reads the area tree (grids.view_area).
    search = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "integrations", "model_name": "areamapping", "field_name": "community"},
    )
    assert search.status_code == 200


def _decide_import_and_retry(client, world, mapped) -> dict:
    """Resolve one review, dismiss another, import a sheet, retry a message: what each answered."""
    case = take_in(mapped, platform_case("P100")).case
    to_resolve, to_dismiss = waiting_review(mapped, "P901"), waiting_review(mapped, "P902")
    later = timezone.now() + timedelta(hours=1)
    message = OutboundMessage.objects.create(
        system=mapped, case=case, payload={"event": "submitted"}, next_attempt_at=later
    )
    answers = {
        "resolve": client.post(
            reverse("admin:integrations_intakereview_resolve", args=[to_resolve.pk]),
            {"template": world.template.pk, "community": world.community.pk},
        ).status_code,
        "dismiss": client.post(
            reverse("admin:integrations_intakereview_dismiss", args=[to_dismiss.pk]),
            {"note": "平台测试数据"},
        ).status_code,
        "retry": client.post(
            _changelist(OutboundMessage),
            {"action": "retry_selected", "_selected_action": [message.pk]},
        ).status_code,
    }
    preview = _preview(client, mapped, _workbook([SHEET_ROWS[0]]))
    answers["import"] = preview.status_code
    if preview.status_code == 200:
        token = preview.context["confirm_form"].initial["token"]
        answers["import"] = client.post(reverse(IMPORT_URL), {"token": token}).status_code
    to_resolve.refresh_from_db()
    to_dismiss.refresh_from_db()
    message.refresh_from_db()
    answers["done"] = {
        "resolve": to_resolve.state == ReviewState.RESOLVED,
        "dismiss": to_dismiss.state == ReviewState.DISMISSED,
        "retry": message.next_attempt_at <= timezone.now(),
        "import": ExternalCase.objects.filter(system=mapped, external_id="P001").exists()
        and Case.objects.filter(title="菜场门口占道经营").exists(),
    }
    return answers


def test_the_system_administrators_role_resolves_dismisses_imports_and_retries(
    client, world, mapped
):
    client.force_login(_staff(world.sysadmin))
    answers = _decide_import_and_retry(client, world, mapped)
    assert answers["done"] == {"resolve": True, "dismiss": True, "retry": True, "import": True}
    assert answers["resolve"] == answers["dismiss"] == answers["retry"] == 302
    assert answers["import"] in (200, 302)


@pytest.mark.parametrize("role", ["auditor", "leader", "commander"])
def test_a_role_without_the_right_cannot_resolve_dismiss_import_or_retry(
    client, world, mapped, role
):
    client.force_login(_staff(getattr(world, role)))
    answers = _decide_import_and_retry(client, world, mapped)
    assert answers["done"] == {
        "resolve": False,
        "dismiss": False,
        "retry": False,
        "import": False,
    }
    assert answers["resolve"] == answers["dismiss"] == answers["retry"] == 403
    assert answers["import"] == 403
