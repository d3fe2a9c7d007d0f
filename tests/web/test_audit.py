"""The audit trail is append-only: the model, the queryset and the database refuse changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from carta.web.audit import writer
from carta.web.audit.models import AppendOnlyError, AuditEvent
from tests.web.conftest import Network


@pytest.fixture
def event(network: Network, make_patient: Callable[..., Any]) -> AuditEvent:
    make_patient()
    return AuditEvent.objects.get()


def test_saving_a_stored_event_is_refused(event: AuditEvent) -> None:
    event.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    assert AuditEvent.objects.get().reason == ""


def test_deleting_an_event_is_refused(event: AuditEvent) -> None:
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.count() == 1


def test_bulk_update_is_refused(event: AuditEvent) -> None:
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.update(reason="rewritten")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_update([event], ["reason"])


def test_the_database_refuses_an_update_in_raw_sql(event: AuditEvent) -> None:
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE audit_auditevent SET reason = 'rewritten'")
    assert AuditEvent.objects.get().reason == ""


def test_the_database_refuses_a_delete_in_raw_sql_on_postgresql(event: AuditEvent) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite keeps DELETE possible for Django's test flush (ADR 0204)")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM audit_auditevent")
    assert AuditEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_events_are_written_only_inside_a_transaction() -> None:
    from django.contrib.auth import get_user_model

    from carta.web.accounts.models import Center

    user = get_user_model().objects.create_user("u", password="U-Password-1")
    center = Center.objects.create(code="X", name="X", country="CN", city="X")
    with pytest.raises(RuntimeError, match="inside the service's transaction"):
        writer.record(
            actor=user,
            action="create",
            target=center,
            center_id=center.pk,
            before={},
            after={},
        )
    assert not AuditEvent.objects.exists()


def test_difference_keeps_only_changed_keys() -> None:
    before = {"a": 1, "b": 2, "c": None}
    after = {"a": 1, "b": 3, "c": "x"}
    assert writer.difference(before, after) == ({"b": 2, "c": None}, {"b": 3, "c": "x"})


def test_json_values_read_back_as_stored() -> None:
    import datetime
    import decimal

    value = {"d": datetime.date(2025, 1, 2), "n": decimal.Decimal("1.50"), "f": 1.5}
    assert writer.json_value(value) == {"d": "2025-01-02", "n": "1.50", "f": 1.5}
