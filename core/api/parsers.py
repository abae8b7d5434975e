"""The API's parsers: DRF's own, refusing text the database cannot store.

Every body the API reads goes through one of these (``REST_FRAMEWORK
["DEFAULT_PARSER_CLASSES"]``), so an endpoint cannot forget the check. A
refused body raises ``core.text.RefusedCharacters`` while ``request.data`` is
first read, before the view validates or saves anything; the API answers 400
``invalid_characters`` with the field's dotted path (``core.api.errors``).
"""

from __future__ import annotations

from rest_framework import parsers

from core.text import refuse_characters


class JSONParser(parsers.JSONParser):
    """JSON, nested objects and lists included (template ``answers``)."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        refuse_characters(data)
        return data


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        refuse_characters(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    """Fields and the names of uploaded files (a file's name is stored)."""

    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        refuse_characters(result.data)
        for key, uploads in result.files.lists():
            for upload in uploads:
                refuse_characters(upload.name or "", key)
        return result
