"""Reading and writing encrypted columns behind the ORM's back, as someone with
access to the database could."""

from django.db import connection


def _names(model, field_name: str) -> tuple[str, str, str]:
    quote = connection.ops.quote_name
    column = model._meta.get_field(field_name).column
    return quote(model._meta.db_table), quote(column), quote(model._meta.pk.column)


def read_column(model, field_name: str, pk) -> bytes | None:
    """The stored bytes of one column of one row."""
    table, column, pk_column = _names(model, field_name)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column} FROM {table} WHERE {pk_column} = %s",  # noqa: S608 (model meta)
            [model._meta.pk.get_db_prep_value(pk, connection)],
        )
        (value,) = cursor.fetchone()
    return None if value is None else bytes(value)


def write_column(model, field_name: str, pk, value: bytes | None) -> None:
    """Overwrite one column of one row with `value`."""
    table, column, pk_column = _names(model, field_name)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = %s WHERE {pk_column} = %s",  # noqa: S608 (model meta)
            [value, model._meta.pk.get_db_prep_value(pk, connection)],
        )
        assert cursor.rowcount == 1
