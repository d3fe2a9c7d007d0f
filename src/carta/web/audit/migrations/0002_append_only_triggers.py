"""Database triggers that refuse changes to audit events, whatever the client (ADR 0204).

PostgreSQL refuses UPDATE and DELETE of a row (TRUNCATE, an owner's maintenance statement,
stays possible). SQLite refuses UPDATE; DELETE is refused by the model and queryset only,
because Django's test flush on SQLite empties tables with DELETE.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

POSTGRESQL_FORWARD = (
    """
    CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP;
    END;
    $$ LANGUAGE plpgsql
    """,
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent"
    " FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent"
    " FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
)
POSTGRESQL_BACKWARD = (
    "DROP TRIGGER IF EXISTS audit_event_no_update ON audit_auditevent",
    "DROP TRIGGER IF EXISTS audit_event_no_delete ON audit_auditevent",
    "DROP FUNCTION IF EXISTS audit_event_append_only()",
)
SQLITE_FORWARD = (
    """
    CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
    BEGIN
        SELECT RAISE(ABORT, 'audit events are append-only (UPDATE refused)');
    END
    """,
)
SQLITE_BACKWARD = ("DROP TRIGGER IF EXISTS audit_event_no_update",)

STATEMENTS = {
    "postgresql": (POSTGRESQL_FORWARD, POSTGRESQL_BACKWARD),
    "sqlite": (SQLITE_FORWARD, SQLITE_BACKWARD),
}


def _run(schema_editor: Any, direction: int) -> None:
    statements = STATEMENTS.get(schema_editor.connection.vendor)
    for statement in statements[direction] if statements else ():
        schema_editor.execute(statement, params=None)  # no placeholders: % is literal


def forward(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, 0)


def backward(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, 1)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
