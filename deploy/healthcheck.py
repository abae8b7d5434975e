"""Container health check: ``python deploy/healthcheck.py /health/ready``.

Asks the ASGI worker in this container (``127.0.0.1:8000``) for the path given
(``/health/live`` or ``/health/ready``) as the proxy would: with the district's
host name (the first of ``ALLOWED_HOSTS``) and ``X-Forwarded-Proto: https``, so
neither the host check nor the HTTPS redirect answers instead of the app.
Exit status 0 when the answer is 200, 1 otherwise (503, refused, timed out).
Standard library only: it runs every few seconds.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main(argv: list[str]) -> int:
    """Exit status for one health request to ``argv[1]`` (default ``/health/live``)."""
    path = argv[1] if len(argv) > 1 else "/health/live"
    host = os.environ.get("ALLOWED_HOSTS", "localhost").split(",")[0].strip() or "localhost"
    port = os.environ.get("PORT", "8000")
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        headers={"Host": host, "X-Forwarded-Proto": "https"},
    )
    try:
        with urllib.request.urlopen(request, timeout=4) as answer:
            return 0 if answer.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"{path}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
