"""Light-curve products: extraction on calibrated toy visits, the npz cache, and calibrate_dataset's batch behaviour
(parallel processes, failures recorded and skipped, reruns served from the cache, config changes recomputed)."""
import json
import numpy as np
import pytest
from spectramind.core import N_WL, Flag
from spectramind.calib.pipeline import toy_observation
from spectramind.lightcurve.cache import (calibrate_dataset, lightcurves_from_obs, load_lightcurves, save_lightcurves,
                                          cache_path, lc_config_hash, _write_toy_split)


def test_lightcurves_contract_and_channel_order():
    obs, truth = toy_observation(n_pairs=60, seed=3)
    lc = lightcurves_from_obs(obs)
    assert lc.flux.shape == (2, N_WL) and lc.quality.dtype == np.uint8
    assert lc.wavelength_um[0] == 0.7 and np.all(np.diff(lc.wavelength_um[1:]) > 0)      # AIRS ascending = target order
    # toy spectrum peaks at detector column 300 -> target channel 321 - 300 = 21 (wl_22)
    assert abs(int(np.argmax(lc.flux[0, 1:])) + 1 - (321 - 300)) <= 3
    assert {"fgs_cx", "fgs_cy", "fgs_jitter", "airs_y", "airs_w"} <= set(lc.aux)
    assert lc.meta["config_hash"] == lc_config_hash() and [r["step"] for r in lc.meta["steps"]["AIRS-CH0"]][:2] == ["adc", "pixels"]


def test_chain_and_fast_light_curves_agree():
    obs, _ = toy_observation(n_pairs=60, seed=4, cosmic_rays=4)
    a, b = lightcurves_from_obs(obs, fast=False), lightcurves_from_obs(obs, fast=True)
    assert (np.abs(a.flux - b.flux) <= 1e-3 * np.sqrt(a.var)).all() and np.array_equal(a.quality, b.quality)
    np.testing.assert_allclose(a.var, b.var, rtol=1e-5)


def test_cache_round_trip(tmp_path):
    obs, _ = toy_observation(n_pairs=30, seed=5)
    lc = lightcurves_from_obs(obs)
    p = save_lightcurves(lc, cache_path(tmp_path, 7, 1, "abc"))
    assert p.name == "7_1_abc.npz"
    back = load_lightcurves(p)
    for k in ("time_h", "flux", "var", "quality", "wavelength_um"): assert np.array_equal(getattr(back, k), getattr(lc, k))
    assert back.meta == json.loads(json.dumps(lc.meta, default=str)) and back.aux.keys() == lc.aux.keys()


def test_calibrate_dataset_parallel_failures_and_cache(tmp_path):
    root = _write_toy_split(tmp_path / "data", ids=(101, 202, 303), n_pairs=30, missing=404)
    (root / "train" / "303" / "FGS1_signal_0.parquet").write_bytes(b"not a parquet file")          # a broken planet
    s1 = calibrate_dataset(root, workers=2, cache_dir=tmp_path / "lc", progress=False)
    assert (s1["computed"], s1["cached"], s1["failed"]) == (2, 0, 2)
    reasons = {f["planet_id"]: f["reason"] for f in s1["failures"]}
    assert set(reasons) == {303, 404} and "FGS1_signal_0" in reasons[303]
    s2 = calibrate_dataset(root, workers=2, cache_dir=tmp_path / "lc", progress=False)
    assert (s2["computed"], s2["cached"], s2["failed"]) == (0, 2, 2)
    s3 = calibrate_dataset(root, planets=[101], cache_dir=tmp_path / "lc", cfg={"calib": {"binning": {"airs": 15, "fgs": 180}}}, progress=False)
    assert s3["computed"] == 1 and s3["config_hash"] != s1["config_hash"]
    lc = load_lightcurves(s3["paths"][101][0])
    assert lc.flux.shape == (2, N_WL) and lc.meta["bins"] == {"airs": 15, "fgs": 180}
