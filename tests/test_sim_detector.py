"""Each detector effect of the simulator against its calibration inverse or an exact expected value."""
import numpy as np
import pytest

from spectramind.core import make_rng
from spectramind.contracts import CalFrames
from spectramind.sim.astro import draw_planet
from spectramind.sim.detector import (adc_info, adc_encode, adc_decode, nonlinearity, linear_corr_apply, reference_calibration,
                                      draw_calibration, accumulate, photon_noise, cosmic_rays, read_out, interleave, gain_drift,
                                      drift_polynomials, simulate_reads, draw_visit, airs_scene, fgs_scene, airs_rate, fgs_rate,
                                      READ_TIME_S, jitter_series, exposure_moments, airs_profile, airs_profile_bases,
                                      profile_coefficients, airs_wavelengths)

G, O = adc_info()["AIRS-CH0"]


def test_adc_round_trip_within_quantisation():
    e = np.random.default_rng(0).uniform(-999, 148000, 200000)
    back = adc_decode(adc_encode(e, G, O), G, O)
    assert np.abs(back - e).max() <= 0.5 / G + 1e-9          # 1.144 e-
    assert adc_encode(np.array([0.0]), G, O)[0] == 437        # zero charge reads 437 ADU, the real background


@pytest.mark.parametrize("inst", ["AIRS-CH0", "FGS1"])
def test_nonlinearity_inverts_linear_corr(inst):
    for cal in (reference_calibration(inst), draw_calibration(make_rng(1, 2), inst)):
        q = np.linspace(0, 1e5, 21)[:, None, None] * np.ones((1, *cal.dark.shape))
        x = nonlinearity(q, cal.linear_corr)
        assert np.all(np.abs(linear_corr_apply(x, cal.linear_corr) - q) <= 1e-6 * np.maximum(q, 1.0))
        assert np.median(x[-1]) < 1e5                         # the detector under-reads a full well


def test_dark_accumulates_exactly():
    dark = np.random.default_rng(0).uniform(0, 12, (32, 356))
    for inst, (ts, te) in READ_TIME_S.items():
        qs, qe = accumulate(np.zeros((2, 32, 356)), dark, (ts, te))
        assert np.array_equal(qs[0], dark * ts) and np.array_equal(qe[1], dark * te)
    assert READ_TIME_S == {"AIRS-CH0": (0.1, 4.6), "FGS1": (0.1, 0.2)}  # the organiser's dark timing


def test_photon_noise_on_increments():
    lam = np.full((2000, 32, 32), 4000.0, np.float32)
    s, e = photon_noise(np.random.default_rng(1), lam * 0.5, lam)
    assert abs(s.var() / 2000 - 1) < 0.02 and abs((e - s).var() / 2000 - 1) < 0.02
    assert abs(np.corrcoef(s.ravel(), (e - s).ravel())[0, 1]) < 0.01      # independent increments


def test_read_noise_per_read_and_cds_cancels_offsets():
    cal = draw_calibration(make_rng(3), "FGS1")
    lin = CalFrames("FGS1", cal.dark, cal.dead, cal.flat, np.concatenate([np.zeros((1, 32, 32)), np.ones((1, 32, 32)), np.zeros((4, 32, 32))]), cal.read)
    q = np.full((4000, 32, 32), 1000.0)
    r = adc_decode(read_out(q, lin, np.random.default_rng(0), G, O), G, O)
    ratio = r.std(0) / np.sqrt(cal.read**2 + 1 / (12 * G * G))
    assert abs(np.median(ratio) - 1) < 0.03
    r1 = adc_decode(read_out(q, lin, np.random.default_rng(5), G, O), G, O)
    assert abs(np.corrcoef((r - 1000).ravel(), (r1 - 1000).ravel())[0, 1]) < 0.01   # independent between reads
    quiet = CalFrames("FGS1", cal.dark, cal.dead, cal.flat, lin.linear_corr, np.zeros((32, 32)))
    a = adc_decode(interleave(read_out(q[:3], quiet, np.random.default_rng(0), G, O), read_out(q[:3] + 2000, quiet, np.random.default_rng(0), G, O)), G, O)
    b = adc_decode(interleave(read_out(q[:3] + 555.5, quiet, np.random.default_rng(0), G, O), read_out(q[:3] + 2555.5, quiet, np.random.default_rng(0), G, O)), G, O)
    assert np.abs((a[1::2] - a[0::2]) - (b[1::2] - b[0::2])).max() <= 1 / G              # offset cancels in CDS


def test_cosmic_rays_timing():
    s, e = cosmic_rays(np.random.default_rng(2), 3000, (32, 356), 4.6, 0.1, rate=2e-6)
    hits = e > 0
    assert hits.sum() > 100 and np.all(e >= s) and np.all(s[~hits] == 0)
    assert (s > 0).sum() < 0.1 * hits.sum()                   # only hits before the start read reach both reads


def test_gain_drift_form():
    ft, gl = drift_polynomials(np.random.default_rng(4))
    d = gain_drift(np.linspace(0, 1, 300), np.linspace(0, 1, 100), ft, gl, 2e-3)
    assert abs(np.abs(d - 1).max() - 2e-3) < 1e-15 and np.linalg.matrix_rank(d - 1, tol=1e-12) == 1


def test_profile_taylor_matches_exact():
    wl = airs_wavelengths(); B = airs_profile_bases()
    for dy, w, v in ((0.02, 1.005, 0.008), (-0.05, 0.99, 0.0)):
        ex = airs_profile(wl, dy=dy, width=w, blur_var=v)
        ap = np.tensordot(profile_coefficients(np.array([dy]), np.array([w]), np.array([v])), B, 1)[0]
        assert np.abs(ap - ex).max() < 2e-3 * ex.max()


def test_jitter_statistics():
    js = jitter_series(np.random.default_rng(7), 5625 * 48, white=0.1, ar_sigma=0.0, pink_sigma=0.0, defocus=0.0)
    a, f = exposure_moments(js, "AIRS-CH0", 5625), exposure_moments(js, "FGS1", 67500)
    assert abs(f["dy"].std() - 0.1) < 0.003 and abs(a["dy"].std() - 0.1 / np.sqrt(45)) < 0.001   # white: 1/sqrt(45) in 4.5 s
    assert abs(a["var_y"].mean() - 0.01 * 44 / 45) < 3e-4


@pytest.fixture(scope="module")
def visit():
    tr = draw_planet(make_rng(8, 31), 31)
    st = draw_visit(tr, 0, make_rng(8, 31, 0), scale=0.01)
    return tr, st


def test_calibration_chain_inverts_the_detector(visit):
    "Noise-free reads through the project's calibration steps recover the light of every live pixel."
    from spectramind.calib.adc import adc_to_electrons
    from spectramind.calib.linearity import apply_linearity
    from spectramind.calib.dark import read_dt, subtract_dark
    from spectramind.calib.flat import flat_divisor
    tr, st = visit
    for inst, scene, rate_fn in (("AIRS-CH0", airs_scene(tr, st), airs_rate), ("FGS1", fgs_scene(tr, st), fgs_rate)):
        rate = rate_fn(scene, st, 0, 6); cal = st.cal[inst]; g, o = adc_info()[inst]
        raw = simulate_reads(rate, inst, cal, np.random.default_rng(0), noise=False)
        e = apply_linearity(adc_to_electrons(raw, g, o), cal.linear_corr)[0]
        e = subtract_dark(e, cal.dark, read_dt(inst, len(raw), np.tile([0.1, 4.5], len(raw) // 2) if inst == "AIRS-CH0" else None))
        cds = (e[1::2].astype(np.float64) - e[0::2]) / flat_divisor(cal.flat, cal.dead)
        live = ~cal.dead & (cal.flat > 0.2)
        expect = rate * (4.5 if inst == "AIRS-CH0" else 0.1) / flat_divisor(cal.flat, cal.dead)
        err = np.abs(cds - expect)[:, live]
        tol = 2 * (0.5 / g) / cal.flat[live] + 1e-3 * np.abs(expect[:, live]) * 1e-2 + 0.05  # two reads' rounding through the flat; float32 decode
        assert np.all(err <= tol), (inst, (err - tol).max())
        assert np.all(cds[:, cal.dead] * flat_divisor(cal.flat, cal.dead)[cal.dead] < 3 / g + 0.1)  # dead pixels collect no light
