"""PDF of the report: the same HTML printed by headless Chromium (ADR 0501).

Chromium lays out the HTML exactly as a browser shows it, with the system's fonts (Chinese
text needs a CJK font such as fonts-noto-cjk) and the SVG figures as vectors. It is looked up
as ``$CARTA_CHROMIUM``, then ``chromium``, ``chromium-browser``, ``google-chrome`` on the
``PATH``; without it :class:`PdfUnavailableError` says how to install it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_SECONDS = 180
INSTALL_HINT = (
    "install Chromium (Debian/Ubuntu: apt-get install chromium) or set CARTA_CHROMIUM to a "
    "Chromium or Chrome executable"
)


class PdfUnavailableError(RuntimeError):
    """No browser to print with, or the browser failed; the message says what to do."""


def find_chromium() -> Path | None:
    """The Chromium executable to print with, or None."""
    chosen = os.environ.get("CARTA_CHROMIUM")
    if chosen:
        path = Path(chosen)
        return path if path.is_file() and os.access(path, os.X_OK) else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def require_chromium() -> Path:
    """:func:`find_chromium` or :class:`PdfUnavailableError`."""
    found = find_chromium()
    if found is None:
        raise PdfUnavailableError(f"cannot write a PDF: no Chromium found; {INSTALL_HINT}")
    return found


def html_to_pdf(html: str, target: Path) -> None:
    """Print ``html`` to the PDF file ``target`` (written by Chromium; not atomic - give a
    temporary path and move it)."""
    chromium = require_chromium()
    with tempfile.TemporaryDirectory(prefix="carta-report-") as folder:
        page = Path(folder) / "report.html"
        page.write_text(html, encoding="utf-8")
        command = [
            str(chromium),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={Path(folder) / 'profile'}",  # never another run's profile lock
            "--no-pdf-header-footer",
            f"--print-to-pdf={target}",
            page.as_uri(),
        ]
        try:
            finished = subprocess.run(
                command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
            )
        except subprocess.TimeoutExpired:
            raise PdfUnavailableError(
                f"Chromium did not finish printing the PDF within {TIMEOUT_SECONDS} s"
            ) from None
        if finished.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
            detail = (finished.stderr or "").strip().splitlines()[-3:]
            raise PdfUnavailableError(
                f"Chromium could not print the PDF (exit code {finished.returncode}): "
                + " | ".join(detail)
            )
