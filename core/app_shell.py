"""The phone app (金哨 H5, ``mobile/``) served from its build, ``mobile/dist/``.

Two kinds of answer:

- the shell, ``index.html``, at ``/`` and at every address of the app's own
  router (``/cases/12``, ``/login``, …): ``Cache-Control: no-cache``, so a phone
  always revalidates it and picks up a new build at once;
- the build's files under ``/assets/``, named by a hash of their content
  (``index-3f9a1c.js``): ``Cache-Control: public, max-age=31536000, immutable``,
  a year, since a changed file gets a new name. The build writes a Brotli
  (``.br``) and a gzip (``.gz``) copy of every script and stylesheet beside it
  (``mobile/vite.config.ts``); a browser that accepts one gets it with
  ``Content-Encoding`` set, so nothing is compressed per request;
- the installable app's root files (issue 14): the service worker ``/sw.js``
  (scope ``/``, ``no-cache`` so the browser's update check always sees a new
  release), the web app manifest ``/manifest.webmanifest``
  (``application/manifest+json``, ``no-cache``) and its icons under ``/icons/``
  (a day: their names do not change with their content).

Without a build (a checkout where ``bin/setup`` has not run, or Node.js was
missing) the shell is a Chinese page saying so, with status 503.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

#: A year: the longest lifetime caches honour, for files whose name changes with them.
IMMUTABLE = "public, max-age=31536000, immutable"
#: The shell may be stored but is revalidated on every use.
REVALIDATE = "no-cache"

#: First path segments that belong to the server, never to the app's router.
SERVER_PREFIXES = (
    "admin",
    "api",
    "ws",
    "static",
    "media",
    "health",
    "open311",
    "assets",
    "icons",
)
#: Whole paths that belong to the server.
SERVER_PATHS = ("metrics", "favicon.ico", "sw.js", "manifest.webmanifest")
#: Icons change rarely and keep their names: a day, then revalidated.
ICON_CACHE = "public, max-age=86400"

#: The pattern of every address answered with the shell (for ``re_path``).
CLIENT_ROUTE = r"^(?!(?:{})(?:/|$)|(?:{})$).*$".format(
    "|".join(SERVER_PREFIXES), "|".join(p.replace(".", r"\.") for p in SERVER_PATHS)
)


#: Precompressed siblings, best first: (Content-Encoding, file suffix).
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))


def accepted_encodings(header: str) -> set[str]:
    """The content codings an ``Accept-Encoding`` header admits (``q=0`` excludes one).

    ``"gzip, deflate, br"`` → ``{"gzip", "deflate", "br"}``; ``"br;q=0, gzip"`` → ``{"gzip"}``.
    """
    accepted = set()
    for part in header.split(","):
        coding, _, params = part.strip().partition(";")
        quality = re.search(r"q\s*=\s*([0-9.]+)", params)
        try:
            if quality and float(quality.group(1)) == 0:
                continue
        except ValueError:
            continue
        if coding.strip():
            accepted.add(coding.strip().lower())
    return accepted


class BuildFileResponse(HttpResponse):
    """One of the build's own files: the same bytes for every person and language.

    ``varies_only_by``: the request headers (lower case) its answer may vary by, kept in
    ``Vary`` by ``BuildFilesVaryMiddleware`` (every other member is dropped).
    """

    varies_only_by: tuple[str, ...] = ()


def app_dir() -> Path:
    """The build directory (``JINSHAO_APP_DIR``, default ``mobile/dist``)."""
    return Path(settings.JINSHAO_APP_DIR)


@require_safe
@ensure_csrf_cookie
def shell(request: HttpRequest, path: str = "") -> HttpResponse:
    """The app's ``index.html`` for ``/`` and any client route; sets the CSRF cookie.

    200 with the shell (``no-cache``), or 503 with a page telling to run
    ``bin/setup`` when there is no build.
    """
    index = app_dir() / "index.html"
    try:
        body = index.read_bytes()
    except FileNotFoundError:
        response = render(request, "core/app_missing.html", status=503)
    else:
        response = HttpResponse(body, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = REVALIDATE
    return response


@require_safe
def asset(request: HttpRequest, name: str) -> HttpResponse:
    """One built file under ``dist/assets/``, cached for a year; 404 for anything else
    (a missing name, a directory, a path leading outside).

    When the request's ``Accept-Encoding`` admits Brotli or gzip and the build wrote
    that copy, the answer is the copy with ``Content-Encoding: br`` (or ``gzip``); the
    content type stays the original file's. ``Vary: Accept-Encoding`` either way.
    """
    root = (app_dir() / "assets").resolve()
    target = (root / name).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        raise Http404(name)
    content_type, _ = mimetypes.guess_type(target.name)
    accepted = accepted_encodings(request.headers.get("Accept-Encoding", ""))
    body, coding = target, None
    for candidate, suffix in ENCODINGS:
        sibling = target.with_name(target.name + suffix)
        if candidate in accepted and sibling.is_file():
            body, coding = sibling, candidate
            break
    # Read whole (the largest file is a few hundred KB): under ASGI a FileResponse's
    # synchronous file iterator is consumed through a thread, with a warning per request.
    response = BuildFileResponse(
        body.read_bytes(), content_type=content_type or "application/octet-stream"
    )
    if coding:
        response["Content-Encoding"] = coding
    response["Vary"] = "Accept-Encoding"
    response["Cache-Control"] = IMMUTABLE
    response.varies_only_by = ("accept-encoding",)
    return response


def _root_file(name: str, content_type: str, cache_control: str) -> HttpResponse:
    """``dist/<name>`` with the given type and caching; 404 when the build has none."""
    target = app_dir() / name
    if not target.is_file():
        raise Http404(name)
    response = BuildFileResponse(target.read_bytes(), content_type=content_type)
    response["Cache-Control"] = cache_control
    return response


@require_safe
def service_worker(request: HttpRequest) -> HttpResponse:
    """The build's service worker (``dist/sw.js``, Workbox) at the root, so its scope is
    the whole app. ``no-cache``: the browser compares it byte for byte on every open and
    a new build (a new precache list) replaces the old worker at once. 404 without a build.
    """
    response = _root_file("sw.js", "text/javascript; charset=utf-8", REVALIDATE)
    response["Service-Worker-Allowed"] = "/"
    return response


@require_safe
def manifest(request: HttpRequest) -> HttpResponse:
    """The web app manifest (name 金哨, icons, start ``/``, standalone), revalidated on use."""
    return _root_file("manifest.webmanifest", "application/manifest+json", REVALIDATE)


@require_safe
def icon(request: HttpRequest, name: str) -> HttpResponse:
    """One PNG of ``dist/icons/`` (the manifest's icons), cached for a day; 404 otherwise."""
    root = (app_dir() / "icons").resolve()
    target = (root / name).resolve()
    if not target.is_relative_to(root) or not target.is_file() or target.suffix != ".png":
        raise Http404(name)
    response = BuildFileResponse(target.read_bytes(), content_type="image/png")
    response["Cache-Control"] = ICON_CACHE
    return response


class BuildFilesVaryMiddleware:
    """Drops ``Vary`` from the build's own files (hashed assets, service worker,
    manifest, icons), except ``Accept-Encoding`` where the file has compressed copies:
    they are the same bytes for every person and language, yet the
    locale, session and CSRF middleware add ``Vary: Accept-Language, Cookie``. With it,
    Chromium's Cache Storage misses the service worker's precached copies (the lookup
    compares those request headers), so the app would not open offline, and shared
    caches would keep one copy per cookie. First in ``MIDDLEWARE``: it sees the answer last.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if isinstance(response, BuildFileResponse) and "Vary" in response:
            keep = response.varies_only_by
            kept = [v.strip() for v in response["Vary"].split(",") if v.strip().lower() in keep]
            del response["Vary"]
            if kept:
                response["Vary"] = ", ".join(kept)
        return response
