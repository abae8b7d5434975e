"""The base of every API view over case rows: the asker's scope applied once, here.

Like NetBox's ``BaseViewSet`` calling ``restrict(user, action)``, a view says
what it reads (``queryset``) and this mixin narrows it to what the asker may
read (``visible_to``), so a new endpoint cannot forget. A row out of scope is
a 404 exactly like one that does not exist.
"""

from __future__ import annotations

from rest_framework import viewsets


class ScopedViewSetMixin:
    """``get_queryset`` is the class's ``queryset`` narrowed by ``visible_to(request.user)``.

    The model's manager must offer ``visible_to(user)`` (``cases.models.CaseQuerySet``,
    ``cases.models.CaseOwnedQuerySet``); ``tests/cases/test_scoping.py`` checks that
    every API view over a case-owned model is built on this mixin. Subclasses add
    per-request annotations by overriding ``get_queryset`` and calling ``super()``.
    """

    def get_queryset(self):
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return queryset.none()
        return queryset.visible_to(self.request.user)


class ScopedGenericViewSet(ScopedViewSetMixin, viewsets.GenericViewSet):
    """A ``GenericViewSet`` whose rows are the asker's only."""
