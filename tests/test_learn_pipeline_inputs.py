"""Real stage outputs feed the model: simulator light curves (light-curve mode) -> physics fit -> build_features ->
a model forward pass and one training epoch. Catches contract drift between the stages and the model inputs."""
import numpy as np
import torch
from spectramind.core import N_WL
from spectramind.sim.lightcurve import lightcurve_planet
from spectramind.transit.fit import fit_planet
from spectramind.models.factory import build_features, build_model, collate, predict_spectrum, tiny_config
from spectramind.learn.train import TrainConfig, fit


def test_stage_outputs_to_model(tmp_path):
    cfg, items = tiny_config(), []
    for pid in range(4):
        lcs, truth = lightcurve_planet(11, 500 + pid)
        tf = fit_planet(lcs, truth.star)
        items += [build_features(lc, tf, truth.star, truth.depth, cfg.features) for lc in lcs]
    b = collate(items)
    assert b["nodes"].shape[1:] == (N_WL, cfg.features.d_node) and b["fgs"].shape[1:] == (cfg.features.t_fgs, cfg.features.d_fgs)
    assert all(torch.isfinite(v.float()).all() for v in b.values())
    assert b["fgs"][:, :, 1].abs().sum() > 0                         # a centroid series arrived (fgs_cx or fgs_dx)
    out = build_model(cfg)(b)
    np.testing.assert_allclose(out["mu"].detach().numpy(), b["depth"].numpy(), rtol=0, atol=5e-6)   # starts at physics
    phys = predict_spectrum(None, b)
    assert phys["source"] == "physics" and np.all(phys["sigma"] > 0)
    r = fit(build_model(cfg), items[:-1], items[-1:], TrainConfig(epochs=1, batch_size=2, patience=0), tmp_path)
    assert np.isfinite(r.history[0]["val"]) and np.isfinite(r.history[0]["score"])
