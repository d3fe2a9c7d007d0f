"""Form widgets that write Django's own widget HTML without rendering its templates.

A filter form's drop-downs cost more to render than the page's data: Django renders each
``<select>`` through its template and every ``<option>`` through an included template with the
attributes' template included again (about 40 template renderings for the patient list's
filters). These widgets take Django's widget context unchanged (``get_context``: the value, the
attributes with ``id``, ``aria-invalid`` and the rest, the options and which are selected) and
write the markup of Django's stock templates (``django/forms/widgets/select.html``,
``select_option.html``, ``input.html`` and ``attrs.html``) byte for byte, whitespace included,
and stripped at both ends as Django's form renderer strips a rendered widget. A test renders
them both ways and compares. A widget given another template falls back to the
template.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from carta.web.registry.html import shown

SELECT_TEMPLATE = forms.Select.template_name
OPTION_TEMPLATE = forms.Select.option_template_name
TEXT_TEMPLATE = forms.TextInput.template_name


def _formatted(value: Any) -> str:
    """``{{ value|stringformat:'s' }}`` (``"%s" % value``: ``str``, a safe string kept safe)."""
    return str(conditional_escape(str(value)))


def _attrs(attrs: dict[str, Any]) -> str:
    """``django/forms/widgets/attrs.html``: ``True`` as a bare name, ``False`` left out."""
    return "".join(
        f" {shown(name)}" if value is True else f' {shown(name)}="{_formatted(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _option(option: dict[str, Any]) -> str:
    """``django/forms/widgets/select_option.html`` (its file ends with a line break)."""
    return (
        f'<option value="{_formatted(option["value"])}"{_attrs(option["attrs"])}>'
        f"{shown(option['label'])}</option>\n"
    )


def _select(widget: dict[str, Any]) -> str:
    """``django/forms/widgets/select.html``."""
    parts = [f'<select name="{shown(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{shown(group_name)}">')
        parts.extend(f"\n  {_option(option)}" for option in group_choices)
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _input(widget: dict[str, Any]) -> str:
    """``django/forms/widgets/text.html`` (``input.html`` included)."""
    value = "" if widget["value"] is None else f' value="{_formatted(widget["value"])}"'
    return (
        f'<input type="{shown(widget["type"])}" name="{shown(widget["name"])}"{value}'
        f"{_attrs(widget['attrs'])}>"
    )


class PlainSelect(forms.Select):
    """``forms.Select`` written without its templates (the same HTML)."""

    def _render(
        self, template_name: str, context: dict[str, Any], renderer: Any = None
    ) -> SafeString:
        widget = context["widget"]
        options = (option for _name, group, _index in widget["optgroups"] for option in group)
        if template_name != SELECT_TEMPLATE or any(
            option["template_name"] != OPTION_TEMPLATE for option in options
        ):
            return super()._render(template_name, context, renderer)
        return mark_safe(_select(widget))


class PlainTextInput(forms.TextInput):
    """``forms.TextInput`` written without its templates (the same HTML)."""

    def _render(
        self, template_name: str, context: dict[str, Any], renderer: Any = None
    ) -> SafeString:
        if template_name != TEXT_TEMPLATE:
            return super()._render(template_name, context, renderer)
        return mark_safe(_input(context["widget"]))
