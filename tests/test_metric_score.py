"""The competition metric against hand-computed cases and an independent transcription of the host formula."""
import numpy as np
import pandas as pd
import pytest
import scipy.stats

from spectramind.core import (N_WL, WL_COLS, SIGMA_COLS, SUBMISSION_COLS, FGS_WEIGHT, NAIVE_MEAN, NAIVE_SIGMA,
                              asset_path)
from spectramind.metric import (ParticipantVisibleError, element_scores, score, score_arrays, score_parts,
                                score_files, format_scores, naive_stats)


def _frames(y, mu, sigma, ids=None):
    ids = np.arange(len(y)) + 1000 if ids is None else ids
    sol = pd.concat([pd.DataFrame({"planet_id": ids}), pd.DataFrame(y, columns=WL_COLS)], axis=1)
    sub = pd.concat([pd.DataFrame({"planet_id": ids}), pd.DataFrame(np.hstack([mu, sigma]), columns=WL_COLS + SIGMA_COLS)], axis=1)
    return sol, sub


def _reference(y, mu, sigma, nm, ns, fgs_weight=FGS_WEIGHT, clip=True):
    "The formula of the format spec section 2, written out with scipy's logpdf."
    lp = scipy.stats.norm.logpdf
    s = np.clip(sigma, 1e-15, None)
    st = np.append(1e-6, np.full(y.shape[1] - 1, 1e-5)) * np.ones_like(y)
    ind = (lp(y, mu, s) - lp(y, nm, ns)) / (lp(y, y, st) - lp(y, nm, ns))
    w = np.append(fgs_weight, np.ones(y.shape[1] - 1)) * np.ones_like(ind)
    out = np.sum(w * ind) / np.sum(w)
    return float(np.clip(out, 0, 1)) if clip else float(out)


@pytest.mark.parametrize("err_ppm,fgs,want", [(100, False, 0.598), (50, False, 0.697), (200, False, 0.499),
                                              (100, True, 0.450), (50, True, 0.524)])
def test_worked_example(err_ppm, fgs, want):
    y = np.full((1, N_WL), 0.015); e = err_ppm * 1e-6
    ind = element_scores(y, y + e, np.full_like(y, e))
    assert ind[0, 0 if fgs else 1] == pytest.approx(want, abs=5e-4)


def test_ideal_is_one_and_naive_is_zero():
    rng = np.random.default_rng(0)
    y = rng.uniform(0.003, 0.05, (7, N_WL))
    st = np.append(1e-6, np.full(N_WL - 1, 1e-5)) * np.ones_like(y)
    sol, sub = _frames(y, y, st)
    assert score(sol, sub) == pytest.approx(1.0, abs=1e-12)
    sol, sub = _frames(y, np.full_like(y, NAIVE_MEAN), np.full_like(y, NAIVE_SIGMA))
    assert score(sol, sub, clip=False) == pytest.approx(0.0, abs=1e-12)


def test_matches_reference_formula_and_parts():
    rng = np.random.default_rng(1)
    y = rng.uniform(0.003, 0.05, (40, N_WL)); mu = np.clip(y + rng.normal(0, 150e-6, y.shape), 0, None)
    sg = rng.uniform(20e-6, 600e-6, y.shape)
    nm, ns = naive_stats(y)
    sol, sub = _frames(y, mu, sg)
    assert score(sol, sub, nm, ns) == pytest.approx(_reference(y, mu, sg, nm, ns), rel=1e-12)
    p = score_parts(y, mu, sg, nm, ns)
    assert p["unclipped"] == pytest.approx(_reference(y, mu, sg, nm, ns, clip=False), rel=1e-12)
    assert p["unclipped"] == pytest.approx((FGS_WEIGHT * p["fgs"] + 282 * p["airs"]) / (FGS_WEIGHT + 282), rel=1e-12)
    assert score_arrays(y, mu, sg, nm, ns) == p["score"]


def test_clipping_and_sigma_floor():
    y = np.full((2, N_WL), 0.02); mu = y + 1e-4
    p = score_parts(y, mu, np.full_like(y, 1e-6))           # 100 sigma misses everywhere
    assert p["unclipped"] < -100 and p["score"] == 0.0
    sol, sub = _frames(y, mu, np.zeros_like(y))               # zero sigma: floored at 1e-15, still finite
    val = score(sol, sub, clip=False)
    assert np.isfinite(val) and val == pytest.approx(_reference(y, mu, np.zeros_like(y), NAIVE_MEAN, NAIVE_SIGMA, clip=False), rel=1e-12)


def test_host_validation_messages():
    y = np.full((2, N_WL), 0.02); sol, sub = _frames(y, y, np.full_like(y, 1e-4))
    bad = sub.copy(); bad.loc[0, "wl_10"] = -1e-9
    with pytest.raises(ParticipantVisibleError, match="^Negative values in the submission$"): score(sol, bad)
    bad = sub.copy(); bad.loc[1, "sigma_2"] = -1.0
    with pytest.raises(ParticipantVisibleError, match="^Negative values in the submission$"): score(sol, bad)
    bad = sub.copy(); bad["sigma_2"] = ["a", "b"]
    with pytest.raises(ParticipantVisibleError, match="^Submission column sigma_2 must be a number$"): score(sol, bad)
    with pytest.raises(ParticipantVisibleError, match="^Wrong number of columns in the submission$"):
        score(sol, sub.drop(columns="wl_283"))
    with pytest.raises(ParticipantVisibleError, match="^Wrong number of columns in the submission$"):
        score(sol, sub.assign(x=1.0))
    with pytest.raises(ParticipantVisibleError, match="NaN or infinite"): score(sol, sub.assign(wl_1=np.nan))
    with pytest.raises(ParticipantVisibleError, match="missing"): score(sol, sub.iloc[:1])
    assert sub.shape == (2, 567) and sol.shape == (2, 284)   # inputs untouched


def test_rows_matched_by_id():
    rng = np.random.default_rng(2)
    y = rng.uniform(0.003, 0.05, (5, N_WL)); mu = y + 1e-4; sg = rng.uniform(5e-5, 2e-4, y.shape)
    sol, sub = _frames(y, mu, sg)
    assert score(sol, sub.sample(frac=1, random_state=0)) == pytest.approx(score(sol, sub), rel=1e-14)


def test_real_sample_submission_is_accepted():
    smp = pd.read_csv(asset_path("adc2025", "sample_submission.csv"))
    assert smp.columns.tolist() == SUBMISSION_COLS
    sol = pd.concat([smp[["planet_id"]], pd.DataFrame(np.full((1, N_WL), 0.015), columns=WL_COLS)], axis=1)
    val = score(sol, smp, clip=False)           # mean 0.456 for a 1.5 % depth: hopeless but valid
    assert val < 0 and score(sol, smp) == 0.0


def test_score_files(tmp_path):
    rng = np.random.default_rng(3)
    y = rng.uniform(0.003, 0.05, (30, N_WL)); mu = y + rng.normal(0, 1e-4, y.shape).clip(-0.002, None); sg = np.full_like(y, 1e-4)
    sol, sub = _frames(y, np.clip(mu, 0, None), sg)
    sol.to_csv(tmp_path / "sol.csv", index=False); sub.iloc[::-1].to_csv(tmp_path / "sub.csv", index=False)
    train = pd.concat([sol, sol.assign(planet_id=sol.planet_id + 1)]); train.to_csv(tmp_path / "train.csv", index=False)
    r = score_files(tmp_path / "sol.csv", tmp_path / "sub.csv")
    assert (r["naive_mean"], r["naive_sigma"]) == (NAIVE_MEAN, NAIVE_SIGMA) and "public estimate" in r["naive_source"]
    r2 = score_files(tmp_path / "sol.csv", tmp_path / "sub.csv", train=tmp_path / "train.csv")
    nm, ns = float(y.mean()), float(y.std())
    assert r2["naive_mean"] == pytest.approx(nm, rel=1e-12) and r2["naive_sigma"] == pytest.approx(ns, rel=1e-12)
    assert r2["unclipped"] == pytest.approx(_reference(y, np.clip(mu, 0, None), sg, nm, ns, clip=False), rel=1e-10)
    txt = format_scores(r2)
    assert "score" in txt and "FGS1 part" in txt and "AIRS part" in txt and "computed from" in txt
