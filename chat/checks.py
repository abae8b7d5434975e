"""Start-up checks: a misconfigured watermark font fails at deploy, not on every photo."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.checks import Error, register


@register()
def watermark_font(app_configs, **kwargs) -> list[Error]:
    font = settings.JINSHAO_WATERMARK_FONT
    if not font:
        return []
    if not Path(font).is_file():
        return [
            Error(
                f"JINSHAO_WATERMARK_FONT names {font!r}, which is not a file.",
                hint="Point it at a TrueType/OpenType font with Chinese glyphs, or unset it.",
                id="chat.E001",
            )
        ]
    try:
        from PIL import ImageFont

        ImageFont.truetype(font, 12)
    except OSError as exc:
        return [
            Error(
                f"JINSHAO_WATERMARK_FONT {font!r} cannot be loaded: {exc}",
                id="chat.E002",
            )
        ]
    return []
