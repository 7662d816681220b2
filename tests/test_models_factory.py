"""Features from the stage contracts, the dataset, the model config and weights, and the physics-only fallback."""
from dataclasses import asdict, replace
import numpy as np
import pytest
import torch
from spectramind.core import N_WL, Flag
from spectramind.contracts import LightCurves
from spectramind.models.factory import (FeatureConfig, ModelConfig, SpectraDataset, build_features, build_model, collate,
                                        load_model, load_model_config, model_config, predict_spectrum, save_model,
                                        synthetic_planet, tiny_config, weights_available, DEFAULT_WEIGHTS)


def test_features_from_contracts():
    lcs, fit, star, truth = synthetic_planet(42, seed=1, n_time=300, noise_ppm=50.0)
    cfg = FeatureConfig(t_fgs=50, n_bins=10)
    f = build_features(lcs, fit, star, truth, cfg)
    assert f["fgs"].shape == (50, cfg.d_fgs) and f["nodes"].shape == (N_WL, cfg.d_node)
    assert f["fgs"].dtype == f["nodes"].dtype == torch.float32 and f["y"].dtype == torch.float64
    assert all(torch.isfinite(v.float()).all() for v in f.values())
    white = fit.depth[1:].mean()
    # AIRS channel light curves dip by their own depth relative to the white depth (binned transit centre)
    inb = slice(4, 6)
    np.testing.assert_allclose(f["nodes"][1:, inb].mean(1).numpy(), -truth[1:] / white, atol=0.02)
    # physics features: (depth - white) / unit and log(sigma / unit)
    np.testing.assert_allclose(f["nodes"][:, 10].numpy(), (fit.depth - white) / 1e-4, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(f["nodes"][:, 11].numpy(), np.log(fit.sigma / 1e-4), rtol=1e-5)
    assert f["in_transit"].sum() > 0 and (~f["in_transit"]).sum() > 0


def test_flagged_samples_are_ignored():
    lcs, fit, star, truth = synthetic_planet(3, seed=0, n_time=200)
    bad_flux, q = lcs.flux.copy(), lcs.quality.copy()
    bad_flux[50:60, 10] = 1e12; q[50:60, 10] = Flag.COSMIC
    lcs2 = LightCurves(lcs.planet_id, 0, lcs.time_h, bad_flux, lcs.var, q, lcs.wavelength_um, lcs.aux).validate()
    a, b = build_features(lcs, fit, star), build_features(lcs2, fit, star)
    assert torch.isfinite(b["nodes"]).all()
    np.testing.assert_allclose(b["nodes"][10].numpy(), a["nodes"][10].numpy(), atol=0.05)   # the cosmic ray is gone


def test_missing_aux_and_star_are_zero():
    lcs, fit, _, _ = synthetic_planet(4, seed=0, n_time=120)
    lcs = LightCurves(lcs.planet_id, 1, lcs.time_h, lcs.flux, lcs.var, lcs.quality, lcs.wavelength_um, {}).validate()
    f = build_features(lcs, fit, None, cfg=FeatureConfig(t_fgs=16, n_bins=8))
    assert torch.all(f["fgs"][:, 1:4] == 0) and torch.all(f["star"] == 0) and f["visit"].item() == 1
    assert not f["y_mask"].any()


def test_dataset_and_collate():
    cfg = FeatureConfig(t_fgs=16, n_bins=8)
    items = [build_features(*synthetic_planet(i, n_time=100)[:3], cfg=cfg) for i in range(3)]
    ds = SpectraDataset(items)
    b = collate([ds[i] for i in range(len(ds))])
    assert b["nodes"].shape == (3, N_WL, 14) and b["planet_id"].tolist() == [0, 1, 2]
    with pytest.raises(ValueError): SpectraDataset(items + [{"fgs": items[0]["fgs"]}])


def test_config_yaml_dict_roundtrip():
    assert load_model_config() == ModelConfig()
    cfg = model_config({"d_model": 48, "gat": {"heads": 3}, "weights": "ignored.pt"})
    assert cfg.gat.heads == 3 and model_config(asdict(cfg)) == cfg
    with pytest.raises(ValueError): model_config({"decoder": {"sigma": 1}})


def test_weights_roundtrip_and_physics_fallback(tmp_path):
    cfg = tiny_config()
    batch = collate([build_features(*synthetic_planet(i, n_time=100)[:3], cfg=cfg.features) for i in range(2)])
    assert not weights_available(tmp_path / "nope.pt") and load_model(tmp_path / "nope.pt") is None
    phys = predict_spectrum(None, batch)
    assert phys["source"] == "physics"
    np.testing.assert_array_equal(phys["mu"], np.clip(batch["depth"].numpy(), 0, None))
    np.testing.assert_array_equal(phys["sigma"], batch["sigma_phys"].numpy())
    m = build_model(cfg, seed=3)
    p = save_model(m, tmp_path / "w.pt", meta={"seed": 3})
    m2 = load_model(p)
    a, b = predict_spectrum(m.eval(), batch), predict_spectrum(m2, batch)
    assert a["source"] == b["source"] == "model"
    np.testing.assert_array_equal(a["mu"], b["mu"]); np.testing.assert_array_equal(a["sigma"], b["sigma"])
    # an untrained model starts at the physics estimate (within a few ppm)
    np.testing.assert_allclose(a["mu"], phys["mu"], rtol=0, atol=5e-6)
    assert DEFAULT_WEIGHTS.name == "spectramind_model.pt" and weights_available() == DEFAULT_WEIGHTS.is_file()


def test_build_model_is_seeded_and_leaves_global_rng_alone():
    before = torch.random.get_rng_state()
    a, b, c = build_model(tiny_config(), 1), build_model(tiny_config(), 1), build_model(tiny_config(), 2)
    assert torch.equal(torch.random.get_rng_state(), before)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert any(not torch.equal(sa[k], sc[k]) for k in sa)
