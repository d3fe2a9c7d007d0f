"""Reading an uploaded export (CSV or Excel) into typed rows, one problem per bad cell.

Three kinds of sheet, each with the registry's own field names as columns (the columns are
listed on the upload page and in ``docs/production.md``): ``patients``, ``infusions`` and
``daily_assessments``. An Excel workbook may hold all three as sheets with those names; a CSV
file holds one kind, chosen on the form. CSV files are read by :func:`carta.io.readers.read_csv`
(UTF-8 and header checks, rows mapped to file lines); ``.xlsx`` by openpyxl.

Typing follows carta's accepted spellings (:mod:`carta.io.validate`): numbers, whole numbers,
``true``/``false``/``yes``/``no``/``1``/``0``, words exactly as in the vocabulary, dates as
``YYYY-MM-DD`` (or Excel dates), ``vasopressors`` as names separated by ``;`` or ``none``, and
an empty cell for unknown. A cell that does not fit is a :class:`CellProblem` naming the row,
the column, the value and what was expected; the row is then left out of the dry run.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from carta.clinical.vocabulary import VASOPRESSORS
from carta.io.problems import BadInputError
from carta.io.records import LIST_SEPARATOR
from carta.io.validate import FALSE_WORDS, NO_VASOPRESSOR, TRUE_WORDS
from carta.web.registry import adapters
from carta.web.registry.models import DailyAssessment, Infusion, Patient

PATIENTS = "patients"
INFUSIONS = "infusions"
ASSESSMENTS = "daily_assessments"
KINDS: tuple[str, ...] = (PATIENTS, INFUSIONS, ASSESSMENTS)
KIND_LABELS = {
    PATIENTS: gettext_lazy("patients"),
    INFUSIONS: gettext_lazy("infusions"),
    ASSESSMENTS: gettext_lazy("daily assessments"),
}
REGISTRY_ID = "registry_id"
PRODUCT = "product"
INFUSION_NUMBER = "infusion_number"
MAX_ROWS = 20_000
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
FIRST_DATA_ROW = 2  # row 1 is the header, in a CSV file as in a worksheet


@dataclass(frozen=True, slots=True)
class Column:
    """A column of a sheet: the model field it fills (``None`` for a lookup column)."""

    name: str
    model: type[models.Model] | None
    required: bool = False


def _fields(model: type[models.Model], names: Iterable[str]) -> list[Column]:
    return [Column(name, model) for name in names]


COLUMNS: dict[str, tuple[Column, ...]] = {
    PATIENTS: (
        Column(REGISTRY_ID, Patient, required=True),
        Column("sex", Patient, required=True),
        *_fields(Patient, ("year_of_birth", "age_at_infusion", "weight_kg", "height_cm")),
    ),
    INFUSIONS: (
        Column(REGISTRY_ID, None, required=True),
        Column(PRODUCT, None, required=True),
        Column("infused_on", Infusion, required=True),
        Column("number", Infusion),
        *_fields(Infusion, ("cell_dose_total", "cell_dose_per_kg")),
    ),
    ASSESSMENTS: (
        Column(REGISTRY_ID, None, required=True),
        Column("day", DailyAssessment, required=True),
        Column(INFUSION_NUMBER, None),
        *_fields(DailyAssessment, adapters.OBSERVATION_FIELDS),
    ),
}


@dataclass(frozen=True, slots=True)
class CellProblem:
    """What is wrong at one place of the file (``row``/``column`` ``None``: the whole sheet)."""

    sheet: str
    row: int | None
    column: str | None
    value: object
    expected: str

    def __str__(self) -> str:
        where = f"{self.sheet}, row {self.row}" if self.row is not None else self.sheet
        if self.column is None:
            return f"{where}: {self.expected}"
        return f"{where}, {self.column} = {self.value!r}: {self.expected}"


@dataclass
class Sheet:
    """The typed rows of one kind: ``rows[i]`` is file row ``numbers[i]``; ``raw`` the cells
    as written (to show a value in a problem)."""

    kind: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    raw: list[dict[str, Any]] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    total: int = 0  # data rows in the file, typed or not


@dataclass
class Upload:
    """Every sheet of a file and the problems found while reading and typing it."""

    sheets: dict[str, Sheet] = field(default_factory=dict)
    problems: list[CellProblem] = field(default_factory=list)

    @property
    def row_count(self) -> int:
        return sum(sheet.total for sheet in self.sheets.values())


# --- reading ----------------------------------------------------------------------------------


def read_upload(name: str, content: bytes, kind: str | None) -> Upload:
    """Read the file ``name`` (``.csv`` or ``.xlsx``); ``kind`` is the sheet kind of a CSV file
    (and of a workbook's only sheet when it is not named after a kind)."""
    suffix = Path(name).suffix.lower()
    if suffix == ".xlsx":
        return _read_workbook(content, kind)
    if suffix == ".csv":
        if kind not in KINDS:
            return _refused(_("Choose what the CSV file holds."))
        return _read_csv(content, kind)
    return _refused(_("Upload a .csv or .xlsx file."))


def _refused(message: str) -> Upload:
    return Upload(problems=[CellProblem(_("file"), None, None, None, message)])


def _read_csv(content: bytes, kind: str) -> Upload:
    from carta.io.readers import read_csv

    with tempfile.TemporaryDirectory(prefix="carta-import-") as folder:
        path = Path(folder) / "upload.csv"
        path.write_bytes(content)
        try:
            table = read_csv(path)
        except BadInputError as error:
            return Upload(
                problems=[
                    CellProblem(
                        _("file"), problem.line, problem.field, problem.value, problem.expected
                    )
                    for problem in error.problems
                ]
            )
    rows = table.frame.rows(named=True)
    numbers = [table.line_of(index) or index + FIRST_DATA_ROW for index in range(len(rows))]
    return _typed_upload({kind: (table.frame.columns, rows, numbers)})


def _read_workbook(content: bytes, kind: str | None) -> Upload:
    import io
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        return _refused(_("This is not an Excel workbook (.xlsx) that can be read."))
    try:
        named = {sheet.title.strip().lower(): sheet for sheet in workbook.worksheets}
        chosen = {name: named[name] for name in KINDS if name in named}
        if not chosen and len(workbook.worksheets) == 1 and kind in KINDS:
            chosen = {kind: workbook.worksheets[0]}
        if not chosen:
            return _refused(
                _("Name the sheets %(names)s (or upload one sheet and choose what it holds).")
                % {"names": ", ".join(KINDS)}
            )
        contents = {}
        for sheet_kind, worksheet in chosen.items():
            values = list(worksheet.iter_rows(values_only=True))
            header = (
                [str(cell).strip() if cell is not None else "" for cell in values[:1][0]]
                if values
                else []
            )
            rows, numbers = [], []
            for offset, cells in enumerate(values[1:]):
                if all(
                    cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells
                ):
                    continue  # Excel keeps formatted empty rows
                rows.append(dict(zip(header, cells, strict=False)))
                numbers.append(offset + FIRST_DATA_ROW)
            contents[sheet_kind] = (header, rows, numbers)
    finally:
        workbook.close()
    return _typed_upload(contents)


def _typed_upload(
    contents: Mapping[str, tuple[list[str], list[dict[str, Any]], list[int]]],
) -> Upload:
    upload = Upload()
    total = sum(len(rows) for _, rows, _ in contents.values())
    if total > MAX_ROWS:
        return _refused(
            _("The file has %(rows)d rows; import at most %(limit)d at a time.")
            % {"rows": total, "limit": MAX_ROWS}
        )
    for kind, (header, rows, numbers) in contents.items():
        upload.sheets[kind] = _typed_sheet(kind, header, rows, numbers, upload.problems)
    return upload


def _typed_sheet(
    kind: str,
    header: list[str],
    rows: list[dict[str, Any]],
    numbers: list[int],
    problems: list[CellProblem],
) -> Sheet:
    columns = {column.name: column for column in COLUMNS[kind]}
    sheet = Sheet(
        kind,
        unknown_columns=[name for name in header if name and name not in columns],
        total=len(rows),
    )
    label = str(KIND_LABELS[kind])
    missing = [name for name, column in columns.items() if column.required and name not in header]
    for name in missing:
        problems.append(
            CellProblem(label, None, name, None, _("This column is required and missing."))
        )
    if missing:
        return sheet
    for number, row in zip(numbers, rows, strict=True):
        typed: dict[str, Any] = {}
        bad = False
        for name, column in columns.items():
            raw = row.get(name)
            try:
                value = convert(column, raw)
            except ValueError as problem:
                problems.append(CellProblem(label, number, name, raw, str(problem)))
                bad = True
                continue
            if value is None and column.required:
                problems.append(CellProblem(label, number, name, raw, _("A value is required.")))
                bad = True
            elif name in row:
                typed[name] = value
        if not bad:
            sheet.rows.append(typed)
            sheet.numbers.append(number)
            sheet.raw.append(row)
    return sheet


# --- typing one cell --------------------------------------------------------------------------


def _blank(raw: object) -> bool:
    return (
        raw is None
        or (isinstance(raw, str) and not raw.strip())
        or (isinstance(raw, float) and math.isnan(raw))
    )


def convert(column: Column, raw: object) -> Any:
    """The Python value of one cell for ``column``; ``None`` for an empty cell.

    Raises ``ValueError`` whose message says what was expected.
    """
    if _blank(raw):
        return None
    if column.model is None:
        return _text(raw) if column.name != INFUSION_NUMBER else _whole(raw)
    model_field = column.model._meta.get_field(column.name)
    if column.name == "vasopressors":
        return _vasopressors(raw)
    if model_field.choices:
        return _word(raw, [str(value) for value, _label in model_field.flatchoices])
    if isinstance(model_field, models.BooleanField):
        return _boolean(raw)
    if isinstance(model_field, models.DateField):
        return _date(raw)
    if isinstance(model_field, models.IntegerField):
        return _whole(raw)
    if isinstance(model_field, models.FloatField):
        return _number(raw)
    return _text(raw)


def _text(raw: object) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))  # Excel stores an ID typed as 12 as the number 12.0
    return str(raw).strip()


def _number(raw: object) -> float:
    if isinstance(raw, bool):
        raise ValueError(_("expected a number"))
    try:
        value = float(raw) if isinstance(raw, int | float) else float(str(raw).strip())
    except ValueError:
        raise ValueError(_("expected a number")) from None
    if not math.isfinite(value):
        raise ValueError(_("expected a number (leave the cell empty for unknown)"))
    return value


def _whole(raw: object) -> int:
    try:
        value = _number(raw)
    except ValueError:
        raise ValueError(_("expected a whole number")) from None
    if not value.is_integer():
        raise ValueError(_("expected a whole number"))
    return int(value)


def _boolean(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    word = _text(raw).lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(_("expected true or false (also yes/no or 1/0)"))


def _date(raw: object) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(_text(raw))
    except ValueError:
        raise ValueError(_("expected a date written YYYY-MM-DD")) from None


def _word(raw: object, words: list[str]) -> str:
    word = _text(raw)
    if word not in words:
        raise ValueError(_("expected one of: %(words)s") % {"words": ", ".join(words)})
    return word


def _vasopressors(raw: object) -> list[str]:
    text = _text(raw)
    if text.lower() == NO_VASOPRESSOR:
        return []
    agents = [part.strip() for part in text.split(LIST_SEPARATOR) if part.strip()]
    unknown = [agent for agent in agents if agent not in VASOPRESSORS]
    if unknown or not agents:
        raise ValueError(
            _(
                "expected vasopressor names separated by '%(separator)s', each one of %(names)s; "
                "or 'none'"
            )
            % {"separator": LIST_SEPARATOR, "names": ", ".join(VASOPRESSORS)}
        )
    return agents


def column_names(kind: str) -> list[str]:
    """The columns a sheet of ``kind`` may have, in order (shown on the upload page)."""
    return [column.name for column in COLUMNS[kind]]


def required_columns(kind: str) -> list[str]:
    return [column.name for column in COLUMNS[kind] if column.required]
