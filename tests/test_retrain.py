"""Retraining the model on a competition folder's labelled train split (infer.train.retrain_model through
train_artifacts): weights in the artifact folder with a validation record made on held-out planets, a model gate
judged on those planets only, and predict loading these weights rather than the packaged ones."""
import json

import numpy as np
import pytest

from spectramind.config import load_config
from spectramind.infer.demo import demo_overrides
from spectramind.infer.predict import load_artifacts, model_gate, weights_sha256
from spectramind.infer.train import train_artifacts
from spectramind.learn.data import prior_fingerprint
from spectramind.learn.refine import read_meta, record_prior, weights_path
from spectramind.sim.dataset import write_dataset


@pytest.fixture(scope="module")
def retrained(tmp_path_factory):
    root = tmp_path_factory.mktemp("retrain")
    write_dataset(root / "data", 10, 0, 21, 0.05, progress=False)
    cfg = load_config(demo_overrides(0.05, "hybrid") + [f"run.out_dir={root}"])
    rep = train_artifacts(root / "data", root / "art", cfg, 1, root / "lc", False, retrain=dict(epochs=2, n_folds=5, seed=3))
    return root, rep


def test_retrained_weights_and_their_record(retrained):
    root, rep = retrained
    w = root / "art" / "spectramind_model.pt"
    meta, packaged = read_meta(w), read_meta(None)
    rt = rep["retrain"]
    assert rt["weights"] == str(w) and len(rt["val_planets"]) == 2 and rt["epochs_run"] == 2   # 10 planets, 5 folds
    assert meta["val_planets"] == rt["val_planets"] and meta["n_train_planets"] == 8 and meta["n_val_planets"] == 2
    fp = lambda m: prior_fingerprint(record_prior(m["input_prior"]))
    assert fp(meta) == fp(packaged) and fp(meta) is not None         # the same input prior as the weights it started from
    assert meta["init_sha256"] == weights_sha256(None)
    v = meta["validation"]
    assert v == rt["validation"] and v["n_planets"] == 2
    assert v["beats_physics"] == (v["model_score"] > v["physics_score"]) and abs(v["gain"] - (v["model_score"] - v["physics_score"])) < 1e-12


def test_gate_judges_the_retrained_weights_on_held_out_planets(retrained):
    root, rep = retrained
    art = root / "art"
    g = json.loads((art / "model_gate.json").read_text())
    assert g["n_planets"] == 2 and g["weights_sha256"] == weights_sha256(art / "spectramind_model.pt")
    assert model_gate(art, art / "spectramind_model.pt") == g
    a = load_artifacts(art, model=True)                               # predict's view of the folder
    meta = read_meta(art / "spectramind_model.pt")
    expected = g["use_model"] and meta["validation"]["beats_physics"]
    assert (a.model is not None) == expected
    assert weights_path(art) == art / "spectramind_model.pt"
