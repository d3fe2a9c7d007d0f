"""The Chinese catalogue is complete: every message translated, placeholders kept, nothing
fuzzy, and it compiles."""

from __future__ import annotations

import ast
import re

from django.utils import translation

from tests.web.views.conftest import LOCALE

PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}")


def _entries() -> list[dict[str, object]]:
    """``(comments, msgid, msgstr)`` of each entry of django.po (a small reader)."""
    entries, current, key = [], None, ""
    for line in (LOCALE / "django.po").read_text("utf-8").splitlines():
        if not line.strip():
            current = None
            continue
        if current is None:
            current = {"comments": [], "msgid": "", "msgid_plural": "", "msgstr": ""}
            entries.append(current)
        if line.startswith("#"):
            current["comments"].append(line)
            continue
        match = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (\".*\")$", line)
        if match:
            key = "msgstr" if match.group(1).startswith("msgstr") else match.group(1)
            current[key] = str(current.get(key, "") if key == "msgstr" else "") + ast.literal_eval(
                match.group(2)
            )
        else:
            current[key] = str(current[key]) + ast.literal_eval(line)
    return entries


def test_every_message_is_translated_and_none_is_fuzzy() -> None:
    entries = [entry for entry in _entries() if entry["msgid"]]
    assert len(entries) > 500
    untranslated = [entry["msgid"] for entry in entries if not entry["msgstr"]]
    fuzzy = [entry["msgid"] for entry in entries if any("fuzzy" in c for c in entry["comments"])]
    assert untranslated == []
    assert fuzzy == []


def test_placeholders_survive_translation() -> None:
    """Every placeholder of the message is in the translation; Chinese has one plural form, so
    a plural message's translation holds the plural's placeholders."""
    for entry in _entries():
        if entry["msgid"]:
            source = str(entry["msgid_plural"] or entry["msgid"])
            expected = set(PLACEHOLDER.findall(source))
            assert set(PLACEHOLDER.findall(str(entry["msgstr"]))) == expected, entry["msgid"]


def test_the_catalogue_is_used(chinese_catalogue: None) -> None:
    with translation.override("zh-hans"):
        assert translation.gettext("Register a patient") == "登记患者"
        assert translation.gettext("large B-cell lymphoma") == "大 B 细胞淋巴瘤"
