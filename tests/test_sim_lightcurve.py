"""The fast light-curve path: contract, determinism, files, and agreement with the raw path."""
import numpy as np
import pytest

from spectramind.core import make_rng, airs_to_target
from spectramind.sim.astro import draw_planet
from spectramind.sim.dataset import simulate_visit
from spectramind.sim.detector import adc_info, adc_decode, linear_corr_apply
from spectramind.lightcurve.fgs import annulus_mask
from spectramind.sim.lightcurve import (simulate_lightcurves, lightcurve_set, write_lightcurves, read_lightcurves, bin_sum,
                                        _fgs_mask, target_wavelengths)


def calibrate_box(sim, rows=(8, 24), radius=7.0, airs_bin=30, fgs_bin=360, background=True):
    outs, ok = [], []
    for inst in ("FGS1", "AIRS-CH0"):
        cal = sim["cal"][inst]; g, o = adc_info()[inst]; ts, te = {"AIRS-CH0": (0.1, 4.6), "FGS1": (0.1, 0.2)}[inst]
        e = linear_corr_apply(adc_decode(sim[inst], g, o), cal.linear_corr)
        c = ((e[1::2] - cal.dark * te) - (e[0::2] - cal.dark * ts)) / np.where(cal.flat > 0.2, cal.flat, 1.0)
        bad = cal.dead | (cal.flat <= 0.2)
        if inst == "FGS1":
            m = _fgs_mask(radius); ok.append(np.array([not (bad & m).any()]))
            if background: c = c - c[:, annulus_mask(15.5, 15.5, 10.0, 15.0) & ~bad].mean(1)[:, None, None]   # lightcurve.fgs: annulus mean
            outs.append(bin_sum((c * m).sum((1, 2)), fgs_bin)[:, None])
        else:
            e8 = np.r_[0:8, 24:32]; ok.append(airs_to_target(~bad[rows[0]:rows[1]].any(0) & ~(bad[e8].any(0) & background)))
            if background: c = c - c[:, e8].mean(1)[:, None]                              # calib.background: edge rows
            outs.append(airs_to_target(bin_sum(c[:, rows[0]:rows[1]].sum(1), airs_bin)))
    nb = len(outs[1])
    return np.concatenate([outs[0][:nb], outs[1]], 1), np.concatenate(ok)


def test_contract_and_determinism():
    t = draw_planet(make_rng(3, 4), 4)
    a = simulate_lightcurves(t, 0, make_rng(3, 4, 0)); b = simulate_lightcurves(t, 0, make_rng(3, 4, 0))
    assert a.flux.shape == (187, 283) and np.array_equal(a.flux, b.flux)
    assert np.array_equal(a.wavelength_um, target_wavelengths()) and set(a.aux) == {"fgs_cy", "fgs_cx", "fgs_w", "fgs_jitter", "airs_y", "airs_w"}
    assert np.all(a.var > 0) and np.array_equal(a.meta["depth"], t.depth)


def test_files_round_trip(tmp_path):
    lcs, truths = lightcurve_set(2, seed=5, progress=False)
    for lc in lcs:
        back = read_lightcurves(write_lightcurves(tmp_path / f"{lc.planet_id}_{lc.visit}.npz", lc))
        assert np.array_equal(back.flux, lc.flux) and np.array_equal(back.var, lc.var) and back.planet_id == lc.planet_id
        assert np.array_equal(back.meta["expected"], lc.meta["expected"])


@pytest.mark.parametrize("seed,pid,background", [(4, 21, True), (6, 77, True), (4, 21, False)])
def test_agrees_with_raw_path(seed, pid, background):
    "Same seed: the raw path, minimally calibrated and box-extracted, matches the expectation and variance model."
    t = draw_planet(make_rng(seed, pid), pid)
    lc = simulate_lightcurves(t, 0, make_rng(seed, pid, 0), scale=0.08, noise=False, background=background)
    assert lc.meta["foreground"] is not background   # what tells the fit whether to undo the foreground dilution
    quiet, good = calibrate_box(simulate_visit(t, 0, make_rng(seed, pid, 0), scale=0.08, noise=False), background=background)
    diff = np.abs(quiet - lc.meta["expected"])[:, good]
    npix = (1 + background) * np.concatenate([[_fgs_mask(7.0).sum() * 360], np.full(282, 16 * 30)])[good]
    assert good.sum() > 250 and np.all(diff <= 2 * (0.5 / 0.4369) * npix / 0.9)    # undithered ADC rounding is the only difference
    assert np.median(diff / lc.meta["expected"][:, good]) < 2e-4 * (1 + background)   # the background pixels round too
    noisy, _ = calibrate_box(simulate_visit(t, 0, make_rng(seed, pid, 0), scale=0.08, cosmic_rate=0.0), background=background)
    z = ((noisy - lc.meta["expected"]) / np.sqrt(lc.var))[:, good]
    assert abs(z.std() - 1) < 0.1 and abs(z.mean()) < 0.1   # variance model within 10%


def test_lightcurve_level_dataset(tmp_path):
    import json
    import pandas as pd
    from spectramind.sim.dataset import write_dataset
    man = write_dataset(tmp_path / "lc", n_train=2, n_test=1, seed=8, scale=0.02, level="lightcurve", progress=False)
    files = sorted((tmp_path / "lc" / "lightcurves").rglob("*.npz"))
    assert len(files) == sum(man["planets"]["train"].values()) + sum(man["planets"]["test"].values())
    tr = pd.read_csv(tmp_path / "lc" / "train.csv")
    for f in files:
        lc = read_lightcurves(f)
        assert lc.flux.shape == (3, 283)                       # 112 AIRS exposures -> 3 bins of 30
        if f.parent.name == "train":
            assert np.array_equal(tr.set_index("planet_id").loc[lc.planet_id].to_numpy(), draw_planet(make_rng(8, lc.planet_id), lc.planet_id).depth)
    assert json.loads((tmp_path / "lc" / "sim_manifest.json").read_text())["level"] == "lightcurve"
    assert (tmp_path / "lc_solution.csv").exists() and not (tmp_path / "lc" / "train").exists()
