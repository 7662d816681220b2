"""Spectral conformal calibration: finite-sample quantile, nominal coverage on held-out planets, files."""
import json
import math
import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from spectramind.core import N_WL, WL_COLS, SIGMA_COLS
from spectramind.metric import score_parts
from spectramind.uq.conformal import (ConformalCalibrator, conformal_quantile, fit_conformal, coverage_report,
                                      region_masks, molecule_windows, calibrate_corel_files)

S_TRUE = np.r_[250e-6, np.linspace(40e-6, 200e-6, N_WL - 1)]
WRONG = np.exp(np.linspace(np.log(0.4), np.log(2.5), N_WL))[np.random.default_rng(99).permutation(N_WL)]


def synth(n, seed, df=None):
    "Errors of known scale per bin (Gaussian, or Student t with df), reported sigma wrong by a per-bin factor."
    rng = np.random.default_rng(seed)
    y = rng.uniform(0.005, 0.04, (n, N_WL))
    noise = rng.standard_t(df, y.shape) if df else rng.normal(0, 1, y.shape)
    return y, y + noise * S_TRUE, np.broadcast_to(S_TRUE * WRONG, y.shape).copy()


def test_quantile_rule_matches_brute_force():
    rng = np.random.default_rng(0)
    s = rng.exponential(size=(57, 4))
    for alpha in (0.05, 0.1, 0.32):
        k = math.ceil(58 * (1 - alpha))
        assert np.array_equal(conformal_quantile(s, alpha), np.sort(s, 0)[k - 1])
    with pytest.raises(ValueError, match="too few"): conformal_quantile(s[:10], 0.05)


@pytest.mark.parametrize("alpha,df", [(0.05, 5), (0.32, 5), (0.05, None)])
def test_nominal_coverage_held_out(alpha, df):
    # Tolerance: per-bin coverage of split conformal with n = 1000 calibration and 1000 test planets has
    # a standard deviation of about sqrt(2 alpha (1 - alpha) / 1000) <= 0.021; we allow 0.006 on the mean over
    # the 283 bins and 4.5 standard deviations on any single bin.
    y, mu, sg = synth(1000, 1, df); yh, muh, sgh = synth(1000, 2, df)
    cc = fit_conformal(y, mu, sg, alpha=alpha)
    lvl = 1 - alpha
    z = np.abs(yh - muh) / cc.apply(sgh)
    per_bin = (z <= norm.ppf(1 - alpha / 2)).mean(0)
    sd = math.sqrt(2 * alpha * (1 - alpha) / 1000)
    assert abs(per_bin.mean() - lvl) < 0.006
    assert np.abs(per_bin - lvl).max() < 4.5 * sd
    rep = coverage_report(yh, muh, cc.apply(sgh), levels=(round(lvl, 4),))
    assert rep["overall"][f"{round(lvl, 4):g}"] == pytest.approx(per_bin.mean(), abs=1e-12)
    assert score_parts(yh, muh, cc.apply(sgh), check=False)["unclipped"] > score_parts(yh, muh, sgh, check=False)["unclipped"] + 0.02


def test_gaussian_scale_is_recovered():
    y, mu, sg = synth(2000, 3)
    cc = fit_conformal(y, mu, sg, alpha=0.32)
    # scale = true / reported sigma = 1 / WRONG; per-bin quantile error about 4 % at n = 2000
    assert np.median(np.abs(cc.scale * WRONG - 1)) < 0.03 and np.abs(cc.scale * WRONG - 1).max() < 0.15


def test_regions_and_report_json():
    m = region_masks()
    w = molecule_windows()
    assert set(w) == {"H2O", "CO2", "CH4", "CO", "NH3"} and w["H2O"] == [(1.95, 2.05), (2.55, 2.9)]
    assert m["FGS1"][0] and not m["AIRS"][0] and m["AIRS"].sum() == 282
    assert (m["continuum"] & np.any([m[k] for k in w], axis=0)).sum() == 0
    y, mu, sg = synth(50, 4)
    rep = coverage_report(y, mu, sg)
    json.dumps(rep)
    assert set(rep["regions"]["0.68"]) == {"FGS1", "AIRS", "H2O", "CO2", "CH4", "CO", "NH3", "continuum"}
    assert len(rep["per_bin"]["0.95"]) == N_WL


def test_save_load(tmp_path):
    y, mu, sg = synth(100, 5)
    cc = fit_conformal(y, mu, sg, alpha=0.1)
    back = ConformalCalibrator.load(cc.save(tmp_path / "c.json"))
    assert back == cc and np.array_equal(back.apply(sg), cc.apply(sg))
    with pytest.raises(ValueError, match="sigma <= 0"): fit_conformal(y, mu, -sg)


def test_calibrate_corel_files(tmp_path):
    y, mu, sg = synth(600, 6, df=5)
    ids = np.arange(600) + 5
    pd.concat([pd.DataFrame({"planet_id": ids}), pd.DataFrame(np.hstack([mu.clip(0), sg]), columns=WL_COLS + SIGMA_COLS)], axis=1).to_csv(tmp_path / "oof.csv", index=False)
    pd.concat([pd.DataFrame({"planet_id": ids}), pd.DataFrame(y, columns=WL_COLS)], axis=1).to_csv(tmp_path / "train.csv", index=False)
    r = calibrate_corel_files(tmp_path / "oof.csv", tmp_path / "train.csv", tmp_path / "art", alpha=0.1)
    assert r["coverage_cross_fit"]["0.95"] > r["coverage_before"]["0.95"]
    assert r["score"]["cross_fit"] > r["score"]["before"] + 0.05
    assert all((tmp_path / "art" / f).stat().st_size > 10_000 for f in
               ("conformal_coverage.png", "conformal_coverage_before.png", "conformal_zscores.png"))
    d = json.loads((tmp_path / "art" / "conformal.json").read_text())
    assert d["kind"] == "conformal" and d["alpha"] == 0.1 and len(d["scale"]) == N_WL
