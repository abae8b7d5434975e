"""A grid commander's case list is index-driven on PostgreSQL (issue 16).

Their cases are a UNION of small indexed lookups (caller, the grid's communities,
invitations). As ``IN (union)`` PostgreSQL planned a semi-join that hash-joined the ids
against a sequential scan of every case of the district (112 ms at 300,000 cases, growing
with the district); as ``= ANY(ARRAY(union))`` the union runs first and its ids drive an
index scan of the cases' primary key.
"""

from __future__ import annotations

import pytest
from django.db import connection

from cases.models import Case

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_a_grid_commanders_cases_are_found_by_id(world, case_in):
    mine = case_in("dispatched")
    visible = Case.objects.visible_to(world.commander)
    sql, params = visible.query.sql_with_params()
    assert '"cases_case"."id" = ANY(ARRAY(' in sql, sql[:400]
    assert list(visible) == [mine]
    with connection.cursor() as cursor:  # the plan probes the primary key with the ids
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: no cost tie
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "= ANY ($" in plan and "cases_case_pkey" in plan, plan
