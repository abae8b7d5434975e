"""Shared fixtures: a small world with one of every role, and cases in every state."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from accounts.choices import Role
from accounts.models import User
from cases import services
from cases.models import Case
from departments.models import Department
from grids.choices import AreaLevel
from grids.models import Area
from tests.factories import (
    CaseTemplateFactory,
    CategoryFactory,
    CriterionFactory,
    DepartmentFactory,
    MembershipFactory,
    TemplateFieldFactory,
    UserFactory,
    WorkstationFactory,
    grant,
    make_area,
)


@dataclass
class World:
    """One district → town → grid → two communities, two departments, every role."""

    district: Area
    town: Area
    grid: Area
    community: Area
    other_community: Area
    dept_a: Department
    dept_b: Department
    official: User  # village official of ``community`` (the caller)
    other_official: User  # village official of ``other_community``
    commander: User  # commander of ``grid``
    grid_leader: User
    leader: User  # town leader
    staff_a: User  # on the staff of dept_a
    staff_a2: User  # also on the staff of dept_a
    staff_b: User  # on the staff of dept_b
    head_a: User  # head of dept_a
    auditor: User
    sysadmin: User
    stranger: User  # logged in, no role
    superuser: User
    template: object

    def users(self) -> dict[str, User]:
        return {
            name: getattr(self, name)
            for name in (
                "official",
                "other_official",
                "commander",
                "grid_leader",
                "leader",
                "staff_a",
                "staff_a2",
                "staff_b",
                "head_a",
                "auditor",
                "sysadmin",
                "stranger",
                "superuser",
            )
        }


def _services() -> dict[str, bool]:
    """Which real services this run has: PostgreSQL (the default database) and Redis."""
    import os

    from django.db import connection

    return {
        "postgres": connection.vendor == "postgresql",
        "redis": bool(os.environ.get("REDIS_URL")),
    }


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` or ``redis`` need that service; without it they are skipped,
    unless ``JINSHAO_REQUIRE_SERVICES`` is set (CI's second pass), where a missing service
    is an error: a race or two-process test must never silently not run."""
    import os

    have = _services()
    required = os.environ.get("JINSHAO_REQUIRE_SERVICES") == "1"
    missing = sorted(name for name, up in have.items() if not up)
    if required and missing:
        raise pytest.UsageError(
            "JINSHAO_REQUIRE_SERVICES=1 but this run has no " + " and ".join(missing)
        )
    reasons = {
        "postgres": "needs PostgreSQL (DATABASE_URL)",
        "redis": "needs Redis (REDIS_URL)",
    }
    for item in items:
        for name, reason in reasons.items():
            if name in item.keywords and not have[name]:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True)
def _second_factor_off(settings):
    """Most tests are about other things; tests/accounts/test_two_factors.py turns it on."""
    settings.JINSHAO_2FA_ENFORCED = False


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Hashing with the production hasher would dominate the suite's time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(db) -> World:
    district = make_area(AreaLevel.DISTRICT, code="310120", name="奉贤区")
    town = make_area(AreaLevel.TOWN, district, code="310120101", name="南桥镇")
    grid = make_area(AreaLevel.GRID, town, code="310120101G01", name="南桥第一网格")
    community = make_area(AreaLevel.COMMUNITY, grid, code="310120101001", name="曙光村")
    other = make_area(AreaLevel.COMMUNITY, grid, code="310120101002", name="华严村")
    dept_a = DepartmentFactory(code="CG", name="城管执法局")
    dept_b = DepartmentFactory(code="SW", name="水务局", kind="utility")
    dept_a.served_areas.add(district)
    dept_b.served_areas.add(district)

    def person(username, name):
        return UserFactory(username=username, name=name)

    official, other_official = person("official", "张书记"), person("other_official", "李书记")
    commander, grid_leader = person("commander", "王指挥长"), person("grid_leader", "赵网格长")
    leader, auditor, sysadmin = (
        person("leader", "钱镇长"),
        person("auditor", "孙考核"),
        person("sysadmin", "周管理"),
    )
    staff_a, staff_a2, staff_b = (
        person("staff_a", "吴队员"),
        person("staff_a2", "郑队员"),
        person("staff_b", "冯科员"),
    )
    head_a, stranger = person("head_a", "陈局长"), person("stranger", "路人")
    superuser = User.objects.create_superuser("root", password="Root-Pass-2024", name="超级管理员")

    grant(official, Role.VILLAGE_OFFICIAL, area=community)
    grant(other_official, Role.VILLAGE_OFFICIAL, area=other)
    grant(commander, Role.COMMANDER, area=grid)
    grant(grid_leader, Role.GRID_LEADER, area=grid)
    grant(leader, Role.LEADER, area=town)
    grant(auditor, Role.AUDITOR)
    grant(sysadmin, Role.SYSADMIN)
    grant(head_a, Role.DEPARTMENT_HEAD, department=dept_a)
    for user, dept in ((staff_a, dept_a), (staff_a2, dept_a), (staff_b, dept_b)):
        MembershipFactory(user=user, department=dept)
        grant(user, Role.STAFF, department=dept)
    WorkstationFactory(grid=grid, commander=commander, grid_leader=grid_leader)

    CriterionFactory(code="result", name="办理结果", weight=1)
    CriterionFactory(code="conduct", name="工作作风", weight=1)
    template = CaseTemplateFactory(
        code="street_vending", name="占道经营", category=CategoryFactory(name="市容环境")
    )
    template.default_departments.add(dept_a)
    TemplateFieldFactory(template=template, key="stall_count", label="摊位数量", kind="number")
    TemplateFieldFactory(
        template=template, key="goods", label="经营品类", kind="choice", choices="果蔬\n熟食\n其他"
    )
    return World(
        district,
        town,
        grid,
        community,
        other,
        dept_a,
        dept_b,
        official,
        other_official,
        commander,
        grid_leader,
        leader,
        staff_a,
        staff_a2,
        staff_b,
        head_a,
        auditor,
        sysadmin,
        stranger,
        superuser,
        template,
    )


def make_case(world: World, state: str = "draft", *, invite=("staff_a", "staff_b")) -> Case:
    """A case of ``world.community`` driven through the services to ``state``."""
    invitees = [
        (getattr(world, name).memberships.get().department, getattr(world, name)) for name in invite
    ]
    case = services.create_case(
        actor=world.official,
        community=world.community,
        title="路口占道经营",
        template=world.template,
        invitees=invitees,
    )
    if state in ("draft",):
        return case
    if state == "cancelled":
        return services.cancel_case(case, actor=world.official, reason="重复上报")
    services.submit_case(case, actor=world.official)
    if state == "pending_review":
        return case
    services.approve_case(case, actor=world.commander)
    if state == "dispatched":
        return case
    for inv in case.invitations.all():
        services.accept_invitation(inv, actor=inv.person)
    case.refresh_from_db()
    if state == "in_progress":
        return case
    services.complete_case(case, actor=world.official)
    if state == "pending_rating":
        return case
    from ratings.services import rate_department

    for dept in case.participating_departments():
        rate_department(
            case, actor=world.official, department=dept, scores={"result": 95, "conduct": 90}
        )
    assert state == "closed", state
    return case


@pytest.fixture
def case_in(world):
    """``case_in("dispatched")`` → a case of the world in that state."""
    return lambda state, **kw: make_case(world, state, **kw)
