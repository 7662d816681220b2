"""spectramind.data.targets: train.csv targets and grouped folds."""
import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GroupKFold

from spectramind.core import N_WL, WL_COLS, asset_path
from spectramind.data.layout import DataError, load_star_info
from spectramind.data.targets import load_targets, grouped_folds, fold_split


def write_targets(path, ids, y, cols=None):
    "train.csv as pandas writes it (independent of the reader's polars)."
    df = pd.DataFrame(y, columns=WL_COLS); df.insert(0, "planet_id", ids)
    df[cols or df.columns].to_csv(path, index=False)


def test_targets_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    ids = np.array([34983, 1873185, 3849793, 4294092928]); y = rng.uniform(0.005, 0.047, (4, N_WL))
    y[0, 0] = 0.018291; y[1, 5] = 1e-300
    write_targets(tmp_path / "train.csv", ids, y)
    got_ids, got = load_targets(tmp_path / "train.csv")
    assert got_ids.dtype == np.int64 and np.array_equal(got_ids, ids)
    assert got.dtype == np.float64 and got.shape == (4, 283) and got.flags.c_contiguous and np.array_equal(got, y)


def test_targets_errors(tmp_path):
    rng = np.random.default_rng(1); ids = np.array([1, 2]); y = rng.uniform(0, 0.05, (2, N_WL))
    p = tmp_path / "train.csv"
    write_targets(p, ids, y, ["planet_id"] + WL_COLS[::-1])
    with pytest.raises(DataError) as e: load_targets(p)
    assert str(e.value).startswith(str(p)) and "in order" in str(e.value)
    write_targets(p, ids, y, WL_COLS + ["planet_id"])
    with pytest.raises(DataError, match="in order"): load_targets(p)
    df = pd.DataFrame(y, columns=WL_COLS); df.insert(0, "planet_id", ids); df["extra"] = 1.0; df.to_csv(p, index=False)
    with pytest.raises(DataError, match="in order"): load_targets(p)
    y2 = y.copy(); y2[1, 7] = np.nan; write_targets(p, ids, y2)
    with pytest.raises(DataError, match="1 missing/non-finite value"): load_targets(p)
    write_targets(p, [1, 1], y)
    with pytest.raises(DataError, match="duplicate planet_id"): load_targets(p)
    write_targets(p, ["1.0", "2.5"], y)
    with pytest.raises(DataError, match="'2.5' is not an integer"): load_targets(p)
    with pytest.raises(DataError, match="file missing"): load_targets(tmp_path / "none.csv")


def test_grouped_folds_real_planets():
    ids = np.array(list(load_star_info(asset_path("adc2025", "train_star_info.csv"))))
    rng = np.random.default_rng(2)
    rows = np.concatenate([ids, rng.choice(ids, 110, replace=False)])          # ~110 planets with a second visit
    rows = rows[rng.permutation(len(rows))]
    f = grouped_folds(rows, n_splits=5, seed=42)
    assert f.shape == rows.shape and f.dtype == np.int64 and set(f.tolist()) == set(range(5))
    assert all(len(np.unique(f[rows == p])) == 1 for p in np.unique(rows))    # both visits in one fold
    sizes = np.bincount(f); assert sizes.max() - sizes.min() <= 2 and sizes.sum() == 1210
    assert np.array_equal(f, grouped_folds(rows, 5, 42)) and not np.array_equal(f, grouped_folds(rows, 5, 43))
    for k in range(5):
        tr, va = fold_split(f, k)
        assert len(tr) + len(va) == len(rows) and not set(rows[tr].tolist()) & set(rows[va].tolist())
    # same guarantees as scikit-learn's GroupKFold
    for tr, va in GroupKFold(n_splits=5).split(rows, groups=rows):
        assert not set(rows[tr].tolist()) & set(rows[va].tolist())


def test_grouped_folds_edge_cases():
    f = grouped_folds([7, 7, 8, 9], n_splits=3, seed=0)
    assert f[0] == f[1] and len(set(f.tolist())) == 3
    with pytest.raises(ValueError, match="n_splits=1"): grouped_folds([1, 2, 3], n_splits=1)
    with pytest.raises(ValueError, match="3 planets"): grouped_folds([1, 2, 3, 3], n_splits=4)
