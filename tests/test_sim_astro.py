"""Scene truth: exact binning, transit model, limb darkening, determinism and label statistics."""
import math

import batman
import numpy as np

from spectramind.core import make_rng, airs_to_target
from spectramind.sim.astro import (bin_mean, bin_to_targets, fine_grid, column_edges, airs_wavelengths, draw_planet,
                                   transit_flux, ld_intensity, fit_ld, ld_coefficients, altitude, R_SUN, _R_FIT, LD_LAWS)


def test_binning_is_exact_for_piecewise_linear():
    wf = fine_grid(); y = 0.012 + 0.0007 * np.sin(wf * 7)
    t283, c356 = bin_to_targets(wf, y)
    e = column_edges(airs_wavelengths())
    for c in (39, 150, 320):
        lo, hi = sorted((e[c], e[c + 1]))
        x = np.concatenate([[lo], wf[(wf > lo) & (wf < hi)], [hi]]); yy = np.interp(x, wf, y)
        assert abs(c356[c] - np.trapezoid(yy, x) / (hi - lo)) < 1e-14   # 1e-12 relative: rounding only
    assert np.array_equal(t283[1:], airs_to_target(c356))
    lin = bin_to_targets(wf, 1 + 2 * wf)[1]
    assert np.allclose(lin, 1 + (e[1:] + e[:-1]), rtol=1e-10, atol=0)   # linear: the value at the bin centre


def test_label_is_the_binned_depth_the_transit_uses():
    t = draw_planet(make_rng(5, 3), 3)
    wf = fine_grid()
    kf = t.params["rp_rs"] + altitude(wf, t.params["atmosphere"]) * t.params["H_km"] * 1e3 / (t.star["Rs"] * R_SUN)
    t283, c356 = bin_to_targets(wf, kf**2)
    assert np.array_equal(t283, t.depth) and np.array_equal(c356, t.depth_cols)
    orbit = dict(t0_h=0.0, per_h=t.star["P"] * 24, a_rs=t.star["sma"], inc_deg=90.0)
    k = np.sqrt(t.depth_cols[[100]])
    f = transit_flux(np.array([0.0]), orbit, k, "quadratic", np.zeros((1, 2)))
    assert abs(1 - f[0, 0] - t.depth_cols[100]) < 1e-12      # no limb darkening at centre: depth = label exactly


def test_transit_matches_batman_all_laws():
    orbit = dict(t0_h=3.7, per_h=110.0, a_rs=9.5, inc_deg=88.0)
    t = np.linspace(0, 7.5, 1200); k = np.array([0.10, 0.103, 0.107])
    for law in LD_LAWS:
        c = ld_coefficients(np.array([1.9, 2.8, 3.9]), 5600.0, law)
        f = transit_flux(t, orbit, k, law, c)
        for j in range(3):
            p = batman.TransitParams(); p.t0, p.per, p.a, p.inc, p.ecc, p.w = 3.7, 110.0, 9.5, 88.0, 0.0, 90.0
            p.rp, p.limb_dark, p.u = k[j], law, list(c[j])
            ref = batman.TransitModel(p, t, fac=None if law == "quadratic" else 5e-4).light_curve(p)
            assert np.abs(f[:, j] - ref).max() < 3e-7, law


def test_limb_darkening_fits_and_trends():
    mu = np.sqrt(1 - _R_FIT**2)
    for law in LD_LAWS:
        c = ld_coefficients(np.array([0.7, 2.0, 3.5]), 5800.0, law)
        prof = ld_intensity(mu, law, c)
        assert np.all(prof[:, -1] < prof[:, 0])   # limb (last r) darker than centre
        assert np.all(np.abs(fit_ld(prof, law) - c) < 1e-6)
    u = ld_coefficients(np.array([0.7, 3.0]), 5800.0, "quadratic")
    assert u[0, 0] > u[1, 0]                                  # weaker limb darkening in the infrared


def test_draw_planet_deterministic_and_label_statistics():
    a, b = draw_planet(make_rng(1, 2), 2), draw_planet(make_rng(1, 2), 2)
    assert np.array_equal(a.depth, b.depth) and np.array_equal(a.ld, b.ld) and a.t0_frac == b.t0_frac
    ts = [draw_planet(make_rng(9, i), i) for i in range(300)]
    d = np.array([t.depth for t in ts])
    assert 0.008 < d.mean() < 0.022 and 0.005 < d.std() < 0.02      # public naive stats: 0.0147 +- 0.0107
    nv = np.array([t.n_visits for t in ts]); assert 0.04 < (nv == 2).mean() < 0.18
    assert {t.ld_law for t in ts} == set(LD_LAWS)
    assert 0.005 < np.mean([any(t.params["partial"]) for t in ts]) < 0.1
    assert any(t.params["grazing"] for t in ts)
