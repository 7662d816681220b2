"""learn.data: simulated training items (shapes, labels, determinism across worker counts, cache) and items built
from real-layout inputs (star table and train.csv frames)."""
import numpy as np
import pandas as pd
import torch
from spectramind.core import N_WL, WL_COLS
from spectramind.learn.data import SPLIT_SEEDS, items_from_fits, load_items, simulate_items, split_planet_ids
from spectramind.models.factory import FeatureConfig, build_features, collate
from spectramind.sim.lightcurve import lightcurve_planet
from spectramind.transit.fit import fit_planet

CFG = FeatureConfig(t_fgs=32, n_bins=8)


def test_splits_disjoint():
    ids = {s: set(split_planet_ids(s, 500).tolist()) for s in SPLIT_SEEDS}
    assert len(set(SPLIT_SEEDS.values())) == len(SPLIT_SEEDS) == 4 and all(len(v) == 500 for v in ids.values())
    names = sorted(ids)   # train, val, test and the input prior's spectra: no planet in two of them
    assert all(not ids[a] & ids[b] for i, a in enumerate(names) for b in names[i + 1:])


def test_simulate_items_shapes_workers_and_cache(tmp_path):
    c = tmp_path / "items.npz"
    one = simulate_items(2, 4242, workers=1, progress=False, cache=c, cfg=CFG)
    two = simulate_items(2, 4242, workers=2, progress=False, cfg=CFG)           # spawned workers, same items
    assert len(one) >= 2 and len(one) == len(two)
    assert all(torch.equal(a[k], b[k]) for a, b in zip(one, two) for k in a)
    b = collate(one)
    assert b["nodes"].shape == (len(one), N_WL, CFG.d_node) and b["fgs"].shape == (len(one), 32, CFG.d_fgs)
    assert b["y"].dtype == torch.float64 and b["y_mask"].all() and torch.isfinite(b["nodes"]).all()
    assert (b["y"] > 1e-5).all() and (b["sigma_phys"] > 0).all()
    # labels are the simulator's truth; the physics depth is close to it (white-light level within 20 %)
    np.testing.assert_allclose(b["depth"].mean(1), b["y"].mean(1), rtol=0.2)
    cached, recipe = load_items(c)
    assert recipe["n"] == 2 and recipe["seed"] == 4242 and recipe["features"]["t_fgs"] == 32
    assert all(torch.equal(a[k], x[k]) for a, x in zip(one, cached) for k in a)
    other = simulate_items(2, 4242, progress=False, cache=c, cfg=FeatureConfig(t_fgs=16, n_bins=8))   # new recipe
    assert other[0]["fgs"].shape[0] == 16 and load_items(c)[1]["features"]["t_fgs"] == 16


def test_items_from_fits_frames():
    lcs, tr = lightcurve_planet(4243, 17)
    tf = fit_planet(lcs, tr.star)
    stars = pd.DataFrame([dict(planet_id=17, **tr.star)])
    labels = pd.DataFrame([[17, *tr.depth]], columns=["planet_id", *WL_COLS])
    got = items_from_fits({17: lcs}, {17: tf}, stars, labels, CFG)
    ref = [build_features(lc, tf, tr.star, tr.depth, CFG) for lc in lcs]
    assert len(got) == len(lcs) and all(torch.equal(g[k], r[k]) for g, r in zip(got, ref) for k in r)
    np.testing.assert_array_equal(got[0]["y"].numpy(), tr.depth)
    assert not items_from_fits({17: lcs}, {17: tf}, {17: tr.star}, None, CFG)[0]["y_mask"].any()
