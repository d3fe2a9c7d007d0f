"""Save and load forecast models: a joblib file and its JSON model card beside it.

``save_model(model, "icans.joblib")`` writes ``icans.joblib`` (the fitted scikit-learn
pipelines, the one-hot levels and the card) and ``icans.card.json`` (the same card, readable,
plus the SHA-256 of the model file). Both are written atomically. ``load_model`` checks the
format, the hash against the card when the card is there (a model file swapped or damaged
after training is refused), and warns when the scikit-learn version differs from the one that
trained it (pickled estimators are only guaranteed to load in the same version).

A joblib file is a pickle: loading one runs code from it. Load only models you trained or
received from someone you trust; the hash check detects accidents, not attackers who can also
rewrite the card.
"""

from __future__ import annotations

import hashlib
import io
import json
import warnings
from pathlib import Path
from typing import Any

import joblib

from carta.analytics.forecast.models import MODEL_FORMAT, ForecastModel
from carta.io.writers import write_atomically

CARD_SUFFIX = ".card.json"


class ModelFileError(Exception):
    """The file is not a carta forecast model, or does not match its card."""


def card_path(model_path: Path) -> Path:
    """``icans.joblib`` -> ``icans.card.json`` (beside the model)."""
    return model_path.with_name(model_path.stem + CARD_SUFFIX)


def save_model(model: ForecastModel, path: Path) -> Path:
    """Write the model and its card atomically; returns the card's path."""
    buffer = io.BytesIO()
    joblib.dump({"format": MODEL_FORMAT, "model": model}, buffer, compress=3)
    content = buffer.getvalue()
    card = {**model.card, "model_file": path.name, "model_file_sha256": _sha256(content)}
    text = json.dumps(card, indent=2, ensure_ascii=False, default=_json_default) + "\n"

    def write_model(temporary: Path) -> None:
        temporary.write_bytes(content)

    def write_card(temporary: Path) -> None:
        temporary.write_text(text, encoding="utf-8")

    write_atomically(path, write_model)
    card_file = card_path(path)
    write_atomically(card_file, write_card)
    return card_file


def load_model(path: Path) -> ForecastModel:
    """The model saved at ``path``; :class:`ModelFileError` if it is not one or was altered."""
    if not path.is_file():
        raise ModelFileError(f"no model file at {path}")
    content = path.read_bytes()
    card = read_card(path)
    if card is not None and card.get("model_file_sha256") != _sha256(content):
        raise ModelFileError(
            f"{path} does not match {card_path(path).name} (its SHA-256 differs): the model "
            "file was replaced or damaged after training"
        )
    try:
        stored = joblib.load(io.BytesIO(content))
    except Exception as error:  # joblib raises many types for a file that is not its own
        raise ModelFileError(f"{path} is not a carta forecast model ({error})") from None
    if not isinstance(stored, dict) or stored.get("format") != MODEL_FORMAT:
        raise ModelFileError(f"{path} is not a carta forecast model ({MODEL_FORMAT})")
    model = stored["model"]
    if not isinstance(model, ForecastModel):
        raise ModelFileError(f"{path} does not hold a ForecastModel")
    _warn_on_version_change(model)
    return model


def read_card(path: Path) -> dict[str, Any] | None:
    """The JSON card beside a model file, or ``None`` when there is none."""
    card_file = card_path(path)
    if not card_file.is_file():
        return None
    try:
        card = json.loads(card_file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ModelFileError(f"cannot read the model card {card_file}: {error}") from None
    if not isinstance(card, dict):
        raise ModelFileError(f"{card_file} is not a model card")
    return card


def _warn_on_version_change(model: ForecastModel) -> None:
    import sklearn

    trained = model.card.get("scikit_learn_version")
    if trained and trained != sklearn.__version__:
        warnings.warn(
            f"the model was trained with scikit-learn {trained}; this is {sklearn.__version__}. "
            "Retrain it if predictions look wrong.",
            stacklevel=3,
        )


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _json_default(value: object) -> object:
    """NumPy numbers and tuples in the card as plain JSON."""
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
