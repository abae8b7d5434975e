"""Paths and query strings with text the database cannot store, refused at the door.

A path parameter or a filter's query string is looked up in the database as
it came (``?q=`` a search, ``/templates/{code}/``); PostgreSQL refuses a NUL
there with a ``DataError`` (a 500), SQLite does not. This middleware is the
one check for every URL of the site, before any view runs: under ``/api/`` it
answers 400 in the API's error shape (code ``invalid_characters``, the
parameter's name in ``fields``); elsewhere (the back office) a plain 400 in the
person's language. Open311 answers such requests itself, in GeoReport's shape
(``integrations.open311.views.endpoint``). Request bodies are checked by the
API's parsers (``core.api.parsers``) and the sockets' ``receive``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

from core.api.errors import error_body
from core.text import RefusedCharacters, find_refused_characters, has_refused_characters

#: Paths that answer refused text in their own shape.
OWN_ANSWER = ("/open311/",)


def refused_in_url(request: HttpRequest) -> RefusedCharacters | None:
    """The refusal for a NUL in ``request``'s path or query string, or None."""
    if has_refused_characters(request.path_info):
        return RefusedCharacters("path")
    found = find_refused_characters(request.GET)
    return RefusedCharacters(found) if found is not None else None


class RefusedCharactersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(OWN_ANSWER):
            return self.get_response(request)
        refusal = refused_in_url(request)
        if refusal is None:
            return self.get_response(request)
        if request.path_info.startswith("/api/"):
            return JsonResponse(
                error_body(refusal.code, str(refusal), refusal.fields),
                status=400,
                json_dumps_params={"ensure_ascii": False},
            )
        return HttpResponseBadRequest(str(refusal), content_type="text/plain; charset=utf-8")
