"""Database functions the figures need that Django does not ship: a median and a duration
in seconds, on PostgreSQL and SQLite (the demo and quick tests)."""

import statistics

from django.db import NotSupportedError
from django.db.models import Aggregate, FloatField, Func

SQLITE_MEDIAN = "reports_median"


class Median(Aggregate):
    """The median of the non-null values of a group (PERCENTILE_CONT on PostgreSQL)."""

    name = "Median"
    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)%(filter)s"
    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler,
            connection,
            function=SQLITE_MEDIAN.upper(),
            template="%(function)s(%(expressions)s)%(filter)s",
            **extra_context,
        )


class _SQLiteMedian:
    """SQLite has no median: this aggregate runs inside SQLite over the group's values."""

    def __init__(self):
        self.values = []

    def step(self, value):
        if value is not None:
            self.values.append(value)

    def finalize(self):
        return statistics.median(self.values) if self.values else None


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    """Add the median to each new SQLite connection (connected to `connection_created`)."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate(SQLITE_MEDIAN, 1, _SQLiteMedian)


class SecondsBetween(Func):
    """Seconds from `start` to `end` (null when either is null)."""

    output_field = FloatField()

    def __init__(self, start, end, **extra):
        super().__init__(start, end, **extra)

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError(f"SecondsBetween is not written for {connection.vendor}.")

    def _end_minus_start(self, compiler, connection, template):
        start, end = (compiler.compile(expression) for expression in self.source_expressions)
        return template % (end[0], start[0]), (*end[1], *start[1])

    def as_postgresql(self, compiler, connection, **extra_context):
        return self._end_minus_start(
            compiler, connection, "EXTRACT(EPOCH FROM (%s - %s))::double precision"
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        return self._end_minus_start(
            compiler, connection, "((julianday(%s) - julianday(%s)) * 86400.0)"
        )
