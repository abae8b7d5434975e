"""Keys and mode for a test run, set before Django's settings are read (``-p tests.pytest_keys``).

Outside the demo the settings refuse to start without their three keys
(``config.keys``). A plain ``pytest`` gets fresh random ones for the run: no
test may depend on a published key, and none is reused between runs. Keys
already in the environment (``bin/test`` exports them) are kept.

``DEBUG`` defaults to off (production-safe); the tests load the settings with
it on, for the plain-http settings the test client speaks (no HTTPS redirect,
static files served by the app). pytest-django still runs every test with
``settings.DEBUG`` off.
"""

from __future__ import annotations

import os
import secrets

from config.keys import NAMES

os.environ.setdefault("DEBUG", "true")
# On PostgreSQL a test that leaves a transaction open, or waits on a lock that is
# never released, fails within a minute or two with PostgreSQL's own error instead
# of holding every later test (and CI) until its time runs out.
os.environ.setdefault("JINSHAO_PG_IDLE_IN_TRANSACTION_TIMEOUT", "60000")
os.environ.setdefault("JINSHAO_PG_LOCK_TIMEOUT", "120000")
for _name in NAMES:
    os.environ.setdefault(_name, secrets.token_urlsafe(50))
