"""The import itself: every row through the registry's services, all or nothing (ADR 0274).

The dry run and the commit are the same run: each row is written by its service (patients by
``create_patient``, infusions by ``create_record``, days by ``record_daily_assessment``, each
with its audit events and the computed grades) inside one outer transaction, each row in a
savepoint so that a bad row is reported and the next one still checked. The dry run always
rolls the transaction back; the commit keeps it only when no row failed. So the preview
reports exactly the problems the commit would meet - permissions, duplicate registry IDs,
days out of range, grades that cannot be computed from invalid inputs - and shows the grades
the commit will store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import (
    NON_FIELD_ERRORS,
    ObjectDoesNotExist,
    PermissionDenied,
    ValidationError,
)
from django.db import transaction
from django.utils.translation import gettext as _

from carta.web.accounts import access
from carta.web.accounts.models import Center, Membership
from carta.web.accounts.roles import Role
from carta.web.imports.tables import (
    ASSESSMENTS,
    INFUSION_NUMBER,
    INFUSIONS,
    KIND_LABELS,
    KINDS,
    PATIENTS,
    PRODUCT,
    REGISTRY_ID,
    CellProblem,
    Upload,
)
from carta.web.registry import services
from carta.web.registry.models import DailyAssessment, Infusion, Patient, Product

IMPORT_ROLES = (Role.COORDINATOR, Role.PHYSICIAN, Role.CENTER_ADMIN)
PREVIEW_ROWS = 50


class _RollBack(Exception):
    """Raised to undo the outer transaction of a dry run (or of a commit with problems)."""


@dataclass
class ImportReport:
    """What the run did or would do: rows per kind, every problem, and a preview of the
    daily assessments' computed grades."""

    created: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    problems: list[CellProblem] = field(default_factory=list)
    grades: list[dict[str, Any]] = field(default_factory=list)
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def bad_rows(self) -> int:
        return len({(p.sheet, p.row) for p in self.problems if p.row is not None})


def importable_centers(user: Any) -> list[Center]:
    """The centers ``user`` may import into: those where they are a coordinator, physician or
    center administrator (and, as always, may change records: :mod:`access`)."""
    allowed = access.centers(user, "change")
    own = Membership.objects.filter(user=user, role__in=IMPORT_ROLES).values("center_id")
    return list(allowed.filter(pk__in=own).order_by("code"))


def may_import(user: Any, center: Center) -> bool:
    return any(candidate.pk == center.pk for candidate in importable_centers(user))


def run_import(
    *, actor: Any, center: Center, upload: Upload, file_name: str, commit: bool
) -> ImportReport:
    """Check (``commit=False``) or import (``commit=True``) every row of ``upload`` at
    ``center`` as ``actor``. Nothing is saved unless ``commit`` and every row is good."""
    if not may_import(actor, center):
        raise PermissionDenied("import not allowed at this center")
    report = ImportReport(problems=list(upload.problems))
    reason = _("bulk import of %(file)s") % {"file": file_name}
    run = _Run(actor=actor, center=center, reason=reason, report=report)
    try:
        with transaction.atomic():
            for kind in KINDS:
                sheet = upload.sheets.get(kind)
                if sheet is None:
                    continue
                for number, row, raw in zip(sheet.numbers, sheet.rows, sheet.raw, strict=True):
                    run.row(kind, number, row, raw)
            if not commit or not report.ok:
                raise _RollBack
    except _RollBack:
        report.committed = False
    else:
        report.committed = True
    return report


@dataclass
class _Run:
    actor: Any
    center: Center
    reason: str
    report: ImportReport
    seen_days: dict[tuple[str, int, int | None], int] = field(default_factory=dict)
    current_row: int = 0

    def row(self, kind: str, number: int, row: dict[str, Any], raw: Mapping[str, Any]) -> None:
        label = str(KIND_LABELS[kind])
        handlers: dict[str, Callable[[dict[str, Any]], None]] = {
            PATIENTS: self._patient,
            INFUSIONS: self._infusion,
            ASSESSMENTS: self._assessment,
        }
        self.current_row = number
        try:
            with transaction.atomic():  # a savepoint: a failed row leaves the others intact
                handlers[kind](dict(row))
        except ValidationError as error:
            self._validation_problems(label, number, error, raw)
            return
        except _RowProblem as problem:
            self.report.problems.append(
                CellProblem(label, number, problem.column, raw.get(problem.column), problem.text)
            )
            return
        except ObjectDoesNotExist:
            self.report.problems.append(
                CellProblem(
                    label, number, None, None, _("A record this row refers to was not found.")
                )
            )
            return
        except PermissionDenied:
            self.report.problems.append(
                CellProblem(label, number, None, None, _("You may not change this record."))
            )
            return
        self.report.created[kind] += 1

    def _validation_problems(
        self, label: str, number: int, error: ValidationError, raw: Mapping[str, Any]
    ) -> None:
        messages = error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
        for name, texts in messages.items():
            column = None if name in (None, NON_FIELD_ERRORS) else str(name)
            for text in texts:
                value = raw.get(column) if column else None
                self.report.problems.append(CellProblem(label, number, column, value, str(text)))

    def _patient_of(self, registry_id: str) -> Patient:
        try:
            patient = Patient.objects.get(center=self.center, registry_id=registry_id)
        except Patient.DoesNotExist:
            raise _RowProblem(
                REGISTRY_ID,
                _(
                    "No patient with this registry ID at %(center)s: add the patient first "
                    "(or in the patients sheet of the same workbook)."
                )
                % {"center": self.center.code},
            ) from None
        access.require_record(self.actor, patient, "change")
        return patient

    def _patient(self, row: dict[str, Any]) -> None:
        services.create_patient(actor=self.actor, center=self.center, **row)

    def _infusion(self, row: dict[str, Any]) -> None:
        patient = self._patient_of(row.pop(REGISTRY_ID))
        code = row.pop(PRODUCT)
        product = Product.objects.filter(code=code).first()
        if product is None:
            codes = ", ".join(Product.objects.order_by("code").values_list("code", flat=True))
            raise _RowProblem(
                PRODUCT, _("expected a product code, one of: %(codes)s") % {"codes": codes}
            )
        if row.get("number") is None:
            row["number"] = (
                patient.infusions.order_by("-number").values_list("number", flat=True).first() or 0
            ) + 1
        services.create_record(
            actor=self.actor,
            model=Infusion,
            patient=patient,
            product=product,
            reason=self.reason,
            **row,
        )

    def _assessment(self, row: dict[str, Any]) -> None:
        registry_id = row.pop(REGISTRY_ID)
        patient = self._patient_of(registry_id)
        number = row.pop(INFUSION_NUMBER, None)
        infusion = None
        if number is not None:
            infusion = patient.infusions.filter(number=number).first()
            if infusion is None:
                raise _RowProblem(
                    INFUSION_NUMBER, _("This patient has no infusion with this number.")
                )
        day = row.pop("day")
        key = (registry_id, day, number)
        if key in self.seen_days:
            raise _RowProblem(
                "day",
                _("This patient-day is already in row %(row)d of the file.")
                % {"row": self.seen_days[key]},
            )
        self.seen_days[key] = self.current_row
        assessment: DailyAssessment = services.record_daily_assessment(
            actor=self.actor,
            patient=patient,
            day=day,
            infusion=infusion,
            reason=self.reason,
            **row,
        )
        if len(self.report.grades) < PREVIEW_ROWS:
            self.report.grades.append(
                {
                    "registry_id": registry_id,
                    "day": day,
                    "crs_grade": assessment.crs_grade,
                    "crs_status": assessment.crs_status,
                    "icans_grade": assessment.icans_grade,
                    "icans_status": assessment.icans_status,
                }
            )


class _RowProblem(Exception):
    """A problem of one row found by the import itself (not by a service)."""

    def __init__(self, column: str, text: str) -> None:
        super().__init__(text)
        self.column = column
        self.text = text
