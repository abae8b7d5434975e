"""Every admin page of every registered model renders for a superuser."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from ratings.models import Rating

pytestmark = pytest.mark.django_db


@pytest.fixture
def populated(world, case_in):
    """At least one row of every registered model."""
    from django.contrib.auth.models import Group

    case_in("closed")
    case_in("in_progress")
    Group.objects.create(name="值班人员")
    assert Rating.objects.exists()
    return world


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
    assert "padding-left:4.5em" in body  # level 4 (community)
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
