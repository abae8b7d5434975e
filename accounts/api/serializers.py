from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import RoleAssignment, User


class UserBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ("id", "name")


class RoleSerializer(serializers.ModelSerializer):
    role_label = serializers.CharField(source="get_role_display", read_only=True)
    area = serializers.SerializerMethodField()
    department = serializers.SerializerMethodField()

    class Meta:
        model = RoleAssignment
        fields = ("role", "role_label", "area", "department")

    def get_area(self, obj) -> dict | None:
        return (
            {"id": obj.area.id, "name": obj.area.name, "level": obj.area.level}
            if obj.area
            else None
        )

    def get_department(self, obj) -> dict | None:
        return {"id": obj.department.id, "name": obj.department.name} if obj.department else None


class WaitingSerializer(serializers.Serializer):
    to_review = serializers.IntegerField(help_text=_("Cases waiting for my review."))
    invitations = serializers.IntegerField(help_text=_("Invitations waiting for my answer."))
    to_rate = serializers.IntegerField(help_text=_("My completed cases waiting for my rating."))
    notifications = serializers.IntegerField(help_text=_("My unread notifications."))


class MeSerializer(serializers.ModelSerializer):
    roles = RoleSerializer(source="role_assignments", many=True, read_only=True)
    waiting = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ("id", "username", "name", "roles", "waiting")

    def get_waiting(self, obj) -> WaitingSerializer:
        return self.context["waiting"]


class LogoutSerializer(serializers.Serializer):
    refresh = serializers.CharField()
