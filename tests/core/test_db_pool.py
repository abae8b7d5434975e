"""Each process borrows PostgreSQL connections from one bounded pool (config/settings.py)."""

from __future__ import annotations

import pytest
from django.db import connection


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_connections_come_from_a_bounded_pool(settings):
    db = settings.DATABASES["default"]
    assert db["CONN_MAX_AGE"] == 0  # the pool keeps connections, Django does not
    pool = connection.pool
    assert pool is not None
    assert (pool.min_size, pool.max_size) == (2, 8)
    with connection.cursor() as cursor:  # the session's limits still reach PostgreSQL
        cursor.execute("SHOW idle_in_transaction_session_timeout")
        assert cursor.fetchone()[0] != "0"
