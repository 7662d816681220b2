"Public-baseline re-implementation: its constants, the lift depth on a box transit, batch predictions."
import numpy as np
from spectramind.core import N_WL
from spectramind.contracts import LightCurves
from spectramind.transit.model import inject_lightcurves
from spectramind.transit.baseline import (baseline_predict, baseline_depth, lift_objective, scaled_constants, SCALE,
                                          SIGMA, SIGMA_BOOST, batch_sigma, K_CLIP_AIRS)

def test_constants():
    assert (SCALE, SIGMA) == (0.946, 0.00056) and scaled_constants(187) == dict(window=20, slice=(30, 140), delta=11)

def test_lift_depth_of_a_box():
    n = 187; y = np.ones(n); y[60:130] = 1 - 0.01
    arr = np.repeat(y[:, None], N_WL, 1)*1e6
    assert abs(baseline_depth(arr)/SCALE - 0.01/(1 - 0.01)) < 2e-4      # the lift that makes the box flat
    assert lift_objective(np.array([0.01/0.99]), y, 60, 130) < 1e-6

def test_batch_sigma_and_predictions():
    assert np.allclose(batch_sigma(np.array([1.0, 9.0]), K_CLIP_AIRS), SIGMA*SIGMA_BOOST*np.array([np.sqrt(1/5)*0 + 0.92, 1.22]))
    star = dict(P=4.0, sma=10.0, i=88.5, Ts=5600.0)
    lcs = [inject_lightcurves(np.full(N_WL, d), star, seed=s, planet_id=s)[0] for s, d in enumerate((0.005, 0.012, 0.02))]
    sp = baseline_predict(lcs)
    assert sp.mu.shape == (3, N_WL) and np.all(np.diff(sp.mu[:, 5]) > 0) and np.all(sp.sigma > 0)
    assert np.allclose(sp.mu[:, 0], sp.mu[:, 100])                      # one number per planet
