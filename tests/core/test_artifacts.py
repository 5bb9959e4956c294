"""Artifacts: SHA-256 checked before unpickling, rebuild on a scikit-learn change."""

from __future__ import annotations

import json
import pickle
import shutil

import pytest

from triage.artifacts import ARTIFACT, CARD_JSON, CARD_MD, ArtifactError, load_verified, read_card
from triage.training import load_model


class _Boom:
    """Unpickling this writes a file: proof that a pickle was (or was not) loaded."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_card_records_versions_hash_and_data(small_model_dir):
    card = read_card(small_model_dir)
    assert len(card["artifact_sha256"]) == 64
    assert len(card["data_hash"]) == 64
    assert {"python", "scikit-learn", "spacy", "joblib", "numpy"} <= set(card["versions"])
    assert "Model card" in (small_model_dir / CARD_MD).read_text()


def test_tampered_artifact_is_refused_before_unpickling(small_model_dir, tmp_path):
    model_dir = tmp_path / "m"
    shutil.copytree(small_model_dir, model_dir)
    marker = tmp_path / "unpickled"
    (model_dir / ARTIFACT).write_bytes(pickle.dumps(_Boom(str(marker))))
    with pytest.raises(ArtifactError, match="does not match the model card"):
        load_verified(model_dir)
    assert not marker.exists()


def test_missing_card_and_artifact_have_clear_errors(small_model_dir, tmp_path):
    with pytest.raises(ArtifactError, match="no model card"):
        load_verified(tmp_path)
    model_dir = tmp_path / "m"
    shutil.copytree(small_model_dir, model_dir)
    (model_dir / ARTIFACT).unlink()
    with pytest.raises(ArtifactError, match="artifact missing"):
        load_verified(model_dir)


def test_other_scikit_learn_version_rebuilds_instead_of_unpickling(small_model_dir, small_model, small_corpus,
                                                                  tmp_path, monkeypatch):
    model_dir = tmp_path / "m"
    shutil.copytree(small_model_dir, model_dir)
    card = json.loads((model_dir / CARD_JSON).read_text())
    card["versions"]["scikit-learn"] = "0.0.1"
    learned = {"type": 0.61, "category": 0.52, "service_area": 0.51}
    card["review_thresholds"] = learned
    (model_dir / CARD_JSON).write_text(json.dumps(card))
    marker = tmp_path / "unpickled"
    (model_dir / ARTIFACT).write_bytes(pickle.dumps(_Boom(str(marker))))  # would run if unpickled
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TRIAGE_TRAINING_DATA", str(small_corpus))
    model = load_model(model_dir)
    assert not marker.exists()
    probes = ["the carers were rude to my dad", "thank you for sorting the invoice", "how do I get a ramp?"]
    # rebuilt from the same data: the same labels and confidences as the model it replaces
    fields = ("type", "type_confidence", "category", "category_confidence", "service_area",
              "service_area_confidence", "reason_terms", "reason_sentence")
    rebuilt_out = [{k: s.to_dict()[k] for k in fields} for s in model.predict_texts(probes)]
    assert rebuilt_out == [{k: s.to_dict()[k] for k in fields} for s in small_model.predict_texts(probes)]
    rebuilt = list((tmp_path / "cache").iterdir())
    assert len(rebuilt) == 1 and (rebuilt[0] / ARTIFACT).is_file()
    # second load uses the cached rebuild (same object behaviour, no retraining needed)
    again = load_model(model_dir)
    assert again.predict_texts(["x y z"])[0].type == model.predict_texts(["x y z"])[0].type
    # the learned review thresholds survive the rebuild, on the first load and from the cache
    assert model.thresholds == learned and again.thresholds == learned
