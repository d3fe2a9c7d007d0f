"""Upload an export, see the dry run (every bad row, the grades the days will get), commit.

The uploaded file is kept in the data folder between the preview and the commit (its name
in the user's session), and read and checked again on commit: the commit writes only what
a fresh dry run would accept, all or nothing (ADR 0274).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from carta.web.accounts.models import Center
from carta.web.imports import importer, tables
from carta.web.imports.forms import UploadForm
from carta.web.registry.views.common import methods, signed_in

SESSION_KEY = "carta_import"
UPLOAD_FOLDER = "imports"


def _folder() -> Path:
    folder = Path(settings.DATA_DIR) / UPLOAD_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _centers(request: HttpRequest) -> list[Center]:
    centers = importer.importable_centers(request.user)
    if not centers:
        raise PermissionDenied("no center to import into")
    return centers


def _columns() -> list[dict[str, Any]]:
    return [
        {
            "kind": kind,
            "label": tables.KIND_LABELS[kind],
            "required": tables.required_columns(kind),
            "optional": [
                name
                for name in tables.column_names(kind)
                if name not in tables.required_columns(kind)
            ],
        }
        for kind in tables.KINDS
    ]


@signed_in
@methods("GET", "POST")
def upload(request: HttpRequest) -> HttpResponse:
    """The upload form; a posted file is checked (dry run) and previewed."""
    centers = _centers(request)
    form = UploadForm(request.POST or None, request.FILES or None, centers=centers)
    if request.method == "POST" and form.is_valid():
        center: Center = form.cleaned_data["center"]
        uploaded = form.cleaned_data["file"]
        content = uploaded.read()
        suffix = Path(uploaded.name).suffix.lower()
        _discard(request.session.get(SESSION_KEY))
        token = secrets.token_hex(16)
        (_folder() / f"{token}{suffix}").write_bytes(content)
        request.session[SESSION_KEY] = {
            "token": token,
            "suffix": suffix,
            "name": uploaded.name,
            "center": center.pk,
            "kind": form.cleaned_data.get("kind") or None,
        }
        report, context = _checked(
            request, request.session[SESSION_KEY], center, content, commit=False
        )
        return _preview(request, report, context)
    return render(request, "imports/upload.html", {"form": form, "columns": _columns()})


def _discard(pending: dict[str, Any] | None) -> None:
    """Remove a previous upload that was previewed but never committed."""
    if pending:
        (_folder() / f"{pending['token']}{pending['suffix']}").unlink(missing_ok=True)


def _checked(
    request: HttpRequest, pending: dict[str, Any], center: Center, content: bytes, *, commit: bool
) -> tuple[importer.ImportReport, dict[str, Any]]:
    """Read and run the file (a dry run unless ``commit``); the report and the page context."""
    parsed = tables.read_upload(pending["name"], content, pending["kind"])
    report = importer.run_import(
        actor=request.user, center=center, upload=parsed, file_name=pending["name"], commit=commit
    )
    context = {
        "report": report,
        "center": center,
        "file_name": pending["name"],
        "token": pending["token"],
        "rows": parsed.row_count,
        "sheets": [
            {
                "label": tables.KIND_LABELS[kind],
                "rows": sheet.total,
                "created": report.created[kind],
                "unknown_columns": sheet.unknown_columns,
            }
            for kind, sheet in parsed.sheets.items()
        ],
        "commit_attempted": commit,
    }
    return report, context


def _preview(
    request: HttpRequest, report: importer.ImportReport, context: dict[str, Any]
) -> HttpResponse:
    return render(request, "imports/preview.html", context, status=200 if report.ok else 422)


@signed_in
@methods("POST")
def commit(request: HttpRequest) -> HttpResponse:
    """Import the previewed file, all or nothing; back to the preview if a row fails now."""
    pending = request.session.get(SESSION_KEY)
    token = request.POST.get("token", "")
    path = _folder() / f"{pending['token']}{pending['suffix']}" if pending else None
    if (
        not pending
        or path is None
        or not secrets.compare_digest(str(pending.get("token")), token)
        or not path.exists()
    ):
        messages.error(request, _("That import is no longer pending: upload the file again."))
        return redirect("imports:upload")
    center = next(
        (c for c in importer.importable_centers(request.user) if c.pk == pending["center"]), None
    )
    if center is None:
        raise PermissionDenied("import not allowed at this center")
    report, context = _checked(request, pending, center, path.read_bytes(), commit=True)
    if not report.committed:
        return _preview(request, report, context)
    path.unlink(missing_ok=True)
    del request.session[SESSION_KEY]
    messages.success(
        request,
        _(
            "Imported %(patients)d patients, %(infusions)d infusions and %(days)d daily "
            "assessments into %(center)s."
        )
        % {
            "patients": report.created[tables.PATIENTS],
            "infusions": report.created[tables.INFUSIONS],
            "days": report.created[tables.ASSESSMENTS],
            "center": center.code,
        },
    )
    return redirect("registry:patient_list")
