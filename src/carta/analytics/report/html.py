"""The report as one self-contained HTML file: CSS inline, figures as SVG data URIs, no
request to anything outside the file (it opens the same offline, attached to an e-mail, or
printed to PDF by :mod:`carta.analytics.report.pdf`).

Each figure is an ``<img>`` of an SVG data URI rather than inline SVG so that the ids inside
one figure (glyphs, clip paths) can never clash with another's.
"""

from __future__ import annotations

import base64
from html import escape

from carta.analytics.report.document import Block, Figure, Note, Paragraph, Report, Section, Table
from carta.analytics.report.text import CHINESE, Text

HTML_LANG = {"en": "en", CHINESE: "zh-Hans"}

STYLE = """
@page { size: A4; margin: 14mm 12mm; }
html { font-family: "Noto Sans", "DejaVu Sans", "Noto Sans CJK SC", "Source Han Sans SC",
  "PingFang SC", "Microsoft YaHei", sans-serif; font-size: 10pt; color: #1a1a1a; }
body { max-width: 190mm; margin: 0 auto; padding: 8mm 0; line-height: 1.4; orphans: 3; widows: 3; }
h1 { font-size: 18pt; margin: 0 0 4mm; }
h2 { font-size: 13pt; margin: 8mm 0 2mm; border-bottom: 1px solid #999; padding-bottom: 1mm;
  break-after: avoid; }
.banner { background: #fff3cd; border: 2px solid #b58100; color: #5c4100; font-weight: bold;
  padding: 2mm 3mm; margin-bottom: 4mm; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 1mm 4mm; margin: 0; }
dl.facts dt { font-weight: bold; } dl.facts dd { margin: 0; }
nav ol { columns: 2; margin: 2mm 0; padding-left: 6mm; }
table { border-collapse: collapse; margin: 2mm 0 4mm; font-size: 8.5pt; width: 100%; }
caption { text-align: left; font-weight: bold; padding-bottom: 1mm; }
th, td { border-bottom: 1px solid #ddd; padding: 0.6mm 1.5mm; text-align: right;
  vertical-align: top; }
th { background: #f0f0f0; border-bottom: 1px solid #999; }
th:first-child, td:first-child { text-align: left; white-space: pre; }
tr.head td { font-weight: bold; background: #fafafa; }
tr { break-inside: avoid; }
figure { margin: 2mm 0 4mm; break-inside: avoid; text-align: center; }
p:has(+ figure) { break-after: avoid; }
figure img { width: 160mm; max-width: 100%; height: auto; }
figcaption { font-size: 8.5pt; color: #444; }
p.note { border-left: 3px solid #b58100; background: #fffaf0; padding: 1mm 2mm; }
section.methods p { text-align: justify; }
"""


def render_html(report: Report) -> str:
    """The whole document."""
    text = Text(report.lang)
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{HTML_LANG[report.lang]}">',
        '<head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(report.title)}</title>",
        f"<style>{STYLE}</style></head>",
        "<body>",
        "<header>",
    ]
    if report.synthetic:
        parts.append(f'<div class="banner" role="note">{escape(text("synthetic_banner"))}</div>')
    parts.append(f"<h1>{escape(report.title)}</h1>")
    parts.append('<dl class="facts">')
    for name, value in report.facts:
        parts.append(f"<dt>{escape(name)}</dt><dd>{escape(value)}</dd>")
    parts.append("</dl></header>")
    parts.append(f"<nav><h2>{escape(text('contents'))}</h2><ol>")
    parts += [
        f'<li><a href="#{section.key}">{escape(section.title)}</a></li>'
        for section in report.sections
    ]
    parts.append("</ol></nav>")
    parts += [_section(section) for section in report.sections]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _section(section: Section) -> str:
    blocks = "\n".join(_block(block) for block in section.blocks)
    return (
        f'<section id="{section.key}" class="{section.key}">'
        f"<h2>{escape(section.title)}</h2>\n{blocks}</section>"
    )


def _block(block: Block) -> str:
    if isinstance(block, Paragraph):
        return f"<p>{escape(block.text)}</p>"
    if isinstance(block, Note):
        return f'<p class="note">{escape(block.text)}</p>'
    if isinstance(block, Table):
        return _table(block)
    return _figure(block)


def _table(table: Table) -> str:
    head = "".join(f"<th>{escape(column)}</th>" for column in table.columns)
    rows = []
    for index, row in enumerate(table.rows):
        css = ' class="head"' if index in table.header_rows else ""
        cells = "".join(f"<td>{escape(cell)}</td>" for cell in row)
        rows.append(f"<tr{css}>{cells}</tr>")
    return (
        f"<table><caption>{escape(table.caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _figure(figure: Figure) -> str:
    data = base64.b64encode(figure.svg.encode("utf-8")).decode("ascii")
    return (
        f'<figure><img alt="{escape(figure.caption)}" src="data:image/svg+xml;base64,{data}">'
        f"<figcaption>{escape(figure.caption)}</figcaption></figure>"
    )
