"""Database triggers that make the audit tables append-only, on PostgreSQL and SQLite.

They stop the application, a mistaken script, or an administrator working
through the usual tools from changing the trail. Somebody who drops them can
still edit rows, which is what the hash chain and the signed checkpoints catch.
"""

TABLES = ("audit_auditevent", "audit_checkpoint", "audit_flag", "audit_flagreview")

_POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def install(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_POSTGRES_FUNCTION)
            for table in TABLES:
                cursor.execute(
                    f"CREATE OR REPLACE TRIGGER {table}_append_only "
                    f"BEFORE UPDATE OR DELETE ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
                )
                cursor.execute(
                    f"CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                    "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
                )
        elif connection.vendor == "sqlite":
            for table in TABLES:
                for operation in ("UPDATE", "DELETE"):
                    cursor.execute(
                        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{operation.lower()} "
                        f"BEFORE {operation} ON {table} BEGIN "
                        f"SELECT RAISE(ABORT, 'the audit trail is append-only: "
                        f"{operation} on {table} refused'); END"
                    )
        else:
            raise NotImplementedError(f"no append-only triggers for {connection.vendor}")


def remove(connection) -> None:
    """Drop the triggers: only for tests that empty the database between runs."""
    with connection.cursor() as cursor:
        for table in TABLES:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            else:
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")


# --- The stored encoding (PostgreSQL) -------------------------------------------
#
# PostgreSQL keeps each event's canonical encoding in a column it generates
# itself at insert time, so that `audit_verify` reads it rather than building
# it again for every event. The application never writes the column. If
# somebody replaces it (drops it and adds a plain column), or changes the
# function behind it, `stored_encoding_intact` says so and `audit_verify`
# reports it and builds the encodings from the columns instead.

ENCODING_COLUMN = "leaf_encoding"
ENCODING_FUNCTION = "audit_event_encoding"
_ARGUMENTS = (
    ("lane", "smallint"),
    ("seq", "bigint"),
    ("occurred_at", "timestamptz"),
    ("action", "text"),
    ("actor_id", "bigint"),
    ("actor_institution_id", "bigint"),
    ("actor_municipality_id", "bigint"),
    ("municipality_id", "bigint"),
    ("object_type", "text"),
    ("object_id", "text"),
    ("case_id", "uuid"),
    ("case_number", "text"),
    ("part", "text"),
    ("ip_address", "text"),
    ("justification", "text"),
    ("detail", "text"),
)


def _function_body() -> str:
    from .chain import LEAF_ENCODING_SQL

    return f" SELECT convert_to({LEAF_ENCODING_SQL}, 'UTF8') "


def install_stored_encoding(connection) -> None:
    if connection.vendor != "postgresql":
        return
    arguments = ", ".join(f"{name} {kind}" for name, kind in _ARGUMENTS)
    names = ", ".join(name for name, _kind in _ARGUMENTS)
    with connection.cursor() as cursor:
        # IMMUTABLE, as a generated column requires: the epoch of a timestamptz does
        # not depend on the session's time zone, and nothing else here reads a setting.
        cursor.execute(
            f"CREATE OR REPLACE FUNCTION {ENCODING_FUNCTION}({arguments}) RETURNS bytea "
            f"LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $${_function_body()}$$"
        )
        cursor.execute(
            f"ALTER TABLE audit_auditevent ADD COLUMN IF NOT EXISTS {ENCODING_COLUMN} bytea "
            f"GENERATED ALWAYS AS ({ENCODING_FUNCTION}({names})) STORED"
        )


def remove_stored_encoding(connection) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE audit_auditevent DROP COLUMN IF EXISTS {ENCODING_COLUMN}")
        cursor.execute(f"DROP FUNCTION IF EXISTS {ENCODING_FUNCTION}")


def stored_encoding_intact(connection) -> bool:
    """The column is still generated, by the function, whose body is still the encoding."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attgenerated, pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a "
            "JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE a.attrelid = 'audit_auditevent'::regclass AND a.attname = %s "
            "AND NOT a.attisdropped",
            [ENCODING_COLUMN],
        )
        column = cursor.fetchone()
        cursor.execute(
            "SELECT prosrc, provolatile FROM pg_proc WHERE proname = %s", [ENCODING_FUNCTION]
        )
        functions = cursor.fetchall()
    return (
        column is not None
        and column[0] == "s"
        and column[1].startswith(f"{ENCODING_FUNCTION}(")
        and functions == [(_function_body(), "i")]
    )
