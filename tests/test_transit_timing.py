"Transit timing: detection, partial transits, flags, white-light fit."
import numpy as np
from spectramind.core import N_WL, Flag
from spectramind.transit.model import inject_lightcurves
from spectramind.transit.timing import white_light, find_transit, fit_white, aux_matrix, predicted_duration

STAR = dict(Rs=1.0, Ms=1.0, Ts=5600.0, Mp=1.0, e=0.0, P=4.0, sma=10.0, i=88.5)

def _timing(t0, depth=0.012, star=STAR, seed=0, **kw):
    lc, _ = inject_lightcurves(np.full(N_WL, depth), STAR, t0_h=t0, seed=seed, **kw)
    y, v = white_light(lc); X = aux_matrix(lc.aux, ("airs_y", "airs_w"), len(lc.time_h))
    return lc, y, v, X, find_transit(lc.time_h, y, v, star, X)

def test_centred_transit():
    t14 = predicted_duration(STAR, np.sqrt(0.012))[0]
    _, _, _, _, tm = _timing(3.75)
    assert tm.flags == 0 and not tm.partial and abs(tm.t0_h - 3.75) < 0.03 and abs(tm.t14_h - t14) < 0.15

def test_partial_transit_egress_outside():
    t14 = predicted_duration(STAR, np.sqrt(0.012))[0]
    for t0 in (6.4, 6.9):
        _, _, _, _, tm = _timing(t0, seed=int(t0*10))
        assert tm.partial and tm.t4_h > 7.5 and tm.flags == 0
        assert abs(tm.t1_h - (t0 - t14/2)) < 0.12

def test_partial_transit_without_star_info():
    _, _, _, _, tm = _timing(6.6, star=None)
    assert tm.partial and tm.flags == 0 and 5.0 < tm.t1_h < 5.2

def test_no_transit_and_garbage_are_flagged():
    _, _, _, _, tm = _timing(3.75, depth=0.0, seed=5)
    assert tm.flags & Flag.LOW_SIGNAL and tm.confidence == 0.0
    g = find_transit(np.linspace(0, 7.5, 187), np.full(187, 1.0), np.full(187, np.inf), None)
    assert g.flags & Flag.FALLBACK and np.isfinite([g.t0_h, g.t14_h, g.t23_h, g.depth]).all()

def test_white_fit_recovers_depth_within_errors():
    pulls = []
    for s in range(4):
        lc, y, v, X, tm = _timing(3.5 + 0.2*s, seed=10 + s)
        wf = fit_white(lc.time_h, y, v, tm, STAR, X, (0.25, 0.1))
        assert wf.success
        pulls.append((wf.depth - 0.012)/(2*wf["rp"]*wf.sigma("rp")))
    assert np.max(np.abs(pulls)) < 4, pulls
