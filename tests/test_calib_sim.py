"""The calibration chain on the project's simulator (spectramind.sim): the simulator's detector effects go through
their inverse steps; a known depth survives calibration (|bias| < 5 ppm on the AIRS white light); injected cosmic rays
are flagged and repaired; the propagated variance matches the scatter of the light curves.

Noise free, the simulator's ADC rounding is the same in every frame of a steady source, and those rounding errors
(up to half an ADU) pile up to 10-100 ppm over a bin instead of averaging out. The depth test therefore runs the
simulator's own detector functions with a 1 e- Gaussian read noise as dither (and nothing else random)."""
from dataclasses import replace
import numpy as np
import pytest
from spectramind.core import make_rng, Flag, asset_path, airs_to_target
from spectramind.contracts import RawObs
from spectramind.data.load import load_axis_info
from spectramind.sim.astro import draw_planet, airs_wavelengths
from spectramind.sim.dataset import simulate_visit
from spectramind.sim.detector import (adc_info, draw_visit, airs_scene, fgs_scene, airs_rate, fgs_rate, accumulate, read_out,
                                      interleave, READ_TIME_S, EXPOSURE_S, airs_profile_bases)
from spectramind.calib.pipeline import calibrate_chain, calibrate_fused
from spectramind.lightcurve.cache import lightcurves_from_obs

SEED, SCALE = 5, 0.2
QUIET = dict(jitter_white=(0.0, 0.0), jitter_ar=(0.0, 0.0), jitter_pink=(0.0, 0.0), defocus=(0.0, 0.0), drift_amp=(1e-12, 1e-12),
             kappa=(0.0, 0.0), intrapixel=(0.0, 0.0), flat_error=0.0, cosmic_rate=0.0, fg_frac=(0.006, 0.006))


def _planet(pid=1234):
    return draw_planet(make_rng(SEED, pid), pid, p_two_visits=0.0, p_partial=0.0, p_graze=0.0)


def _obs(truth, sim):
    ax = load_axis_info(asset_path("adc2025", "axis_info.parquet"))
    na, nf = len(sim["AIRS-CH0"]), len(sim["FGS1"])
    return RawObs(truth.planet_id, 0, sim["AIRS-CH0"], sim["FGS1"], sim["cal"]["AIRS-CH0"], sim["cal"]["FGS1"],
                  ax["AIRS-CH0-axis0-h"][:na], ax["FGS1-axis0-h"][:nf], ax["AIRS-CH0-integration_time"][:na],
                  ax["AIRS-CH0-axis2-um"].copy(), adc_info()).validate()


def _dithered_visit(t, scale, visit_kw, sigma_e=1.0, seed=0):
    "The simulator's detector path (sim.detector) without photon noise, with sigma_e of Gaussian read noise as ADC dither."
    st = draw_visit(t, 0, make_rng(SEED, t.planet_id, 0), scale, **visit_kw)
    rng = np.random.default_rng(seed); out = {"cal": st.cal, "state": st}
    for inst in ("AIRS-CH0", "FGS1"):
        sc = airs_scene(t, st) if inst == "AIRS-CH0" else fgs_scene(t, st); n = st.n_pairs[inst]
        rate = airs_rate(sc, st, 0, n, airs_profile_bases(airs_wavelengths())) if inst == "AIRS-CH0" else fgs_rate(sc, st, 0, n)
        cal = st.cal[inst]; g, o = adc_info()[inst]
        qs, qe = accumulate(rate, np.where(cal.dead, 0.0, cal.dark).astype(np.float32), READ_TIME_S[inst])
        dcal = replace(cal, read=np.full_like(cal.read, sigma_e))
        out[inst] = interleave(read_out(qs, dcal, rng, g, o), read_out(qe, dcal, rng, g, o))
        out[inst + "_star"] = sc[0]          # star flux per exposure with the transit: (n, 356) AIRS columns, (n,) FGS1
        out[inst + "_rate"] = rate
    return out


def _depths(flux, ref):
    "Per-channel depth 1 - <in>/<out>, with in- and out-of-transit bins chosen on the true light curve `ref`."
    rel = ref / ref.max(0); w = rel[:, 1:].mean(1)
    intr = w < 1 - 0.9 * (1 - w.min()); oot = w > 1 - 1e-9
    assert intr.sum() >= 3 and oot.sum() >= 6
    return 1 - flux[intr].mean(0) / flux[oot].mean(0)


@pytest.fixture(scope="module")
def dithered():
    t = _planet(); sim = _dithered_visit(t, SCALE, QUIET)
    fa, ff = sim["AIRS-CH0_star"], sim["FGS1_star"]; nb = len(fa) // 30
    truth = np.c_[ff[: nb * 360].reshape(nb, 360).sum(1), airs_to_target(fa[: nb * 30].reshape(nb, 30, 356).sum(1))]
    return t, _obs(t, sim), truth, sim


def _check_depth(obs, truth, fast):
    td = _depths(truth, truth)
    b = _depths(lightcurves_from_obs(obs, fast=fast).flux, truth) - td
    assert abs(b[1:].mean()) < 5e-6, ("AIRS white light", fast, b[1:].mean())
    assert abs(b[0]) < 1.2e-5, ("FGS1", fast, b[0])              # FGS1: one channel, its dither noise is ~4 ppm rms
    return td


def test_known_depth_survives_calibration(dithered):
    t, obs, truth, _ = dithered
    td = _check_depth(obs, truth, fast=True)
    assert abs(td[1:].mean() - t.depth[1:].mean()) < 0.2 * t.depth[1:].mean()   # the sim's depth, limb darkened
    b = _depths(lightcurves_from_obs(obs, {"background": {"enabled": False}}).flux, truth) - td
    assert b[1:].mean() < -0.002 * td[1:].mean()                  # left in, the 0.6% foreground dilutes the depths


@pytest.mark.slow
def test_known_depth_survives_the_step_chain(dithered):
    _check_depth(dithered[1], dithered[2], fast=False)


def test_simulated_effects_round_trip(dithered):
    "Per pixel and CDS, the calibrated signal is the simulator's photo-charge / flat, to the ADC step (no bins, no repairs)."
    t, obs, _, sim = dithered
    cfg = {"background": {"enabled": False}, "interp": {"enabled": False}, "cosmic": {"enabled": False}, "binning": {"airs": 1, "fgs": 1}}
    for inst, raw, cal, tt, it in (("AIRS-CH0", obs.airs, obs.airs_cal, obs.airs_time_h, obs.airs_int_s),
                                   ("FGS1", obs.fgs[:2400], obs.fgs_cal, obs.fgs_time_h[:2400], None)):
        a = calibrate_fused(raw, inst, cal, obs.adc[inst], tt, it, cfg)
        live = ~cal.dead & (cal.flat > 0.2)
        expect = sim[inst + "_rate"][: len(a.data)] * EXPOSURE_S[inst] / np.where(live, cal.flat, 1.0)[None]
        err = (a.data - expect)[:, live]
        step = 1.05 / adc_info()[inst][0] / cal.flat[live][None]          # one ADC step (x Jacobian), through the flat
        assert (np.abs(err) < 2 * step + 8).all(), np.abs(err).max()    # 2 reads rounded + 1 e- dither on each (4 sigma)
        assert abs(err.mean()) < 0.05                                    # and no offset, e-


def test_cosmics_flagged_and_repaired():
    t = _planet(4321)
    obs = _obs(t, simulate_visit(t, 0, make_rng(SEED, t.planet_id, 0), 0.1, noise=True, **{**QUIET, "cosmic_rate": 2e-4}))
    a = calibrate_chain(obs.airs, "AIRS-CH0", obs.airs_cal, obs.adc["AIRS-CH0"], obs.airs_time_h, obs.airs_int_s, {"binning": {"enabled": False}})
    cr = (a.flags & Flag.COSMIC) != 0
    expect = 2e-4 * 4.6 * (0.7 * 1 + 0.2 * 2 + 0.1 * 4)                 # hits per pixel and exposure x pixels per hit
    assert 0.4 * expect < cr.mean() < 1.2 * expect, (cr.mean(), expect)
    live = ((a.flags[0] & Flag.DEAD) == 0)[None]
    assert ((a.flags[cr & live] & Flag.INTERPOLATED) != 0).all()         # every hit on a live pixel was repaired


def test_lightcurve_variance_matches_scatter():
    "Noisy simulator visit (photon, read, dark noise; the default cosmic-ray rate): bin-to-bin scatter = propagated variance."
    t = _planet(4321)
    obs = _obs(t, simulate_visit(t, 0, make_rng(SEED, t.planet_id, 0), 0.1, noise=True, **{**QUIET, "cosmic_rate": 1e-6}))
    for cfg in ({}, {"extract": {"airs": {"method": "sum"}}}):
        lc = lightcurves_from_obs(obs, {"binning": {"airs": 3, "fgs": 36}, **cfg})
        d = np.diff(lc.flux, axis=0); v = lc.var[1:] + lc.var[:-1]
        rel = lc.flux / lc.flux.max(0); flat_part = np.abs(np.diff(rel[:, 1:].mean(1))) < 2e-4   # skip ingress/egress
        z2 = d[flat_part] ** 2 / v[flat_part]
        assert flat_part.sum() > 30 and abs(z2[:, 1:].mean() - 1) < 0.1, (cfg, z2[:, 1:].mean())
        assert abs(z2[:, 0].mean() - 1) < 0.4, (cfg, z2[:, 0].mean())     # FGS1: one channel, a few dozen differences


def test_simulated_hot_and_dead_pixels_flagged():
    "The simulator's hot pixels (dark 0.012-12 e-/s vs a 0.006 median) and dead pixels are flagged from its maps."
    from spectramind.sim.detector import draw_calibration
    from spectramind.calib.pixels import static_flags
    for inst in ("AIRS-CH0", "FGS1"):
        for k in range(3):
            cal = draw_calibration(make_rng(SEED, 77, k), inst)
            f = static_flags(cal)
            hot = (f & Flag.HOT) != 0
            assert hot[cal.dark > 0.03].all()                          # every clearly hot pixel
            assert (cal.dark[hot] > 0.012).mean() > 0.9                # and few others
            assert ((f & Flag.DEAD) != 0)[cal.dead].all()
