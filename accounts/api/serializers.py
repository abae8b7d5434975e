from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenObtainSerializer

from accounts.lockout import one_attempt_at_a_time
from accounts.models import RoleAssignment, User
from core.api.serializers import ModelSerializer


class UserBriefSerializer(ModelSerializer):
    class Meta:
        model = User
        fields = ("id", "name")


class RoleAreaSerializer(serializers.Serializer):
    """The area a role covers (its whole subtree)."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    level = serializers.IntegerField(help_text=_("1 district, 2 town, 3 grid, 4 community."))


class RoleDepartmentSerializer(serializers.Serializer):
    """The department a role is held in."""

    id = serializers.IntegerField()
    name = serializers.CharField()


class RoleSerializer(ModelSerializer):
    role_label = serializers.CharField(source="get_role_display", read_only=True)
    area = RoleAreaSerializer(read_only=True, allow_null=True)
    department = RoleDepartmentSerializer(read_only=True, allow_null=True)

    class Meta:
        model = RoleAssignment
        fields = ("role", "role_label", "area", "department")


class WaitingSerializer(serializers.Serializer):
    to_review = serializers.IntegerField(help_text=_("Cases waiting for my review."))
    invitations = serializers.IntegerField(help_text=_("Invitations waiting for my answer."))
    to_rate = serializers.IntegerField(help_text=_("My completed cases waiting for my rating."))
    notifications = serializers.IntegerField(help_text=_("My unread notifications."))
    messages = serializers.IntegerField(
        help_text=_("Unread messages in the rooms of my open cases.")
    )


class UnreadRoomSerializer(serializers.Serializer):
    case = serializers.IntegerField()
    number = serializers.CharField()
    unread = serializers.IntegerField()


class MeSerializer(ModelSerializer):
    roles = RoleSerializer(source="role_assignments", many=True, read_only=True)
    password_expired = serializers.BooleanField(read_only=True)
    waiting = serializers.SerializerMethodField()
    unread_rooms = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ("id", "username", "name", "password_expired", "roles", "waiting", "unread_rooms")

    def get_waiting(self, obj) -> WaitingSerializer:
        return self.context["waiting"]

    @extend_schema_field(UnreadRoomSerializer(many=True))
    def get_unread_rooms(self, obj) -> list[dict]:
        """Open rooms with unread messages, most unread first (at most 50)."""
        return self.context["unread_rooms"]


class LoginSerializer(TokenObtainPairSerializer):
    """Username and password in, a token pair out; one attempt at a time per account
    and address, so django-axes' lock-out check and failure count happen together."""

    class Meta:
        ref_name = "TokenObtainPair"  # the component's name in the schema, as before

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # No longer than a username can be: the lock-out records would refuse it.
        max_length = User._meta.get_field(self.username_field).max_length
        self.fields[self.username_field] = serializers.CharField(
            write_only=True, max_length=max_length
        )
        # Read by the view when the account needs a second factor; described here.
        self.fields["otp"] = serializers.CharField(
            write_only=True,
            required=False,
            allow_blank=True,
            max_length=16,
            help_text=_(
                "The authenticator's 6-digit code, or a recovery code, "
                "when the account needs a second factor."
            ),
        )

    def validate(self, attrs):
        """Check the password (``self.user``); the view issues the pair once any second
        factor is checked too (``accounts.api.tokens.token_pair``)."""
        with one_attempt_at_a_time(self.context["request"], attrs[self.username_field]):
            return TokenObtainSerializer.validate(self, attrs)


class LogoutSerializer(serializers.Serializer):
    refresh = serializers.CharField()


class SocketTicketSerializer(serializers.Serializer):
    ticket = serializers.CharField(help_text=_("Put it in the socket URL: ?ticket=…"))
    expires_in = serializers.IntegerField(help_text=_("Seconds the ticket stays valid."))


class PasswordChangeSerializer(serializers.Serializer):
    old_password = serializers.CharField(write_only=True, trim_whitespace=False)
    new_password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=128)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
