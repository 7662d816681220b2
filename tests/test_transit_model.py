"Transit model: exact quadratic limb darkening against batman, exposure averaging, geometry, LD prior."
import time
import numpy as np
import pytest
import batman  # pinned in requirements/lock.txt: the reference must be there, not skipped
from spectramind.core import N_WL
from spectramind.transit.model import (transit_flux, occult_quadratic, sky_separation, transit_durations, inclination,
                                       impact_parameter, ld_grey, target_wavelengths, inject_lightcurves)

def batman_curve(t, t0, per, a, inc, rp, u1, u2):
    pm = batman.TransitParams(); pm.t0, pm.per, pm.rp, pm.a, pm.inc, pm.ecc, pm.w = t0, per, rp, a, inc, 0.0, 90.0
    pm.limb_dark, pm.u = "quadratic", [u1, u2]
    return batman.TransitModel(pm, t).light_curve(pm)

@pytest.mark.parametrize("rp", [0.02, 0.1, 0.2, 0.4])
@pytest.mark.parametrize("b", [0.0, 0.5, 0.9, 1.0, 1.1])          # 1.0 and 1.1 are grazing for these radii
def test_light_curve_matches_batman(rp, b):
    t = np.linspace(0, 7.5, 1501)                                   # dense: many samples in ingress/egress
    a = 9.0; inc = inclination(a, b)
    for u1, u2 in ((0.0, 0.0), (0.45, 0.2), (0.1, 0.4), (0.9, -0.1)):
        ours = transit_flux(t, 3.7, 24*3.0, a, inc, rp, u1, u2)
        assert np.abs(ours - batman_curve(t, 3.7, 24*3.0, a, inc, rp, u1, u2)).max() < 1e-6   # < 1 ppm

def test_exposure_average_matches_batman_subsamples():
    t = np.linspace(0, 7.5, 187); dt = t[1] - t[0]; n = 9
    ts = (t[:, None] + ((np.arange(n) + 0.5)/n - 0.5)*dt).ravel()
    for inc, rp in ((90.0, 0.1), (87.0, 0.15), (84.0, 0.12)):
        ref = batman_curve(ts, 3.7, 96.0, 10.0, inc, rp, 0.4, 0.2).reshape(len(t), n).mean(1)
        assert np.abs(transit_flux(t, 3.7, 96.0, 10.0, inc, rp, 0.4, 0.2, exp_h=dt, n_sub=n) - ref).max() < 1e-6

def test_special_geometries_against_quadrature():
    from scipy.integrate import quad
    def ref(z, p, u1, u2):
        I = lambda r: 1 - u1*(1 - np.sqrt(1 - r*r)) - u2*(1 - np.sqrt(1 - r*r))**2
        al = lambda r: (np.pi if r < p else 0.0) if z == 0 else np.arccos(np.clip((r*r + z*z - p*p)/(2*r*z), -1, 1))
        lo, hi = max(0.0, z - p), min(1.0, z + p)
        if lo >= hi: return 1.0
        pts = [x for x in (abs(z - p), z + p) if lo < x < hi] or None
        return 1 - quad(lambda r: I(r)*2*r*al(r), lo, hi, points=pts, limit=400, epsabs=1e-13, epsrel=1e-12)[0]/(np.pi*(1 - u1/3 - u2/6))
    for p in (0.05, 0.3):
        for z in (0.0, p, 1 - p, 1 + p, p + 1e-9, 1 - p - 1e-9):
            assert abs(occult_quadratic(np.array([z]), p, 0.5, 0.15)[0] - ref(z, p, 0.5, 0.15)) < 1e-8

def test_many_channels_at_once():
    t = np.linspace(0, 7.5, 187); rng = np.random.default_rng(0)
    rp = 0.1 + 0.002*rng.standard_normal(N_WL); u1 = np.linspace(0.5, 0.2, N_WL); u2 = np.full(N_WL, 0.1)
    f = transit_flux(t, 3.7, 96.0, 10.0, 88.0, rp, u1, u2)
    assert f.shape == (N_WL, 187)
    for j in (0, 150, 282): assert np.abs(f[j] - batman_curve(t, 3.7, 96.0, 10.0, 88.0, rp[j], u1[j], u2[j])).max() < 1e-6
    tic = time.perf_counter(); [transit_flux(t, 3.7, 96.0, 10.0, 88.0, rp, u1, u2, 0.04, 3) for _ in range(5)]
    print(f"283 x 187 with exposure averaging: {(time.perf_counter() - tic)/5*1e3:.1f} ms")

def test_geometry_and_durations():
    assert abs(sky_separation(np.array([1.0]), 1.0, 100.0, 10.0, 90.0)[0]) < 1e-12
    t14, t23 = transit_durations(96.0, 10.0, 88.0, 0.1); assert t14 > t23 > 0
    assert transit_durations(96.0, 10.0, inclination(10.0, 1.05), 0.1)[1] == 0.0
    assert np.isclose(impact_parameter(10.0, inclination(10.0, 0.4)), 0.4)

def test_ld_prior_and_injection():
    u = ld_grey(target_wavelengths(), 5800.0)
    assert u.shape == (N_WL, 2) and u[0, 0] > u[-1, 0] > 0.1          # limb darkening weakens to the red
    lc, tr = inject_lightcurves(np.full(N_WL, 0.01), dict(P=4.0, sma=10.0, i=89.0, Ts=5800.0), seed=3)
    assert lc.flux.shape == (187, N_WL) and abs(((lc.flux - tr["model"])/np.sqrt(lc.var)).std() - 1) < 0.01
