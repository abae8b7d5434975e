"""Photos uploaded before their case exists, for the template's photo fields.

The phone uploads each photo (``POST /api/v1/uploads/`` → ``store_photo``), gets
its id, and puts the ids in the photo field's answer when it raises or edits
the case: ``["3f2c…", "9a41…"]``. ``claim_photos`` (called by
``cases.services.create_case`` and ``update_draft``) checks every id and
attaches the uploads to the case. A photo is checked and re-encoded exactly
like a chat photo (``chat.media``: by its content, upright, shrunk, stripped of
its metadata and GPS position, stamped with who and when). One not used by a
case within ``UNUSED_HOURS`` expires (``purge_expired_uploads``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import IO, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Case, PhotoUpload
from chat import media
from core.errors import ValidationFailed
from templates.choices import FieldKind

#: Hours an upload no case names stays kept.
UNUSED_HOURS = getattr(settings, "JINSHAO_UPLOAD_UNUSED_HOURS", 24)


def store_photo(*, uploader, file: IO[bytes]) -> PhotoUpload:
    """Check ``file`` as a photo and keep it, re-encoded, owned by ``uploader``.

    Raises ``ValidationFailed`` (not a photo, empty, too large — at most
    ``JINSHAO_UPLOAD_LIMITS["image"]`` bytes — or too many pixels) or
    ``chat.media.Busy``. The stored photo is a JPEG of at most
    ``JINSHAO_IMAGE_MAX_SIDE`` pixels on its longest side.
    """
    media.check_upload("image", file, max_bytes=settings.JINSHAO_UPLOAD_LIMITS["image"])
    font = media.watermark_font()
    name = str(uploader)
    who = name if font and media.font_draws(font, name) else uploader.get_username()
    stamped = media.watermark_image(
        file, lines=[who, timezone.localtime().strftime("%Y-%m-%d %H:%M")], font_path=font
    )
    width, height = media.image_size(stamped)
    now = timezone.now()
    upload = PhotoUpload(
        uploader=uploader,
        content_type="image/jpeg",
        size=len(stamped),
        width=width,
        height=height,
        created_at=now,
        expires_at=now + timedelta(hours=UNUSED_HOURS),
    )
    upload.file.save("photo.jpg", ContentFile(stamped), save=False)
    upload.save()
    return upload


def _photo_ids(template, answers: Any) -> dict[str, list[str]]:
    if template is None or not isinstance(answers, dict):
        return {}
    keys = [f.key for f in template.fields.all() if f.kind == FieldKind.PHOTO]
    return {key: list(answers.get(key) or []) for key in keys if answers.get(key)}


def check_photos(case: Case | None, template, answers: Any, *, actor) -> dict[str, list]:
    """The uploads the photo fields of ``answers`` name, by field, or ``ValidationFailed``
    naming each bad field: an id that is no upload (or not an id), a photo someone else
    uploaded, one already on another case, or one expired. Photos already on ``case``
    stay valid (a draft edited again)."""
    import uuid

    found: dict[str, list] = {}
    errors: dict[str, list[str]] = {}
    for key, ids in _photo_ids(template, answers).items():
        uploads = []
        for raw in ids:
            try:
                pk = uuid.UUID(str(raw))
            except ValueError:
                pk = None
            upload = PhotoUpload.objects.filter(pk=pk).first() if pk else None
            if upload is None:
                errors.setdefault(key, []).append(
                    _("Unknown photo %(id)s: upload it first.") % {"id": raw}
                )
            elif case is not None and upload.case_id == case.pk:
                uploads.append(upload)
            elif upload.uploader_id != getattr(actor, "pk", None):
                errors.setdefault(key, []).append(_("You did not upload this photo."))
            elif upload.case_id is not None:
                errors.setdefault(key, []).append(_("This photo belongs to another case."))
            elif upload.expires_at <= timezone.now():
                errors.setdefault(key, []).append(_("This photo has expired: upload it again."))
            else:
                uploads.append(upload)
        found[key] = uploads
    if errors:
        raise ValidationFailed(
            _("Some photos cannot be used."), fields={f"answers.{k}": v for k, v in errors.items()}
        )
    return found


def attach_photos(case: Case, found: dict[str, list]) -> None:
    """Make the checked uploads the case's (they no longer expire)."""
    ids = [u.pk for uploads in found.values() for u in uploads if u.case_id is None]
    if ids:
        PhotoUpload.objects.filter(pk__in=ids, case__isnull=True).update(case=case)


@transaction.atomic
def purge_expired_uploads(*, now=None) -> int:
    """Delete the uploads no case took before they expired, files included; how many."""
    now = now or timezone.now()
    expired = list(PhotoUpload.objects.filter(case__isnull=True, expires_at__lte=now))
    for upload in expired:
        upload.file.delete(save=False)
    PhotoUpload.objects.filter(pk__in=[u.pk for u in expired]).delete()
    return len(expired)
