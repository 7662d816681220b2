"""The model gate: predict leaves the model out where train_artifacts found it losing to the physics chain."""
import json

from spectramind.infer.predict import load_artifacts, model_gate, weights_sha256
from spectramind.learn.refine import weights_path


def _gate(folder, **kw):
    g = dict(model_score=0.50, chain_score=0.55, n_planets=10, weights_sha256=weights_sha256(None), use_model=False) | kw
    (folder / "model_gate.json").write_text(json.dumps(g))
    return g


def test_gate_turns_the_model_off_only_for_the_weights_it_judged(tmp_path):
    assert weights_sha256(None) is not None and len(weights_sha256(None)) == 64
    assert weights_sha256(tmp_path / "missing.pt") is None
    assert load_artifacts(tmp_path, model=True).model is not None            # no gate: the packaged model
    g = _gate(tmp_path)
    assert model_gate(tmp_path) == g and load_artifacts(tmp_path, model=True).model is None
    assert load_artifacts(tmp_path, model=False).model is None and load_artifacts(tmp_path).names == []
    _gate(tmp_path, use_model=True, model_score=0.60)
    assert load_artifacts(tmp_path, model=True).model is not None
    _gate(tmp_path, weights_sha256="0" * 64)                                  # judged other weights: not applied
    assert model_gate(tmp_path) is None and load_artifacts(tmp_path, model=True).model is not None
    assert model_gate(None) is None and weights_path().is_file()
