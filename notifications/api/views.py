"""My inbox: what I was told about cases, newest first; mark read."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.pagination import NewestFirstCursorPagination
from core.api.throttles import WriteThrottle
from core.api.viewsets import ScopedGenericViewSet
from notifications import services
from notifications.api.serializers import NotificationSerializer, ReadAllSerializer
from notifications.models import Notification


class NotificationFilter(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(
        field_name="read_at", lookup_expr="isnull", label=_("Only unread (true) or read (false)")
    )

    class Meta:
        model = Notification
        fields = ["kind", "case"]


class NotificationViewSet(mixins.ListModelMixin, ScopedGenericViewSet):
    """My own notifications; nobody reads another person's inbox.

    ``Notification.objects.visible_to`` gives superusers everyone's (for the
    admin); the inbox keeps only the asker's own.
    """

    queryset = Notification.objects.select_related("case", "event__actor")
    serializer_class = NotificationSerializer
    pagination_class = NewestFirstCursorPagination
    filterset_class = NotificationFilter
    throttle_classes = [WriteThrottle]

    def get_queryset(self):
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return queryset
        return queryset.filter(recipient=self.request.user)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = services.mark_read(self.get_object(), actor=request.user)
        return Response(NotificationSerializer(notification).data)

    @extend_schema(request=None, responses=ReadAllSerializer)
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return Response({"marked": services.mark_all_read(actor=request.user)})
