"""Temperature scaling: inject a mis-scaled sigma, recover the temperature, improve the score out of fold."""
import json
import numpy as np
import pandas as pd
import pytest

from spectramind.core import N_WL, WL_COLS, SIGMA_COLS
from spectramind.contracts import SpectrumPred
from spectramind.metric import score_parts, gaussian_loglik
from spectramind.uq.temperature import TemperatureScaler, fit_temperature, calibrate_temp_files, cross_fit

S_TRUE = np.r_[250e-6, np.linspace(40e-6, 200e-6, N_WL - 1)]   # error scale per bin, transit depth


def synth(n, seed, scale_fgs=3.0, scale_airs=3.0):
    "Out-of-fold-like predictions: Gaussian errors of known sigma, reported sigma mis-scaled."
    rng = np.random.default_rng(seed)
    y = rng.uniform(0.005, 0.04, (n, N_WL))
    s = S_TRUE * rng.uniform(0.7, 1.4, (n, 1))
    mu = y + rng.normal(0, 1, y.shape) * s
    return y, mu, s * np.r_[scale_fgs, np.full(N_WL - 1, scale_airs)], s


@pytest.mark.parametrize("objective", ["score", "nll"])
def test_recovers_one_third(objective):
    y, mu, sg, _ = synth(400, 1)
    ts = fit_temperature(y, mu, sg, objective=objective)
    assert ts.tau == pytest.approx(1 / 3, rel=0.05)
    assert ts.tau_fgs == ts.tau_airs and ts.stats["after"]["score"] > ts.stats["before"]["score"]


def test_improves_out_of_fold():
    y, mu, sg, s = synth(400, 2)
    yh, muh, sgh, sh = synth(400, 3)                       # held-out planets
    ts = fit_temperature(y, mu, sg)
    sc = lambda sig: score_parts(yh, muh, sig, check=False)["unclipped"]
    gll = lambda sig: gaussian_loglik(yh, muh, sig).mean()
    assert sc(ts.apply(sgh)) > sc(sgh) + 0.05
    assert sc(ts.apply(sgh)) == pytest.approx(sc(sh), abs=2e-3)     # as good as the true sigmas
    assert gll(ts.apply(sgh)) > gll(sgh)


def test_per_instrument():
    y, mu, sg, _ = synth(1000, 4, scale_fgs=0.5, scale_airs=3.0)
    ts = fit_temperature(y, mu, sg, per_instrument=True)
    assert ts.tau_fgs == pytest.approx(2.0, rel=0.1)      # FGS1: one bin per planet, 1000 samples
    assert ts.tau_airs == pytest.approx(1 / 3, rel=0.05)
    one = fit_temperature(y, mu, sg)
    assert ts.stats["after"]["score"] > one.stats["after"]["score"]


def test_bounds_and_bad_input():
    y, mu, sg, _ = synth(50, 5, scale_fgs=1e-5, scale_airs=1e-5)
    assert fit_temperature(y, mu, sg, tau_max=100.0).tau == pytest.approx(100.0)
    sg2 = sg.copy(); sg2[0, 0] = 0
    with pytest.raises(ValueError, match="sigma <= 0"): fit_temperature(y, mu, sg2)
    with pytest.raises(ValueError, match="objective"): fit_temperature(y, mu, sg, objective="mse")


def test_save_load_apply(tmp_path):
    y, mu, sg, _ = synth(100, 6)
    ts = fit_temperature(y, mu, sg, per_instrument=True)
    back = TemperatureScaler.load(ts.save(tmp_path / "t.json"))
    assert back == ts and np.allclose(back.apply(sg), ts.apply(sg), rtol=0, atol=0)
    pred = back.apply(SpectrumPred(np.arange(100), mu.clip(0), sg))
    assert np.allclose(pred.sigma[:, 0], sg[:, 0] * ts.tau_fgs) and "temperature" in pred.meta
    (tmp_path / "c.json").write_text(json.dumps({"kind": "conformal"}))
    with pytest.raises(ValueError, match="not a temperature file"): TemperatureScaler.load(tmp_path / "c.json")


def test_cross_fit_is_out_of_fold():
    y, mu, sg, _ = synth(200, 7)
    oof = cross_fit(fit_temperature, y, mu, sg, k=4, seed=1)
    f = oof / sg                                            # one factor per fold, each near 1/3
    assert len(np.unique(np.round(f[:, 1], 12))) == 4 and np.allclose(f, 1 / 3, rtol=0.05)


def test_calibrate_temp_files(tmp_path):
    y, mu, sg, _ = synth(300, 8)
    ids = np.arange(300) * 3 + 11
    pd.concat([pd.DataFrame({"planet_id": ids[:200]}), pd.DataFrame(np.hstack([mu[:200].clip(0), sg[:200]]), columns=WL_COLS + SIGMA_COLS)], axis=1).to_csv(tmp_path / "oof.csv", index=False)
    pd.concat([pd.DataFrame({"planet_id": ids}), pd.DataFrame(y, columns=WL_COLS)], axis=1).iloc[::-1].to_csv(tmp_path / "train.csv", index=False)
    r = calibrate_temp_files(tmp_path / "oof.csv", tmp_path / "train.csv", tmp_path / "art", per_instrument=False)
    assert r["tau_airs"] == pytest.approx(1 / 3, rel=0.05)
    assert r["cross_fit"]["score"] > r["before"]["score"] + 0.05
    d = json.loads((tmp_path / "art" / "temperature.json").read_text())
    assert d["kind"] == "temperature" and d["n_planets"] == 200 and d["stats"]["naive_mean"] == pytest.approx(y.mean())
    assert (tmp_path / "art" / "temperature_zscores.png").stat().st_size > 10_000
