"""Build a rule's frozen input dataclass from a plain mapping (a JSON object, a table row).

Keys use the reference's Appendix A field names. Nested item groups (``ice_items``,
``capd_items``) may be given either as a nested mapping or flattened with dotted keys
(``ice_items.orientation_year``), the form a CSV column takes. Keys the rule does not read
are ignored, so one patient-day row can feed every rule.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

T = TypeVar("T")


def _nested_dataclass(annotation: Any) -> type[Any] | None:
    """The dataclass inside ``X | None`` (or ``X``), if the field holds one."""
    candidates = (
        get_args(annotation)
        if get_origin(annotation) in (typing.Union, types.UnionType)
        else (annotation,)
    )
    for candidate in candidates:
        if dataclasses.is_dataclass(candidate) and isinstance(candidate, type):
            return candidate
    return None


def _group(mapping: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    """A nested group given either as ``{name: {...}}`` or as dotted ``name.key`` entries."""
    nested = mapping.get(name)
    if isinstance(nested, Mapping):
        return nested
    prefix = name + "."
    dotted = {key[len(prefix) :]: value for key, value in mapping.items() if key.startswith(prefix)}
    if not dotted or all(value is None for value in dotted.values()):
        return None
    return dotted


# Each class's field names and nested groups, resolved once: ``get_type_hints`` evaluates every
# annotation, and the live form grades on each keystroke.
_FIELD_PLANS: dict[type[Any], tuple[tuple[str, type[Any] | None], ...]] = {}


def _field_plan(cls: type[Any]) -> tuple[tuple[str, type[Any] | None], ...]:
    """Each field's name and, for a nested group, its dataclass."""
    plan = _FIELD_PLANS.get(cls)
    if plan is None:
        hints = get_type_hints(cls)
        plan = tuple(
            (field.name, _nested_dataclass(hints[field.name])) for field in dataclasses.fields(cls)
        )
        _FIELD_PLANS[cls] = plan
    return plan


def observation_from_mapping(cls: type[T], mapping: Mapping[str, Any]) -> T:
    """Construct ``cls`` (a dataclass) from ``mapping``; absent keys keep the field default."""
    values: dict[str, Any] = {}
    for name, nested_cls in _field_plan(cls):
        if nested_cls is not None:
            group = _group(mapping, name)
            if group is not None:
                values[name] = observation_from_mapping(nested_cls, group)
        elif name in mapping:
            values[name] = _freeze(mapping[name])
    return cls(**values)


def _freeze(value: Any) -> Any:
    """Lists become tuples so the frozen dataclass stays hashable and immutable."""
    if isinstance(value, list):
        return tuple(_freeze(item) for item in value)
    if isinstance(value, dict):
        return types.MappingProxyType({key: _freeze(item) for key, item in value.items()})
    return value
