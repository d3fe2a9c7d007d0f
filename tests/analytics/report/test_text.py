"""The report's catalogue: every key in both languages, the same placeholders in both."""

from __future__ import annotations

import pytest

from carta.analytics.report.text import (
    CATALOGUE,
    CHINESE,
    LANGUAGES,
    VALUE_LABELS,
    Text,
    UnknownLanguageError,
    check_language,
    placeholders,
)


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_every_key_has_both_languages_with_the_same_placeholders(key: str) -> None:
    entry = CATALOGUE[key]
    assert set(entry) == set(LANGUAGES)
    assert all(entry[lang].strip() for lang in LANGUAGES)
    assert placeholders(entry["en"]) == placeholders(entry[CHINESE])


def test_chinese_entries_are_chinese_where_the_english_is_words() -> None:
    # Headings and sentences must be translated, not copied (abbreviations may stay).
    copied = [
        key
        for key, entry in CATALOGUE.items()
        if entry["en"] == entry[CHINESE] and len(entry["en"].split()) > 1
    ]
    assert copied == []


def test_value_labels_have_both_languages() -> None:
    for labels in VALUE_LABELS.values():
        assert set(labels) == set(LANGUAGES)


def test_language_names() -> None:
    assert check_language("zh-Hans") == CHINESE
    assert check_language("zh_hans") == CHINESE
    with pytest.raises(UnknownLanguageError, match="fr"):
        check_language("fr")


def test_values_and_variables() -> None:
    text = Text(CHINESE)
    assert text.value("female") == "女"
    assert text.value(True) == "是"
    assert text.value("cr") == "CR"
    assert text.value("axi-cel") == "axi-cel"
    assert text.variable("sex") == "性别"
    assert text.variable("unknown_column") == "unknown_column"
