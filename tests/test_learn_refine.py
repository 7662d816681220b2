"""learn.refine: the shipped weights refine a simulated planet to a finite, positive prediction; no model gives the
physics estimate exactly; load_refiner falls back to None (missing file, no validation gain); the per-planet path
agrees with the batched one used by the benchmark."""
import numpy as np
from spectramind.learn.audit import project_to_rules
import pytest
import torch
from spectramind.core import N_WL
from spectramind.learn.refine import (combine_visits, input_fit, load_refiner, model_beats_physics, read_meta, refine_prediction,
                                      weights_path)
from spectramind.models.factory import build_features, build_model, collate, predict_spectrum, save_model, tiny_config
from spectramind.sim.lightcurve import lightcurve_planet
from spectramind.transit.fit import fit_planet


@pytest.fixture(scope="module")
def planet():
    lcs, tr = lightcurve_planet(7404, 3)
    return lcs, fit_planet(lcs, tr.star), tr


def test_shipped_weights_refine(planet):
    lcs, tf, tr = planet
    assert weights_path().is_file() and weights_path().stat().st_size < 5 * 2**20
    meta = read_meta()
    assert {"command", "git_sha", "seeds", "n_train_planets", "validation"} <= set(meta)
    model = load_refiner(require_gain=False)
    mu, sigma = refine_prediction(model, lcs, tf, tr.star)
    assert mu.shape == sigma.shape == (N_WL,) and mu.dtype == np.float64
    assert np.isfinite(mu).all() and (mu >= 0).all() and np.isfinite(sigma).all() and (sigma > 0).all()
    # the model refines the physics depth: the typical change is of the order of the physics sigma, never > 3000 ppm
    assert np.median(np.abs(mu - tf.depth)) < 3 * np.median(tf.sigma) and np.abs(mu - tf.depth).max() < 3e-3
    # the shipped model refines the fit's posterior under the prior it was trained with, carried by the weights
    assert model.input_prior is not None and meta["input_prior"]["kind"] == model.input_prior[0].kind
    assert model.input_prior[1] == meta["input_prior"]["scale"] > 0
    # same numbers as the batched path (posterior -> features per visit -> predict_spectrum -> mean over visits)
    tin = input_fit(tf, model.input_prior); assert not np.array_equal(tin.depth, tf.depth)
    items = [build_features(lc, tin, tr.star, None, model.cfg.features) for lc in lcs]
    p = predict_spectrum(model, collate(items))
    _, mu_b, s_b = combine_visits(np.full(len(lcs), 3), p["mu"], p["sigma"])
    mu_raw, s_raw = refine_prediction(model, lcs, tf, tr.star, rules=False)
    np.testing.assert_allclose(mu_raw, mu_b[0], rtol=1e-12, atol=1e-12); np.testing.assert_allclose(s_raw, s_b[0], rtol=1e-12)
    # with the rules (the default), the batched output held to the rules its input keeps
    mu_p, s_p, _ = project_to_rules(np.maximum(mu_b, 0), s_b, tin.depth[None], tin.sigma[None])
    np.testing.assert_allclose(mu, mu_p[0], rtol=1e-12, atol=1e-15); np.testing.assert_allclose(sigma, s_p[0], rtol=1e-12)
    # load_refiner with require_gain returns the model exactly when validation says it beat physics
    assert (load_refiner() is not None) == model_beats_physics(meta)


def test_no_model_is_physics_exactly(planet):
    lcs, tf, tr = planet
    mu, sigma = refine_prediction(None, lcs, tf, tr.star)
    np.testing.assert_array_equal(mu, tf.depth); np.testing.assert_array_equal(sigma, tf.sigma)


def test_load_refiner_fallbacks(tmp_path):
    assert load_refiner(tmp_path / "missing.pt") is None and load_refiner(tmp_path / "no_such_folder") is None
    net = build_model(tiny_config())
    save_model(net, tmp_path / "worse.pt", meta=dict(validation=dict(model_score=0.40, physics_score=0.45)))
    save_model(net, tmp_path / "spectramind_model.pt", meta=dict(validation=dict(model_score=0.50, physics_score=0.45)))
    assert load_refiner(tmp_path / "worse.pt") is None
    got = load_refiner(tmp_path)                                   # a folder: its spectramind_model.pt
    assert got is not None and not got.training
    sd = net.state_dict()
    assert all(torch.equal(v, sd[k]) for k, v in got.state_dict().items())
