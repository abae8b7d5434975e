"""Which URL pattern a request matched, in one readable, bounded form."""

from __future__ import annotations

import re

_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>[^()]*\)")


def url_pattern(request) -> str | None:
    """The URL pattern ``request`` matched, named groups shown as ``<name>`` and regex
    anchors dropped (``"api/v1/cases/<pk>/"``); None when nothing matched.

    The request log (``core.requestlog``) and the metrics (``core.metrics``) label
    requests with it: never the raw path, whose ids would be personal and unbounded.
    """
    match = getattr(request, "resolver_match", None)
    if match is None or not match.route:
        return None
    return _NAMED_GROUP.sub(r"<\1>", match.route).replace("^", "").replace("$", "")
