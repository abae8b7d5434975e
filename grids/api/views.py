"""The area picker: the villages and communities the asker may raise cases for."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework import mixins, serializers, viewsets

from accounts.choices import Role
from accounts.selectors import area_paths
from core.api.pagination import PickerPagination
from core.api.serializers import ModelSerializer
from grids.models import Area


class AreaRefSerializer(ModelSerializer):
    class Meta:
        model = Area
        fields = ("id", "code", "name")


class RaisableAreaSerializer(ModelSerializer):
    """A village or community with the grid and town it belongs to."""

    community_kind_label = serializers.CharField(
        source="get_community_kind_display", read_only=True
    )
    grid = AreaRefSerializer(source="parent", read_only=True)
    town = AreaRefSerializer(source="parent.parent", read_only=True, allow_null=True)

    class Meta:
        model = Area
        fields = ("id", "code", "name", "community_kind", "community_kind_label", "grid", "town")


class AreaFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Name or code contains"))

    class Meta:
        model = Area
        fields: list[str] = []

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(code__icontains=value))


class AreaViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Villages and communities I may raise cases for, in tree order."""

    serializer_class = RaisableAreaSerializer
    pagination_class = PickerPagination
    filterset_class = AreaFilter

    def get_queryset(self):
        user = self.request.user
        queryset = Area.objects.communities().filter(is_active=True)
        if not user.is_superuser:
            paths = area_paths(user, [Role.VILLAGE_OFFICIAL, Role.COMMANDER])
            if not paths:
                return queryset.none()
            scope = Q()
            for path in paths:
                scope |= Q(path__startswith=path)
            queryset = queryset.filter(scope)
        return queryset.select_related("parent__parent").order_by("path")
