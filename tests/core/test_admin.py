"""Every admin page of every registered model renders for a superuser."""

from __future__ import annotations

import pytest
import tablib
from django.contrib import admin
from django.urls import reverse

from ratings.models import Rating

pytestmark = pytest.mark.django_db


@pytest.fixture
def populated(world, case_in, settings, tmp_path):
    """At least one row of every registered model."""
    settings.MEDIA_ROOT = tmp_path
    from django.contrib.auth.models import Group

    case_in("closed")
    live = case_in("in_progress")
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from chat.services import post_attachment

    photo = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(photo, "PNG")
    upload = SimpleUploadedFile("site.png", photo.getvalue(), content_type="image/png")
    post_attachment(live, sender=world.official, kind="image", file=upload)
    Group.objects.create(name="值班人员")
    from rest_framework_simplejwt.tokens import RefreshToken

    RefreshToken.for_user(world.official).blacklist()  # a logged-out phone
    from django.test import Client

    from accounts import twofactor
    from tests.factories import authenticator_code

    device = twofactor.pending_device(world.sysadmin)  # an authenticator and recovery codes
    assert twofactor.confirm(world.sysadmin, device, authenticator_code(device))
    browser = Client()  # a good and a failed log-in: the lock-out's access and attempt logs
    browser.post(reverse("admin:login"), {"username": "root", "password": "Root-Pass-2024"})
    browser.post(reverse("admin:login"), {"username": "root", "password": "wrong-Password-1"})
    assert Rating.objects.exists()
    _supervision_and_integration(world, live)
    return world


def _supervision_and_integration(world, live) -> None:
    """Rows of the supervision and integration models (a sweep, an order, an import…)."""
    from datetime import date, timedelta

    from django.utils import timezone

    from cases import services
    from cases.models import Holiday
    from core.services import record_task_failure
    from integrations import services as intake
    from integrations.models import AreaMapping, CategoryMapping, ExternalSystem

    Holiday.objects.create(date=date(2026, 10, 1), name="国庆节")
    services.issue_supervision_order(
        live,
        actor=world.leader,
        instruction="今日内处理",
        due_at=timezone.now() + timedelta(hours=2),
    )
    services.request_extension(
        live, actor=world.staff_a, reason="等待材料", until=live.deadline + timedelta(days=1)
    )
    services.sweep_deadlines(now=live.deadline + timedelta(minutes=1))
    system = ExternalSystem.objects.create(
        code="ywtg", name="一网统管", callback_url="http://127.0.0.1:9/cb"
    )
    CategoryMapping.objects.create(system=system, external_code="C01", template=world.template)
    AreaMapping.objects.create(system=system, external_code="A01", community=world.community)
    for category in ("C01", "C99"):  # one case taken in, one waiting for review
        data = {"external_id": f"X-{category}", "category_code": category, "area_code": "A01"}
        data["title"] = "占道经营"
        result = intake.take_in(system, intake.parse_platform_case(system, data))
        intake.record_delivery(
            system, channel="intake", status_code=201, outcome=result.outcome, result=result
        )
    intake.deliver_due()  # nobody listens on port 9: one failed attempt
    record_task_failure(name="cases.sweep_deadlines", task_id="t-1", arguments={}, error="boom")


def _registered():
    return sorted(admin.site._registry.items(), key=lambda kv: kv[0]._meta.label)


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_changelist_and_search_renders(client, populated):
    client.force_login(populated.superuser)
    for model, _model_admin in _registered():
        response = client.get(_url(model, "changelist"))
        assert response.status_code == 200, model
        assert client.get(_url(model, "changelist"), {"q": "奉贤"}).status_code == 200, model


def test_every_add_page_renders_or_is_refused(client, populated, rf):
    client.force_login(populated.superuser)
    for model, model_admin in _registered():
        request = rf.get("/")
        request.user = populated.superuser
        expected = 200 if model_admin.has_add_permission(request) else 403
        assert client.get(_url(model, "add")).status_code == expected, model


def test_every_change_page_renders(client, populated):
    client.force_login(populated.superuser)
    for model, _model_admin in _registered():
        obj = model._default_manager.order_by("pk").first()
        assert obj is not None, f"no {model._meta.label} row to open"
        response = client.get(_url(model, "change", obj.pk))
        assert response.status_code == 200, model


def test_import_and_export_pages_render(client, populated):
    client.force_login(populated.superuser)
    pages = 0
    for model, model_admin in _registered():
        info = (model._meta.app_label, model._meta.model_name)
        if hasattr(model_admin, "export_action"):
            assert client.get(reverse("admin:{}_{}_export".format(*info))).status_code == 200, model
            pages += 1
        if hasattr(model_admin, "import_action"):
            assert client.get(reverse("admin:{}_{}_import".format(*info))).status_code == 200, model
            pages += 1
    assert pages >= 18  # 8 importable resources × 2, plus case and rating exports


def test_admin_import_previews_then_confirms_and_refuses_a_bad_file(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from ratings.models import Criterion
    from ratings.resources import CriterionResource

    client.force_login(world.superuser)
    url = reverse("admin:ratings_criterion_import")
    headers = CriterionResource().get_export_headers()

    def upload(rows):
        data = tablib.Dataset(*rows, headers=headers).export("csv").encode()
        return client.post(
            url,
            {
                "resource": 0,
                "format": 1,
                "import_file": SimpleUploadedFile("c.csv", data, content_type="text/csv"),
            },
        )

    bad = upload([["speed", "响应速度", "1", 3, "是"], ["heavy", "过重", "不知道", 4, "是"]])
    assert (
        bad.status_code == 200
        and not Criterion.objects.filter(code__in=["speed", "heavy"]).exists()
    )
    assert bad.context.get("confirm_form") is None  # nothing to confirm
    result = bad.context["result"]
    assert [row.number for row in result.invalid_rows] + [n for n, _ in result.row_errors()] == [2]
    good = upload([["speed", "响应速度", "1", 3, "是"]])
    confirm = good.context["confirm_form"]
    assert not Criterion.objects.filter(code="speed").exists()  # previewed, not yet saved
    response = client.post(reverse("admin:ratings_criterion_process_import"), confirm.initial)
    assert response.status_code == 302
    assert Criterion.objects.get(code="speed").name == "响应速度"


def test_admin_export_downloads_a_spreadsheet(client, populated):
    client.force_login(populated.superuser)
    response = client.post(
        reverse("admin:departments_department_export"),
        {
            "format": 0,
            "resource": 0,
            **{
                f"departmentresource_{f}": True
                for f in (
                    "code",
                    "name",
                    "short_name",
                    "level",
                    "kind",
                    "town",
                    "served_areas",
                    "phone",
                    "is_active",
                )
            },
        },
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = tablib.Dataset().load(response.content, format="xlsx")
    assert "城管执法局" in sheet["名称"]


def test_admin_speaks_chinese_by_default(client, populated):
    client.force_login(populated.superuser)
    body = client.get(reverse("admin:index")).content.decode()
    assert "金哨" in body


def test_area_changelist_shows_the_tree(client, world):
    client.force_login(world.superuser)
    body = client.get(_url(type(world.town), "changelist")).content.decode()
    # Deeper levels are indented further, in tree (path) order.
    assert (
        body.index("奉贤区")
        < body.index("南桥镇")
        < body.index("南桥第一网格")
        < body.index("曙光村")
    )
    assert 'class="area-tree level-4"' in body  # communities sit at level 4
    subtree = client.get(
        _url(type(world.town), "changelist"), {"path__startswith": world.grid.path}
    )
    text = subtree.content.decode()
    assert "曙光村" in text and "南桥镇</span>" not in text


def test_saving_a_workstation_grants_the_commanders_role(client, world):
    from accounts.choices import Role
    from accounts.models import RoleAssignment
    from grids.models import Workstation
    from tests.factories import UserFactory

    client.force_login(world.superuser)
    new_commander = UserFactory(username="cmd2", name="新指挥长")
    station = Workstation.objects.get(grid=world.grid)
    response = client.post(
        _url(Workstation, "change", station.pk),
        {
            "grid": world.grid.pk,
            "name": station.name,
            "address": "",
            "phone": "",
            "commander": new_commander.pk,
            "grid_leader": world.grid_leader.pk,
            "deputy_commanders": [world.official.pk],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert RoleAssignment.objects.filter(
        user=new_commander, role=Role.COMMANDER, area=world.grid
    ).exists()
