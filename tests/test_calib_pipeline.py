"""Calibration pipeline: the fused fast path equals the step chain; the real vendored frames run through both; injected
effects round-trip; the propagated variance matches the scatter; a known depth survives (|bias| < 5 ppm)."""
import numpy as np
import pytest
from spectramind.core import Flag, asset_path
from spectramind.calib.pipeline import (calibrate_chain, calibrate_fused, calibrate_obs, toy_observation, encode_reads, STEP_ORDER)
from spectramind.calib.dark import read_dt
from spectramind.lightcurve.cache import lightcurves_from_obs
from spectramind.data.load import read_signal, load_calibration, load_adc_info, load_axis_info

REF = "train_342072318_truncated_sample"


@pytest.fixture(scope="module")
def noisy():
    return toy_observation(n_pairs=90, seed=11, cosmic_rays=8, jitter_px=0.02, foreground=0.004)


def _both(obs, inst, cfg=None):
    raw, cal, t, it = (obs.airs, obs.airs_cal, obs.airs_time_h, obs.airs_int_s) if inst == "AIRS-CH0" else (obs.fgs, obs.fgs_cal, obs.fgs_time_h, None)
    return calibrate_chain(raw, inst, cal, obs.adc[inst], t, it, cfg), calibrate_fused(raw, inst, cal, obs.adc[inst], t, it, cfg)


def _assert_equal(a, b):
    assert a.data.shape == b.data.shape and np.array_equal(a.flags, b.flags)
    assert (np.abs(a.data - b.data) <= 1e-3 * np.sqrt(a.var)).all()     # within 0.1% of each bin's noise
    np.testing.assert_allclose(b.var, a.var, rtol=1e-5)
    np.testing.assert_allclose(b.time_h, a.time_h, atol=1e-12)
    assert [s[:2] for s in b.steps if s[0] != "fused"] == [s[:2] for s in a.steps]


CONFIGS = [None, {"linearity": {"enabled": False}}, {"dark": {"timing": "reset"}, "interp": {"flags": ["DEAD", "COSMIC"], "max_dist": 2}},
           {"pixels": {"enabled": False}}, {"interp": {"enabled": False}, "cosmic": {"nsigma": 5.0}},
           {"interp": {"var_floor_rel": 0.01}, "background": {"airs_rows": 4, "fgs_border": 2}}, {"flat": {"enabled": False}, "binning": {"airs": 15, "fgs": 180}}]


@pytest.mark.parametrize("cfg", CONFIGS, ids=[str(i) for i in range(len(CONFIGS))])
def test_fused_equals_chain(noisy, cfg):
    obs, _ = noisy
    for inst in ("AIRS-CH0", "FGS1"): _assert_equal(*_both(obs, inst, cfg))


def test_real_frames_run_through_both_paths():
    d = asset_path("adc2025", REF); adc = load_adc_info(asset_path("adc2025", "adc_info.csv")); ax = load_axis_info(asset_path("adc2025", "axis_info.parquet"))
    for inst, key in (("AIRS-CH0", "AIRS-CH0-axis0-h"), ("FGS1", "FGS1-axis0-h")):
        raw = read_signal(d / f"{inst}_signal_0.parquet", inst); cal = load_calibration(d / f"{inst}_calibration_0", inst)
        it = ax["AIRS-CH0-integration_time"][:50] if inst == "AIRS-CH0" else None
        cfg = {"binning": {"airs": 5, "fgs": 5}}
        a = calibrate_chain(raw, inst, cal, adc[inst], ax[key][:50], it, cfg).validate()
        b = calibrate_fused(raw, inst, cal, adc[inst], ax[key][:50], it, cfg).validate()
        _assert_equal(a, b)
        assert a.data.shape[0] == 5 and np.isfinite(a.data).all()
        assert ((a.flags[0] & Flag.DEAD) != 0).sum() == cal.dead.sum()
        assert sum(s[2]["delta_stats"].get("n_cosmic", 0) for s in a.steps) == 0    # no false alarms on real frames


def test_injected_cosmics_flagged_and_repaired():
    obs, truth = toy_observation(n_pairs=60, seed=None, cosmic_rays=12)
    for inst, n in (("AIRS-CH0", 30), ("FGS1", 360)):
        unb = {"binning": {"enabled": False}}
        a = calibrate_chain(*( (obs.airs, inst, obs.airs_cal, obs.adc[inst], obs.airs_time_h, obs.airs_int_s) if inst == "AIRS-CH0"
                               else (obs.fgs, inst, obs.fgs_cal, obs.adc[inst], obs.fgs_time_h, None)), unb)
        hits = {tuple(h) for h in truth["cosmic"][inst]}
        cr = {tuple(x) for x in np.argwhere(a.flags & Flag.COSMIC)}
        static = (a.flags[0] & Flag.DEAD) != 0
        assert {h for h in hits if not static[h[1], h[2]]} <= cr          # every hit on a live pixel is found
        assert len(cr - hits) == 0                                        # and nothing else (noise free)
        tr = truth["airs_cds" if inst == "AIRS-CH0" else "fgs_cds"]
        for t, r, c in hits - {h for h in hits if static[h[1], h[2]]}:
            assert abs(a.data[t, r, c] - tr[t, r, c]) < 0.01 * tr[t, r, c] + 10   # repaired to the neighbours' level


def test_variance_matches_scatter():
    obs, truth = toy_observation(n_pairs=240, seed=21)
    for inst, n, key in (("AIRS-CH0", 30, "airs_cds"), ("FGS1", 360, "fgs_cds")):
        a = _both(obs, inst, {"background": {"enabled": False}})[1]
        tb = truth[key].reshape(len(a.data), n, *truth[key].shape[1:]).sum(1)
        g = a.flags == 0
        z2 = ((a.data - tb) ** 2 / a.var)[g]
        assert abs(z2.mean() - 1) < 0.1, (inst, z2.mean())


def _toy_lc(n_pairs, seed):
    obs, truth = toy_observation(n_pairs=n_pairs, seed=seed)
    return lightcurves_from_obs(obs, {"binning": {"airs": 1, "fgs": 12}}), truth      # one bin per AIRS CDS


def test_airs_lightcurve_variance_matches_scatter():
    lc, truth = _toy_lc(300, 22)
    # out-of-transit bins of the flat toy are constant, so bin-to-bin differences show the noise (282 channels)
    oot = np.abs(lc.time_h - truth["t0_h"]) > 0.55 * truth["t14_h"]
    i = np.flatnonzero(oot); i = i[np.isin(i + 1, i)]
    r = ((lc.flux[i + 1, 1:] - lc.flux[i, 1:]) ** 2 / (lc.var[i + 1, 1:] + lc.var[i, 1:])).mean()
    assert abs(r - 1) < 0.1, r


@pytest.mark.slow
def test_fgs_lightcurve_variance_matches_scatter():
    from spectramind.lightcurve.fgs import aperture_weights
    lc, truth = _toy_lc(1200, 23)                                    # 1 200 bins: the scatter is known to 4%
    w = aperture_weights(15.5, 15.5, 7.0)
    f_true = (truth["fgs_cds"].reshape(len(lc.time_h), 12, 32, 32) * w).sum((1, 2, 3))
    z2 = (lc.flux[:, 0] - f_true) ** 2 / lc.var[:, 0]
    assert abs(z2.mean() - 1) < 0.1, z2.mean()


def _depth(lc, truth):
    intr = np.abs(lc.time_h - truth["t0_h"]) < 0.3 * truth["t14_h"]; oot = np.abs(lc.time_h - truth["t0_h"]) > 0.65 * truth["t14_h"]
    w = lc.flux[:, 1:].sum(1)
    return 1 - lc.flux[intr, 0].mean() / lc.flux[oot, 0].mean(), 1 - w[intr].mean() / w[oot].mean()


def test_known_depth_survives_calibration():
    obs, truth = toy_observation(n_pairs=480, seed=None, depth=0.01, foreground=0.006, dither=True)   # noise free, dithered ADC
    for fast in (True, False):
        lc = lightcurves_from_obs(obs, fast=fast)
        f, a = _depth(lc, truth)
        assert abs(f - 0.01) < 5e-6 and abs(a - 0.01) < 5e-6, (fast, f - 0.01, a - 0.01)
    nobg = lightcurves_from_obs(obs, {"background": {"enabled": False}})
    assert _depth(nobg, truth)[1] < 0.01 * (1 - 0.003)                  # without the background step: diluted


def test_encode_then_calibrate_round_trip():
    obs, truth = toy_observation(n_pairs=30, seed=None)
    a = calibrate_chain(obs.fgs, "FGS1", obs.fgs_cal, obs.adc["FGS1"], obs.fgs_time_h, None,
                        {"background": {"enabled": False}, "binning": {"enabled": False}})
    good = a.flags == 0
    np.testing.assert_allclose(a.data[good], truth["fgs_cds"][good], atol=1.05 / obs.adc["FGS1"][0] + 0.05 * 0)
