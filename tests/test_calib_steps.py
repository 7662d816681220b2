"""Calibration steps: exact hand-computed values, skip semantics, one JSON record per step, and keyword defaults equal to
the packaged config (spectramind/conf/calib/default.yaml)."""
import inspect, json, logging
import numpy as np
import pytest
from spectramind.core import Flag
from spectramind.contracts import Cube, CalFrames
from spectramind.calib.step import calib_config, run_step
from spectramind.calib.adc import adc_step, adc_to_electrons, read_variance
from spectramind.calib.pixels import pixels_step, hot_pixels
from spectramind.calib.linearity import linearity_step, apply_linearity
from spectramind.calib.dark import dark_step, read_dt
from spectramind.calib.cds import cds_step, cds
from spectramind.calib.flat import flat_step
from spectramind.calib.cosmic import cosmic_step
from spectramind.calib.interp import interp_step
from spectramind.calib.background import background_step
from spectramind.calib.binning import binning_step
from spectramind.calib.pipeline import STEP_ORDER, invert_linearity
from spectramind.lightcurve.airs import extract_airs
from spectramind.lightcurve.fgs import extract_fgs

STEPS = {"adc": adc_step, "pixels": pixels_step, "linearity": linearity_step, "dark": dark_step, "cds": cds_step, "flat": flat_step,
         "cosmic": cosmic_step, "interp": interp_step, "background": background_step, "binning": binning_step}


def _cal(inst="FGS1", W=32, dark=0.0, flat=1.0, c=(0.0, 1.0, 0, 0, 0, 0), read=10.0):
    lc = np.stack([np.full((32, W), float(x)) for x in c])
    return CalFrames(inst, np.full((32, W), dark), np.zeros((32, W), bool), np.full((32, W), flat), lc, np.full((32, W), read)).validate()


def _cube(x, var=None, inst="FGS1", flags=None):
    x = np.asarray(x, np.float32)
    return Cube(inst, x, np.ones_like(x) if var is None else np.asarray(var, np.float32),
                np.zeros(x.shape, np.uint8) if flags is None else flags, np.arange(len(x)) / 3600.0)


def test_step_defaults_equal_the_yaml():
    cfg = calib_config()
    for name, fn in STEPS.items():
        kw = {k: p.default for k, p in inspect.signature(fn).parameters.items() if p.kind == p.KEYWORD_ONLY}
        y = cfg[name]
        assert set(kw) == set(y), (name, set(kw) ^ set(y))
        for k, v in y.items():
            assert (list(kw[k]) if isinstance(kw[k], tuple) else kw[k]) == v, (name, k, kw[k], v)
    ea, ef = inspect.signature(extract_airs).parameters, inspect.signature(extract_fgs).parameters
    for k, v in cfg["extract"]["airs"].items(): assert (list(ea[k].default) if isinstance(ea[k].default, tuple) else ea[k].default) == v
    for k, v in cfg["extract"]["fgs"].items(): assert (list(ef[k].default) if isinstance(ef[k].default, tuple) else ef[k].default) == v
    assert tuple(STEP_ORDER) == tuple(STEPS)


def test_adc_exact_and_uint16_safe():
    raw = np.array([[[0, 437], [65535, 1000]]] * 2, np.uint16)
    e = adc_to_electrons(raw, 0.4369, -1000.0)
    np.testing.assert_allclose(e[0, 0], [-1000.0, 437 / 0.4369 - 1000], rtol=1e-7)
    # a CDS of reads where end < start stays negative (no uint16 wrap)
    assert adc_to_electrons(np.uint16(5), 1.0, 0.0) - adc_to_electrons(np.uint16(7), 1.0, 0.0) == -2
    v = read_variance(np.array([100.0], np.float32), np.array([10.0]), 0.5)
    np.testing.assert_allclose(v, [100 + 100 + 1 / 3], rtol=1e-6)


def test_linearity_exact_and_inverse():
    c = _cal(c=(0.5, 1.0, 1e-5, 0, 0, 0))
    out = linearity_step(_cube(np.full((2, 32, 32), 1000.0), np.full((2, 32, 32), 4.0)), c)
    np.testing.assert_allclose(out.data, 1010.5, rtol=1e-7)                   # 0.5 + 1000 + 1e-5 * 1e6
    np.testing.assert_allclose(out.var, 4 * 1.02**2, rtol=1e-6)               # Jacobian 1 + 2e-5 * 1000
    y = np.array([10.0, 3e4, 6e4])[:, None, None] * np.ones((1, 32, 32))
    np.testing.assert_allclose(apply_linearity(invert_linearity(y, c.linear_corr), c.linear_corr)[0], y, atol=1e-6)


def test_dark_cds_flat_exact():
    c = _cal(dark=2.0, flat=0.5)
    x = np.array([100.0, 400.0, 100.0, 400.0])[:, None, None] * np.ones((1, 32, 32))
    d = dark_step(_cube(x, np.full_like(x, 200.0)), c)
    np.testing.assert_allclose(d.data[:, 0, 0], [99.8, 399.6, 99.8, 399.6], rtol=1e-6)   # dt = 0.1, 0.2 s (organiser)
    np.testing.assert_allclose(read_dt("FGS1", 4, timing="reset"), [0.1, 0.4, 0.1, 0.4])
    k = cds_step(d)
    np.testing.assert_allclose(k.data[:, 0, 0], 299.8, rtol=1e-6)
    np.testing.assert_allclose(k.var[:, 0, 0], 400 - 2 * 99.8, rtol=1e-6)                # shared charge removed
    f = flat_step(k, c)
    np.testing.assert_allclose(f.data[:, 0, 0], 599.6, rtol=1e-6); np.testing.assert_allclose(f.var[:, 0, 0], (400 - 199.6) * 4, rtol=1e-6)


def test_cds_covariance_matches_scatter():
    rng = np.random.default_rng(0); n = 100_000
    qs = rng.poisson(5000, n).astype(float); qe = qs + rng.poisson(20000, n)
    x = np.stack([qs + 13 * rng.standard_normal(n), qe + 13 * rng.standard_normal(n)], 1).reshape(-1)[:, None, None]
    d, v = cds(x, 169 + np.maximum(x, 0))
    assert abs(v.mean() / d.var() - 1) < 0.02


def test_background_and_binning_exact():
    x = np.zeros((4, 32, 356), np.float32); x[:, :8] = 10; x[:, 24:] = 30; x[:, 8:24] = 1000
    b = background_step(_cube(x, inst="AIRS-CH0", flags=np.zeros((32, 356), np.uint8)))
    np.testing.assert_allclose(b.data[0, 16], 980.0); np.testing.assert_allclose(b.var[0, 16], 1 + 1 / 16)
    z = binning_step(b, airs=2)
    assert z.data.shape == (2, 32, 356) and np.allclose(z.data[:, 16], 1960.0) and np.allclose(z.var[:, 16], 2 * (1 + 1 / 16))


def test_hot_pixels_and_cosmics_flagged_then_repaired():
    rng = np.random.default_rng(1)
    dark = 0.006 + 0.0015 * rng.standard_normal((32, 32)); dark[4, 5] = 5.0
    assert np.argwhere(hot_pixels(dark)).tolist() == [[4, 5]]
    level = 1000 + 50 * np.arange(32)[None, :] * np.ones((32, 1))
    x = (level[None] + np.sqrt(level[None] + 338) * rng.standard_normal((50, 32, 32))).astype(np.float32)
    truth = x.copy(); x[20, 10, 10] += 8000; x[:, 4, 5] = 0.0
    fl = np.zeros(x.shape, np.uint8); fl[:, 4, 5] = Flag.HOT
    c = cosmic_step(_cube(x, np.full(x.shape, 1338.0, np.float32), flags=fl))
    assert np.argwhere(c.flags & Flag.COSMIC).tolist() == [[20, 10, 10]]
    r = interp_step(c)
    assert abs(r.data[20, 10, 10] - level[10, 10]) < 4 * np.sqrt(1338)            # back within the noise
    assert np.abs(r.data[:, 4, 5] - level[4, 5]).mean() < 2 * np.sqrt(1338)       # rebuilt from row neighbours
    assert (r.flags[:, 4, 5] & Flag.INTERPOLATED).all() and r.flags[20, 10, 10] & Flag.INTERPOLATED
    keep = np.ones((32, 32), bool); keep[4, 5] = False
    assert np.array_equal(r.data[19][keep], truth[19][keep])                         # nothing else touched


def test_skip_returns_same_type_and_records_skipped(caplog):
    cu = _cube(np.ones((4, 32, 32)), flags=np.zeros((32, 32), np.uint8))
    c = _cal()
    with caplog.at_level(logging.INFO, logger="spectramind.calib"):
        outs = [linearity_step(cu, c, enabled=False), dark_step(cu, c, enabled=False), cds_step(cu, enabled=False),
                flat_step(cu, c, enabled=False), cosmic_step(cu, enabled=False), interp_step(cu, enabled=False),
                background_step(cu, enabled=False), binning_step(cu, enabled=False)]
    for o in outs:
        assert isinstance(o, Cube) and o.steps[-1][1] == "SKIPPED" and o.data is cu.data
    recs = [json.loads(r.getMessage()) for r in caplog.records]
    assert len(recs) == len(outs) and all(set(r) == {"step", "status", "t_ms", "params", "delta_stats"} for r in recs)


def test_one_record_per_step_with_correction_size(caplog):
    cu = _cube(np.full((2, 32, 32), 100.0))
    with caplog.at_level(logging.INFO, logger="spectramind.calib"):
        o = run_step(cu, "plus", lambda c: {"data": c.data + 3}, {"k": 3})
    (rec,) = [json.loads(r.getMessage()) for r in caplog.records]
    assert rec["step"] == "plus" and rec["delta_stats"]["median_abs"] == 3 and rec["t_ms"] >= 0 and o.steps[-1][2] == rec
