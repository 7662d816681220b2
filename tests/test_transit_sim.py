"The physics fit on the simulator's fast light-curve mode: a handful of planets, depth residuals reported in ppm."
import numpy as np
import pytest
import spectramind.sim.lightcurve as sim
from spectramind.transit.fit import fit_planet

def test_simulated_planets():
    rows, pulls = [], []
    for k in range(5):
        lcs, truth = sim.lightcurve_planet(11, 3000 + k)
        tf = fit_planet(lcs, truth.star)  # default aux names: the simulator uses the light-curve stage's keys
        assert np.isfinite(tf.depth).all() and np.isfinite(tf.cov).all()
        e = tf.depth - truth.depth
        rows.append((np.sqrt(np.mean(e[1:]**2)), e[1:].mean(), abs(e[0]), np.median(tf.sigma[1:])))
        print(f"planet {truth.planet_id}: b={truth.params['b']:.2f} law={truth.ld_law} level={tf.params['level']} "
              f"depth {truth.depth[1:].mean()*1e6:.0f} ppm, AIRS residual RMS {rows[-1][0]*1e6:.0f} ppm "
              f"(median sigma {rows[-1][3]*1e6:.0f}), FGS1 error {e[0]*1e6:.0f} +- {tf.sigma[0]*1e6:.0f} ppm")
        if tf.params["level"] == "full": pulls.append(e[1:]/tf.sigma[1:])
    r = np.array(rows)*1e6
    print(f"simulated planets: AIRS depth residual RMS {np.sqrt(np.mean(r[:, 0]**2)):.0f} ppm "
          f"(median sigma {np.median(r[:, 3]):.0f} ppm, mean |common offset| {np.mean(np.abs(r[:, 1])):.0f} ppm), "
          f"FGS1 |error| {np.mean(r[:, 2]):.0f} ppm")
    assert len(pulls) >= 4 and all(np.isfinite(r[0]) for r in rows)
    p = np.concatenate(pulls)
    assert 0.5 < p.std() < 2.0
