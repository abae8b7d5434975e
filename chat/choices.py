from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class MessageKind(models.TextChoices):
    TEXT = "text", pgettext_lazy("message kind", "Text")
    IMAGE = "image", pgettext_lazy("message kind", "Photo")
    VOICE = "voice", _("Voice note")
    VIDEO = "video", _("Video")
    FILE = "file", _("File")
    SYSTEM = "system", _("System message")


#: Kinds carried by an uploaded attachment.
ATTACHMENT_KINDS = (MessageKind.IMAGE, MessageKind.VOICE, MessageKind.VIDEO, MessageKind.FILE)
