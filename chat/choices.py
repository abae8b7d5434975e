from django.db import models
from django.utils.translation import gettext_lazy as _


class MessageKind(models.TextChoices):
    TEXT = "text", _("Text")
    IMAGE = "image", _("Photo")
    VOICE = "voice", _("Voice note")
    VIDEO = "video", _("Video")
    FILE = "file", _("File")
    SYSTEM = "system", _("System message")


#: Kinds carried by an uploaded attachment.
ATTACHMENT_KINDS = (MessageKind.IMAGE, MessageKind.VOICE, MessageKind.VIDEO, MessageKind.FILE)
