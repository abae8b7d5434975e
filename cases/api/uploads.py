"""``POST /api/v1/uploads/``: a photo for a template's photo field, before the case exists.

The answer's ``id`` goes into the photo field's list (``answers: {"photos": [id, …]}``)
when the case is raised or its draft edited (``cases.uploads``).
"""

from __future__ import annotations

import uuid

from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from cases import uploads
from cases.models import Case, PhotoUpload
from core.api.idempotency import idempotent
from core.api.serializers import ModelSerializer
from core.api.throttles import WriteThrottle


class PhotoUploadSerializer(ModelSerializer):
    class Meta:
        model = PhotoUpload
        fields = ("id", "content_type", "size", "width", "height", "created_at", "expires_at")
        read_only_fields = fields


class PhotoUploadInputSerializer(serializers.Serializer):
    file = serializers.ImageField(
        help_text="A photo (JPEG, PNG, HEIC, WebP …); it is re-encoded as JPEG."
    )


class PhotoUploadViewSet(viewsets.GenericViewSet):
    """Photos for template fields: upload one, read one back."""

    serializer_class = PhotoUploadSerializer
    throttle_classes = [WriteThrottle]
    queryset = PhotoUpload.objects.none()
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": PhotoUploadInputSerializer},
        responses={201: PhotoUploadSerializer},
        description=(
            "Upload one photo for a template's photo field before the case exists. It is "
            "checked by its content and re-encoded like a chat photo (upright, shrunk, no "
            "metadata or GPS position, stamped with who and when). Give the answer's `id` in "
            "the photo field's list when raising the case (`POST cases/`) or editing its "
            "draft; only its uploader may use it, once, before `expires_at`."
        ),
    )
    @idempotent
    def create(self, request):
        file = request.FILES.get("file")
        if file is None:
            from django.utils.translation import gettext as _

            from core.errors import ValidationFailed

            raise ValidationFailed(
                _("Choose a photo."), fields={"file": [_("This field is required.")]}
            )
        upload = uploads.store_photo(uploader=request.user, file=file)
        return Response(PhotoUploadSerializer(upload).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={(200, "image/jpeg"): OpenApiResponse(description="The photo (JPEG).")}
    )
    @action(detail=True, methods=["get"])
    def file(self, request, pk=None):
        """The photo, to its uploader and to whoever may see the case it is on."""
        try:
            pk = uuid.UUID(str(pk))
        except ValueError:  # 36 hex digits without dashes pass the URL pattern
            raise Http404 from None
        visible_cases = Case.objects.visible_to(request.user).values("pk")
        upload = get_object_or_404(
            PhotoUpload.objects.filter(Q(uploader=request.user) | Q(case__in=visible_cases)),
            pk=pk,
        )
        response = FileResponse(
            upload.file.open("rb"),
            content_type="image/jpeg",
            as_attachment=True,
            filename=f"{upload.pk}.jpg",
        )
        response["Cache-Control"] = "private, max-age=3600"
        return response
