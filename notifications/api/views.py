"""My inbox: what I was told about cases, newest first; mark read."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.pagination import NewestFirstCursorPagination
from core.api.throttles import WriteThrottle
from notifications import services
from notifications.models import Notification


class NotificationCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    title = serializers.CharField()
    state = serializers.CharField()


class NotificationSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    message = serializers.CharField(read_only=True)
    case = NotificationCaseSerializer(read_only=True)
    is_read = serializers.BooleanField(read_only=True)

    class Meta:
        model = Notification
        fields = (
            "id",
            "kind",
            "kind_label",
            "message",
            "case",
            "event",
            "created_at",
            "read_at",
            "is_read",
        )


class ReadAllSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text=_("How many notifications were marked read."))


class NotificationFilter(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(
        field_name="read_at", lookup_expr="isnull", label=_("Only unread (true) or read (false)")
    )

    class Meta:
        model = Notification
        fields = ["kind", "case"]


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """My own notifications; nobody reads another person's inbox."""

    serializer_class = NotificationSerializer
    pagination_class = NewestFirstCursorPagination
    filterset_class = NotificationFilter
    throttle_classes = [WriteThrottle]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return Notification.objects.none()
        return Notification.objects.filter(recipient=self.request.user).select_related(
            "case", "event__actor"
        )

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = services.mark_read(self.get_object(), actor=request.user)
        return Response(NotificationSerializer(notification).data)

    @extend_schema(request=None, responses=ReadAllSerializer)
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return Response({"marked": services.mark_all_read(actor=request.user)})
