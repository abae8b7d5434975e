"""The client's address as the audit log records it: ``core.client.client_address``.

Kept under its old name for the callers that import it from here.
"""

from __future__ import annotations

from core.client import client_address as client_ip

__all__ = ["client_ip"]
