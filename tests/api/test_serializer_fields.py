"""The project's model serializers build their fields once per class (core.api.serializers).

What must hold: every model serializer of the API has exactly the fields DRF would
build for it, however many times it is used, and no two instances share a field
object (a field is bound to one serializer: its parent, its name, its data).
"""

from __future__ import annotations

import django.urls
import pytest
from rest_framework import serializers as drf

from core.api.serializers import ModelSerializer


def _import_api() -> None:
    """Import every API module the URLconf names (where the serializers are defined)."""
    assert django.urls.get_resolver().url_patterns


def _all_subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_all_subclasses(sub))
    return found


def _project_model_serializers() -> list[type]:
    _import_api()
    classes = [c for c in _all_subclasses(ModelSerializer) if not c.__module__.startswith("tests")]
    return sorted(set(classes), key=lambda c: f"{c.__module__}.{c.__qualname__}")


def test_every_api_model_serializer_uses_the_base():
    """No model serializer of the project's API bypasses the cached base."""
    _import_api()
    plain = [
        f"{c.__module__}.{c.__qualname__}"
        for c in _all_subclasses(drf.ModelSerializer)
        if not issubclass(c, ModelSerializer)
        and c.__module__.split(".")[0]
        in {
            "cases",
            "accounts",
            "chat",
            "grids",
            "templates",
            "notifications",
            "integrations",
            "departments",
            "ratings",
            "analytics",
            "audit",
            "core",
        }
    ]
    assert plain == []


@pytest.mark.parametrize(
    "cls", _project_model_serializers(), ids=lambda c: f"{c.__module__}.{c.__qualname__}"
)
def test_fields_are_drfs_own_on_every_use(cls):
    fresh = drf.ModelSerializer.get_fields(cls())  # DRF's build, no cache
    for _ in range(3):  # the first use builds the prototype, later ones copy it
        first, second = cls(), cls()
        assert {k: repr(v) for k, v in first.fields.items()} == {
            k: repr(v) for k, v in fresh.items()
        }
        for name, field in first.fields.items():
            assert field is not second.fields[name]
            assert field.parent is first
            assert field.field_name == name
