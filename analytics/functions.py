"""Database functions the indicators need, the same on PostgreSQL and SQLite.

- ``Seconds(end, start)``: the seconds between two timestamps, as a float.
- ``percentiles(queryset, expression, fractions)``: continuous percentiles
  (``percentile_cont`` semantics: linear interpolation between the closest
  ranks), computed by the database. PostgreSQL has ``percentile_cont``;
  SQLite does not, so there each percentile is read with one ``ORDER BY …
  LIMIT 2 OFFSET k`` query. Both give the same numbers.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import Aggregate, Count, F, FloatField, Func


class Seconds(Func):
    """``end − start`` in seconds (NULL when either is NULL)."""

    arity = 2
    output_field = FloatField()

    def as_sql(self, compiler, connection, **extra):  # PostgreSQL
        return super().as_sql(
            compiler,
            connection,
            template="EXTRACT(EPOCH FROM (%(expressions)s))::double precision",
            arg_joiner=" - ",
            **extra,
        )

    def as_sqlite(self, compiler, connection, **extra):
        """Whole seconds from ``strftime('%s')`` plus the stored microseconds.

        SQLite's date functions keep milliseconds only (``julianday`` even
        less, after a subtraction of two large numbers), which moves a
        percentile's last printed digit. Django stores a timestamp as the text
        ``YYYY-MM-DD HH:MM:SS[.ffffff]`` (UTC), so the fraction is read from
        the text itself: exact to the microsecond, like PostgreSQL.
        """
        end, start = (compiler.compile(e) for e in self.get_source_expressions())

        def whole(sql: str) -> str:
            return f"CAST(strftime('%%s', {sql}) AS INTEGER)"

        def fraction(sql: str) -> str:
            return (
                f"(CASE WHEN length({sql}) > 19 THEN CAST(substr({sql}, 20) AS REAL) ELSE 0.0 END)"
            )

        # Whole seconds subtracted as integers first: no float ever holds a whole epoch.
        sql = (
            f"(({whole(end[0])} - {whole(start[0])}) + ({fraction(end[0])} - {fraction(start[0])}))"
        )
        return sql, [*end[1], *start[1], *end[1], *end[1], *start[1], *start[1]]


class PercentileCont(Aggregate):
    """PostgreSQL's ``percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)``."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def percentiles(queryset, expression, fractions: list[float]) -> list[float | None]:
    """The ``fractions`` percentiles of ``expression`` over ``queryset`` (NULLs left out)."""
    values = queryset.annotate(_value=expression).filter(_value__isnull=False).order_by()
    if connection.vendor == "postgresql":
        found = values.aggregate(
            **{
                f"p{n}": PercentileCont(F("_value"), fraction)
                for n, fraction in enumerate(fractions)
            }
        )
        return [found[f"p{n}"] for n in range(len(fractions))]
    count = values.aggregate(n=Count("pk"))["n"]
    if not count:
        return [None] * len(fractions)
    ordered = values.order_by("_value").values_list("_value", flat=True)
    out: list[float | None] = []
    for fraction in fractions:
        rank = fraction * (count - 1)
        low = math.floor(rank)
        pair = list(ordered[low : low + 2])
        if len(pair) == 1 or rank == low:
            out.append(float(pair[0]))
        else:
            out.append(float(pair[0]) + (float(pair[1]) - float(pair[0])) * (rank - low))
    return out


def aggregate_with_percentiles(queryset, aggregates: dict, wanted: dict) -> dict:
    """``queryset.aggregate(**aggregates)`` plus percentiles, in one scan where the database can.

    ``wanted`` maps a name to ``(expression, fraction)``. On PostgreSQL the
    percentiles join the same aggregate query (``percentile_cont`` skips
    NULLs); elsewhere each is read by ``percentiles``.
    """
    if connection.vendor == "postgresql":
        return queryset.aggregate(
            **aggregates,
            **{name: PercentileCont(expr, fraction) for name, (expr, fraction) in wanted.items()},
        )
    found = queryset.aggregate(**aggregates)
    for name, (expr, fraction) in wanted.items():
        found[name] = percentiles(queryset, expr, [fraction])[0]
    return found


def binned_percentiles(
    queryset, expression, bins: list[tuple[int, int, int]], fractions: list[float]
) -> list[float | None]:
    """``percentiles`` when the values are already counted by bin: each read inside its bin.

    ``bins``: ``(start, end, count)`` in ascending order, ``count`` the number of
    ``expression`` values of ``queryset`` with ``start ≤ value < end`` (the daily
    figures' ``TimeDay`` rows of the same scope, read in the same snapshot), every
    value in one of them. For each fraction, r = fraction·(n − 1), k = ⌊r⌋: the bins'
    running counts name the bin of rank k (and of k + 1, the next bin when k is its
    last), and the pair is read with ``ORDER BY expression OFFSET (k − before) LIMIT 2``
    over those bins' value range alone, then interpolated as ``percentile_cont`` does
    (the same formula in doubles over the same values: the same result). On
    PostgreSQL the time's index (migration ``analytics.0007``) makes that an
    index-only walk of at most one bin's cases, whatever the number of cases.
    """
    n = sum(count for _start, _end, count in bins)
    if not n:
        return [None] * len(fractions)
    # (start, end, values before the bin, values in it) of the bins with values
    placed = []
    before = 0
    for start, end, count in bins:
        if count:
            placed.append((start, end, before, count))
            before += count

    def bin_of(rank: int) -> tuple[int, int, int, int]:
        return next(b for b in placed if b[2] <= rank < b[2] + b[3])

    values = queryset.annotate(_value=expression).filter(_value__isnull=False)
    out: list[float | None] = []
    for fraction in fractions:
        rank = fraction * (n - 1)
        low = math.floor(rank)
        wanted = 2 if rank != low and low + 1 < n else 1
        first = bin_of(low)
        last = bin_of(low + wanted - 1)
        read = values.filter(_value__gte=first[0], _value__lt=last[1])
        pair = [
            float(v)
            for v in read.order_by(F("_value").asc()).values_list("_value", flat=True)[
                low - first[2] : low - first[2] + wanted
            ]
        ]
        if len(pair) != wanted:  # the bins do not count these values
            raise ValueError("binned_percentiles: the bins do not count the queryset's values")
        if wanted == 1:
            out.append(pair[0])
        else:
            out.append(pair[0] + (pair[1] - pair[0]) * (rank - low))
    return out


@contextmanager
def one_snapshot():
    """Every read inside sees one snapshot of the database (PostgreSQL: a read-only
    REPEATABLE READ transaction), so counts from the daily figures and ranks read
    from the cases describe the same cases. Inside a transaction already (tests,
    a caller's atomic block), or on SQLite (one writer, reads in one transaction
    are already consistent), it only opens an atomic block."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        with transaction.atomic():
            yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield
