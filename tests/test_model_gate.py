"""The model gate: predict leaves the model out where train_artifacts found it losing to the physics chain."""
import json

import numpy as np
import pytest

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


def test_model_temperature_applied_only_with_the_gate_that_judged_the_weights(tmp_path, monkeypatch):
    import math
    from types import SimpleNamespace
    import spectramind.learn.refine as refine
    from spectramind.infer.predict import predict_from_fit
    from spectramind.uq.temperature import TemperatureScaler
    TemperatureScaler(math.log(2.0), math.log(3.0), "score", True, 10).save(tmp_path / "model_temperature.json")
    t = dict(tau_fgs=2.0, tau_airs=3.0, file="model_temperature.json")
    _gate(tmp_path, use_model=True, temperature=t)
    a = load_artifacts(tmp_path, model=True)
    assert a.model is not None and "model_temperature" in a.names
    assert abs(a.model_temperature.tau_fgs - 2) < 1e-12 and abs(a.model_temperature.tau_airs - 3) < 1e-12
    mu0, s0 = np.full(283, 0.01), np.full(283, 1e-4)
    monkeypatch.setattr(refine, "refine_prediction", lambda model, lcs, tf, star: (mu0.copy(), s0.copy()))
    mu, sg, _ = predict_from_fit(SimpleNamespace(flags=0), a, [object()], {})
    np.testing.assert_allclose(mu, mu0, rtol=0, atol=0)
    np.testing.assert_allclose(sg, s0 * np.r_[2.0, np.full(282, 3.0)], rtol=1e-12)
    _gate(tmp_path, use_model=True)                                            # a gate without a temperature
    assert load_artifacts(tmp_path, model=True).model_temperature is None
    _gate(tmp_path, use_model=True, temperature=t, weights_sha256="0" * 64)    # judged other weights
    assert load_artifacts(tmp_path, model=True).model_temperature is None
    _gate(tmp_path, use_model=False, temperature=t)                            # model off: nothing to calibrate
    a = load_artifacts(tmp_path, model=True); assert a.model is None and a.model_temperature is None


def test_align_check_pairs_each_row_with_its_planet():
    "The retrain's check holds its planets in its own order: reordered, each planet keeps its own mu, sigma and score."
    from spectramind.infer.train import align_check, check_record
    rng = np.random.default_rng(3)
    ids = np.array([30, 10, 20]); y = rng.uniform(0.005, 0.02, (3, 283))
    mu = y + rng.normal(0, 1e-4, (3, 283)); sg = np.full((3, 283), 1e-4)*np.array([1.0, 2.0, 4.0])[:, None]
    mc = check_record(y, mu, sg, 0.015, 0.01)
    a = align_check(mc, ids, [10, 20, 30])
    rows = [1, 2, 0]
    np.testing.assert_array_equal(a["mu"], mu[rows]); np.testing.assert_array_equal(a["sigma"], sg[rows])
    np.testing.assert_allclose(a["per_planet"], check_record(y[rows], mu[rows], sg[rows], 0.015, 0.01)["per_planet"], rtol=0, atol=1e-15)
    assert a["model"] == mc["model"] and not np.array_equal(a["per_planet"], mc["per_planet"])
    with pytest.raises(KeyError): align_check(mc, ids, [10, 40])
