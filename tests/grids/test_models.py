"""The area tree: paths, subtrees, moves, and the level rule."""

import pytest
from django.core.exceptions import ValidationError

from departments.models import Department
from grids.models import Area
from tests.factories import make_area

pytestmark = pytest.mark.django_db


def test_subtree_is_everything_under_a_node(world):
    assert set(Area.objects.subtree(world.grid)) == {
        world.grid,
        world.community,
        world.other_community,
    }
    assert world.district not in Area.objects.subtree(world.town, include_self=False)
    assert list(world.community.ancestors()) == [world.district, world.town, world.grid]
    assert world.community.ancestor_at(2) == world.town


def test_moving_a_grid_moves_its_communities(world):
    other_town = make_area(2, world.district, code="T2", name="奉城镇")
    world.grid.parent = other_town
    world.grid.save()
    world.community.refresh_from_db()
    assert world.community.path == f"/310120/T2/{world.grid.code}/{world.community.code}/"
    assert world.community in Area.objects.subtree(other_town)
    assert world.community not in Area.objects.subtree(world.town)


def test_recoding_a_node_rewrites_the_paths_below(world):
    world.town.code = "NQ"
    world.town.save()
    world.community.refresh_from_db()
    assert world.community.path.startswith("/310120/NQ/")


@pytest.mark.parametrize(("level", "parent_attr"), [(4, "town"), (3, "district"), (2, None)])
def test_a_node_sits_exactly_one_level_below_its_parent(world, level, parent_attr):
    area = Area(
        code="BAD",
        name="错层",
        level=level,
        parent=getattr(world, parent_attr) if parent_attr else None,
    )
    with pytest.raises(ValidationError):
        area.full_clean()


def test_a_node_cannot_move_under_itself(world):
    world.town.parent = world.grid
    world.town.level = 4
    with pytest.raises(ValidationError):
        world.town.full_clean()


def test_departments_serving_a_community(world):
    town_dept = Department.objects.create(
        code="NQ-CG", name="南桥城管中队", level="town", kind="enforcement", town=world.town
    )
    town_dept.served_areas.add(world.town)
    elsewhere = Department.objects.create(
        code="X", name="别处部门", level="district", kind="management"
    )
    elsewhere.served_areas.add(make_area(2, world.district, code="T9", name="别镇"))
    serving = set(Department.objects.serving(world.community))
    assert {world.dept_a, world.dept_b, town_dept} <= serving and elsewhere not in serving
