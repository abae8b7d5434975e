"""Who reads which case: ``Case.objects.visible_to``."""

import pytest

from accounts.choices import Role
from cases.models import Case
from tests.factories import UserFactory, grant, make_area

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(world, case_in):
    """A draft and a live case of the world's community, and a live case elsewhere."""
    other_grid = make_area(3, world.town, code="G2", name="南桥第二网格")
    far = make_area(4, other_grid, code="C9", name="远方村")
    far_official = UserFactory(username="far_official")
    grant(far_official, Role.VILLAGE_OFFICIAL, area=far)
    from cases import services

    far_case = services.create_case(
        actor=far_official, community=far, title="远方的案件", template=world.template
    )
    return {
        "draft": case_in("draft"),
        "live": case_in("dispatched", invite=("staff_a",)),
        "far": far_case,
    }


def visible(user):
    return set(Case.objects.visible_to(user).values_list("title", "state"))


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        ("official", {"draft", "live"}),
        ("other_official", set()),
        ("commander", {"draft", "live"}),
        ("grid_leader", {"draft", "live"}),
        ("leader", {"draft", "live", "far"}),
        ("staff_a", {"live"}),
        ("staff_a2", set()),
        ("staff_b", set()),
        ("head_a", {"live"}),
        ("auditor", {"draft", "live", "far"}),
        ("sysadmin", {"draft", "live", "far"}),
        ("stranger", set()),
        ("superuser", {"draft", "live", "far"}),
    ],
)
def test_each_role_sees_what_it_should(world, cases, role, sees):
    user = getattr(world, role)
    ids = set(Case.objects.visible_to(user).values_list("pk", flat=True))
    assert ids == {cases[name].pk for name in sees}


def test_staff_see_an_invited_case_only_once_it_is_dispatched(world, case_in):
    case = case_in("pending_review", invite=("staff_b",))
    assert not Case.objects.visible_to(world.staff_b).filter(pk=case.pk).exists()
    from cases import services

    services.approve_case(case, actor=world.commander)
    assert Case.objects.visible_to(world.staff_b).filter(pk=case.pk).exists()


def test_inactive_and_anonymous_see_nothing(world, cases):
    from django.contrib.auth.models import AnonymousUser

    assert Case.objects.visible_to(world.auditor).exists()  # while active, the auditor sees all
    world.auditor.is_active = False
    assert not Case.objects.visible_to(world.auditor).exists()
    assert not Case.objects.visible_to(AnonymousUser()).exists()
    assert not Case.objects.visible_to(None).exists()
