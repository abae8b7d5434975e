"""A case's room over HTTP: history, sending (text or an upload), read marks, attachments."""

from __future__ import annotations

from django.conf import settings
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.services import audit_request
from cases.models import Case, Invitation
from chat import selectors, services
from chat.choices import ATTACHMENT_KINDS
from chat.models import Message, ReadState
from chat.payloads import message_payload
from core.api.errors import error_body
from core.api.idempotency import idempotent
from core.api.throttles import WriteThrottle
from core.errors import PermissionDenied


class MessageSerializer(serializers.Serializer):
    """A message as the phone shows it (the same shape as on the socket)."""

    id = serializers.IntegerField()
    case = serializers.IntegerField()
    kind = serializers.CharField()
    sender = inline_serializer(
        "MessageSender",
        {"id": serializers.IntegerField(), "name": serializers.CharField()},
        allow_null=True,
    )
    text = serializers.CharField()
    attachment = inline_serializer(
        "MessageAttachment",
        {
            "url": serializers.CharField(),
            "content_type": serializers.CharField(),
            "size": serializers.IntegerField(),
            "width": serializers.IntegerField(
                allow_null=True,
                help_text=gettext_lazy(
                    "Width in pixels as the picture is seen: for a photo, the stored copy's, "
                    "upright whatever the phone's orientation tag said. Empty for sound and files."
                ),
            ),
            "height": serializers.IntegerField(
                allow_null=True,
                help_text=gettext_lazy(
                    "Height in pixels as the picture is seen: for a photo, the stored copy's, "
                    "upright whatever the phone's orientation tag said. Empty for sound and files."
                ),
            ),
            "duration_ms": serializers.IntegerField(allow_null=True),
        },
        allow_null=True,
    )
    event = inline_serializer(
        "MessageEvent",
        {
            "id": serializers.IntegerField(),
            "kind": serializers.CharField(),
            "note": serializers.CharField(),
        },
        allow_null=True,
    )
    client_id = serializers.CharField()
    created_at = serializers.DateTimeField()


class HistorySerializer(serializers.Serializer):
    messages = MessageSerializer(many=True)
    has_more = serializers.BooleanField()
    last_read_id = serializers.IntegerField()


class HistoryQuerySerializer(serializers.Serializer):
    after = serializers.IntegerField(
        min_value=0, required=False, default=0, help_text=gettext_lazy("Messages after this id.")
    )
    before = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text=gettext_lazy("Instead: the newest messages before this id (scrolling back)."),
    )
    limit = serializers.IntegerField(min_value=1, max_value=200, required=False, default=100)


class PostSerializer(serializers.Serializer):
    """JSON for text; multipart with ``kind`` and ``file`` for an upload (``text`` is its caption)."""

    text = serializers.CharField(required=False, allow_blank=True)
    client_id = serializers.CharField(required=False, allow_blank=True, max_length=64)
    kind = serializers.ChoiceField(choices=[str(k) for k in ATTACHMENT_KINDS], required=False)
    file = serializers.FileField(required=False)


class ReadSerializer(serializers.Serializer):
    up_to = serializers.IntegerField(min_value=0)


def _case_for(request, case_id: int) -> Case:
    """The case if the asker may read its room: 404 if they can't see it, 403 if not in it.

    A person once invited to the case (then withdrawn, or who declined or returned it)
    already knows it exists: they get 403 saying why, not a bare 404, so a message the
    phone queued before the change is shown refused with a reason.
    """
    case = (
        Case.objects.visible_to(request.user).select_related("community").filter(pk=case_id).first()
    )
    if case is None:
        if Invitation.objects.filter(case_id=case_id, person_id=request.user.pk).exists():
            raise PermissionDenied(
                _(
                    "You are no longer on this case (withdrawn, declined or returned): "
                    "its room is closed to you."
                )
            )
        raise Http404
    if not selectors.can_read(case, request.user):
        raise PermissionDenied(_("You are not in the room of this case."))
    return case


class MessageListView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(parameters=[HistoryQuerySerializer], responses=HistorySerializer)
    def get(self, request, id: int):  # noqa: A002  (the case id, `{id}` like cases/{id}/)
        """What was said in the room: ``after`` an id (catching up) or ``before`` one."""
        case = _case_for(request, id)
        query = HistoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        messages, has_more = services.history(
            case, after=params["after"], before=params.get("before"), limit=params["limit"]
        )
        last_read = (
            ReadState.objects.visible_to(request.user)
            .filter(case=case)
            .values_list("last_read_id", flat=True)
            .first()
        )
        return Response(
            {
                "messages": [message_payload(m) for m in messages],
                "has_more": has_more,
                "last_read_id": last_read or 0,
            }
        )

    @extend_schema(
        request={"application/json": PostSerializer, "multipart/form-data": PostSerializer},
        responses={
            201: MessageSerializer,
            200: OpenApiResponse(MessageSerializer, description=gettext_lazy("A resend.")),
        },
    )
    @idempotent
    def post(self, request, id: int):  # noqa: A002  (the case id, `{id}` like cases/{id}/)
        """Send a text, or upload a photo, voice note, video or file (multipart)."""
        largest = max(settings.JINSHAO_UPLOAD_LIMITS.values()) + 64 * 1024
        if int(request.META.get("CONTENT_LENGTH") or 0) > largest:  # before reading the body
            return Response(
                error_body(
                    "request_too_large",
                    _("The request is too large: at most %(size)s.")
                    % {"size": filesizeformat(largest)},
                ),
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        case = _case_for(request, id)
        data = PostSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        if "file" in fields or "kind" in fields:
            posted = services.post_attachment(
                case,
                sender=request.user,
                kind=fields.get("kind", ""),
                file=fields.get("file"),
                caption=fields.get("text", ""),
                client_id=fields.get("client_id", ""),
            )
        else:
            posted = services.post_text(
                case,
                sender=request.user,
                text=fields.get("text", ""),
                client_id=fields.get("client_id", ""),
            )
        message = Message.objects.select_related("sender", "attachment", "event__actor").get(
            pk=posted.message.pk
        )
        return Response(
            message_payload(message),
            status=status.HTTP_201_CREATED if posted.created else status.HTTP_200_OK,
        )


class ReadMarkView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        request=ReadSerializer,
        responses=inline_serializer("ReadMark", {"last_read_id": serializers.IntegerField()}),
    )
    def post(self, request, id: int):  # noqa: A002  (the case id, `{id}` like cases/{id}/)
        """I have read the room up to this message."""
        case = _case_for(request, id)
        data = ReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        last = services.mark_read(case, user=request.user, up_to=data.validated_data["up_to"])
        return Response({"last_read_id": last})


class AttachmentView(APIView):
    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiResponse(description="The file.")}
    )
    def get(self, request, pk: int):
        """The file of a message, for the people who may read its room."""
        message = get_object_or_404(
            Message.objects.visible_to(request.user)
            .select_related("case__community", "attachment")
            .filter(attachment__isnull=False),
            pk=pk,
        )
        if not selectors.can_read(message.case, request.user):
            raise PermissionDenied(_("You are not in the room of this case."))
        attachment = message.attachment
        assert attachment is not None
        audit_request(request, "attachment.download", obj=attachment, case=message.case.number)
        name = attachment.file.name or ""
        extension = name.rsplit(".", 1)[-1] if "." in name else "bin"
        response = FileResponse(
            attachment.file.open("rb"),
            content_type=attachment.content_type,
            as_attachment=True,  # never rendered by a browser as a page of ours
            filename=f"{message.case.number}-{message.pk}.{extension}",
        )
        response["Cache-Control"] = "private, max-age=3600"
        return response
