"""Model files: save/load round trip, the card beside them, refusal of altered or foreign files."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import joblib
import pytest

from carta.analytics.forecast.models import MODEL_FORMAT, predict
from carta.analytics.forecast.store import ModelFileError, card_path, load_model, save_model
from tests.analytics.forecast.helpers import ridge_model, synthetic_frame


def test_round_trip_gives_identical_predictions(tmp_path: Path) -> None:
    model = ridge_model()
    path = tmp_path / "icans.joblib"
    card_file = save_model(model, path)
    assert card_file == tmp_path / "icans.card.json"
    loaded = load_model(path)
    assert loaded.version == model.version
    frame = synthetic_frame()
    assert predict(loaded, frame).equals(predict(model, frame))


def test_the_card_is_readable_json_with_the_file_hash(tmp_path: Path) -> None:
    path = tmp_path / "m.joblib"
    save_model(ridge_model(), path)
    card = json.loads(card_path(path).read_text(encoding="utf-8"))
    assert card["format"] == MODEL_FORMAT
    assert card["model_version"] == ridge_model().version
    assert len(card["model_file_sha256"]) == 64
    assert card["targets"]["icans_5d"]["selected_cv"]["auroc"] > 0.5
    assert {"created_utc", "carta_version", "scikit_learn_version", "data"} <= set(card)


def test_an_altered_model_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.joblib"
    save_model(ridge_model(), path)
    content = bytearray(path.read_bytes())
    content[-10] ^= 0xFF
    path.write_bytes(bytes(content))
    with pytest.raises(ModelFileError, match="SHA-256 differs"):
        load_model(path)


def test_files_that_are_not_models_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="no model file"):
        load_model(tmp_path / "absent.joblib")
    text = tmp_path / "notes.joblib"
    text.write_text("not a model")
    with pytest.raises(ModelFileError, match="not a carta forecast model"):
        load_model(text)
    other = tmp_path / "other.joblib"
    joblib.dump({"format": "something else"}, other)
    with pytest.raises(ModelFileError, match="not a carta forecast model"):
        load_model(other)
    plain = tmp_path / "plain.joblib"
    plain.write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(ModelFileError):
        load_model(plain)


def test_a_model_without_its_card_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "m.joblib"
    save_model(ridge_model(), path)
    card_path(path).unlink()
    assert load_model(path).version == ridge_model().version


def test_a_version_change_warns(tmp_path: Path) -> None:
    model = ridge_model()
    path = tmp_path / "m.joblib"
    original = model.card["scikit_learn_version"]
    model.card["scikit_learn_version"] = "0.0.1"
    try:
        save_model(model, path)
    finally:
        model.card["scikit_learn_version"] = original
    with pytest.warns(UserWarning, match="trained with scikit-learn 0.0.1"):
        load_model(path)
