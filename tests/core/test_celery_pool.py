"""A forked Celery child never borrows from a connection pool its parent opened."""

from __future__ import annotations

import pytest
from django.db import connection

from config.celery import forget_inherited_connection_pools


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_forked_worker_child_opens_its_own_pool():
    from django.db.backends.postgresql.base import DatabaseWrapper

    inherited = connection.pool
    assert inherited is not None
    saved = dict(DatabaseWrapper._connection_pools)
    try:
        forget_inherited_connection_pools()  # what worker_process_init runs in the child
        assert DatabaseWrapper._connection_pools == {}
        own = connection.pool  # made on first use, not the parent's
        assert own is not None and own is not inherited
        own.close()
    finally:
        DatabaseWrapper._connection_pools.clear()
        DatabaseWrapper._connection_pools.update(saved)
    assert not inherited.closed  # the parent's pool (and its sessions) left alone
