"""Start-up checks: a watermark font that cannot draw Chinese fails at deploy, not on every photo."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

#: Characters every CJK font draws: a name in them must not come out as boxes.
_CHINESE_SAMPLE = "张三丰李四王五"


@register()
def watermark_font(app_configs, **kwargs) -> list[CheckMessage]:
    from chat import media

    font = settings.JINSHAO_WATERMARK_FONT
    if not font:
        if media.watermark_font() is None:
            return [
                Warning(
                    "No font with Chinese glyphs is installed: photo watermarks show "
                    "usernames instead of names.",
                    hint="Install fonts-wqy-microhei (bin/setup does) or fonts-noto-cjk, "
                    "or point JINSHAO_WATERMARK_FONT at a CJK font.",
                    id="chat.W001",
                )
            ]
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
        draws_chinese = media.font_draws(font, _CHINESE_SAMPLE)
    except OSError as exc:
        return [
            Error(
                f"JINSHAO_WATERMARK_FONT {font!r} cannot be loaded: {exc}",
                id="chat.E002",
            )
        ]
    if not draws_chinese:
        return [
            Error(
                f"JINSHAO_WATERMARK_FONT {font!r} has no Chinese glyphs: names would be boxes.",
                hint="Point it at a CJK font such as WenQuanYi Micro Hei or Noto Sans CJK SC.",
                id="chat.E003",
            )
        ]
    return []
