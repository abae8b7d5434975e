"""The project's base model serializer: fields built once per class, copied per use.

DRF's ``ModelSerializer`` builds its fields on every instance: it reads the model's
options and turns each model field into a serializer field (``build_field``,
``get_field_kwargs``, validators, labels). A write's answer (the case detail with
its invitations and people) builds several serializers, and the replay's profile
(docs/benchmarks.md, issue 16) showed that introspection as a tenth of a write's CPU.

``ModelSerializer.get_fields`` here builds the fields the first time a class is used
and hands every instance a deep copy, which is what DRF itself does with declared
fields (``Serializer.get_fields``): each instance still gets its own field objects,
bound to it alone. A copy costs about a third of a build. The fields depend only on
the class and its ``Meta`` (never on the instance, data or context; a serializer
whose fields do must override ``get_fields`` itself).
"""

from __future__ import annotations

import copy
from typing import Any

from rest_framework import serializers


class ModelSerializer(serializers.ModelSerializer):
    """``rest_framework.serializers.ModelSerializer`` with its fields built once per class."""

    def get_fields(self) -> dict[str, Any]:
        """A deep copy of the class's fields, built by DRF on the class's first use."""
        cls = type(self)
        prototype = cls.__dict__.get("_field_prototype")
        if prototype is None:
            prototype = super().get_fields()
            cls._field_prototype = prototype
        return copy.deepcopy(prototype)
