"""A simulated dataset has exactly the competition layout: the real reference files agree file for file."""
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spectramind.core import INSTRUMENTS, CAL_FILES, WL_COLS, SUBMISSION_COLS, asset_path, signal_name, calib_dir_name, make_rng
from spectramind.sim.astro import draw_planet, STAR_COLS
from spectramind.sim.dataset import write_dataset, simulate_visit

REF = asset_path("adc2025", "train_342072318_truncated_sample")
SEED, SCALE = 11, 0.004


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim") / "set"
    man = write_dataset(out, n_train=2, n_test=2, seed=SEED, scale=SCALE, progress=False, planet_kw={"p_two_visits": 0.5})
    return out, man


def test_top_level_files(ds):
    out, man = ds
    names = {p.name for p in out.iterdir()}
    assert names == {"train", "test", "train.csv", "wavelengths.csv", "axis_info.parquet", "adc_info.csv",
                     "train_star_info.csv", "test_star_info.csv", "sample_submission.csv", "sim_manifest.json"}
    for name in ("axis_info.parquet", "wavelengths.csv", "adc_info.csv"):  # verbatim copies
        assert (out / name).read_bytes() == asset_path("adc2025", name).read_bytes()
    m = json.loads((out / "sim_manifest.json").read_text())
    assert m["seed"] == SEED and m["scale"] == SCALE and m["n_train"] == 2 and m["n_test"] == 2


def test_tables(ds):
    out, man = ds
    real_ss = pd.read_csv(asset_path("adc2025", "sample_submission.csv"))
    ss = pd.read_csv(out / "sample_submission.csv")
    assert list(ss.columns) == list(real_ss.columns) == SUBMISSION_COLS and len(ss.columns) == 567
    assert np.all(ss.iloc[:, 1:].to_numpy() == 0.456)
    real_star = pd.read_csv(asset_path("adc2025", "train_star_info.csv"))
    for name in ("train_star_info.csv", "test_star_info.csv"):
        t = pd.read_csv(out / name)
        assert list(t.columns) == list(real_star.columns) == ["planet_id", *STAR_COLS]
        assert all(t[c].dtype == np.float64 for c in STAR_COLS)
    test_ids = pd.read_csv(out / "test_star_info.csv").planet_id
    assert test_ids.dtype == np.float64 and (out / "test_star_info.csv").read_text().splitlines()[1].split(",")[0].endswith(".0")
    assert set(ss.planet_id) == set(test_ids.astype(int))
    tr = pd.read_csv(out / "train.csv")
    assert list(tr.columns) == ["planet_id", *WL_COLS] and tr.planet_id.dtype == np.int64
    assert set(tr.planet_id) == set(pd.read_csv(out / "train_star_info.csv").planet_id)
    assert tr[WL_COLS].to_numpy().min() > 0 and tr[WL_COLS].dtypes.eq(np.float64).all()


def test_solution_outside_and_truth_exact(ds):
    out, man = ds
    sol = pd.read_csv(out.parent / "set_solution.csv")
    assert not any(p.name.endswith("solution.csv") for p in out.rglob("*"))
    assert list(sol.columns) == ["planet_id", *WL_COLS] and len(sol) == 2
    for _, row in pd.concat([pd.read_csv(out / "train.csv"), sol]).iterrows():
        pid = int(row.planet_id)
        t = draw_planet(make_rng(SEED, pid), pid, p_two_visits=0.5)
        assert np.array_equal(row[WL_COLS].to_numpy(np.float64), t.depth)  # csv round trip keeps every bit
    truth = json.loads((out.parent / "set_truth.json").read_text())
    assert {len(truth["train"]), len(truth["test"])} == {2}


def test_planet_folders_match_real_files(ds):
    out, man = ds
    nvis = {**man["planets"]["train"], **man["planets"]["test"]}
    assert sorted(set(nvis.values())) == [1, 2]             # one- and two-visit planets both present
    for split in ("train", "test"):
        for pid, nv in man["planets"][split].items():
            d = out / split / pid
            want = {signal_name(i, v) for i in INSTRUMENTS for v in range(nv)} | {calib_dir_name(i, v) for i in INSTRUMENTS for v in range(nv)}
            assert {p.name for p in d.iterdir()} == want
            for v in range(nv):
                for inst, w in (("AIRS-CH0", 356), ("FGS1", 32)):
                    t = pq.read_table(d / signal_name(inst, v))
                    n = round(5625 * SCALE) * (2 if inst == "AIRS-CH0" else 24)
                    assert t.num_rows == n and t.num_columns == 32 * w
                    assert t.column_names == [f"column_{j}" for j in range(32 * w)]
                    assert set(t.schema.types) == {pa.uint16()}
                    assert pq.read_table(REF / signal_name(inst, 0)).schema.types[0] == pa.uint16()
                    for name in CAL_FILES:
                        r = pq.read_table(REF / calib_dir_name(inst, 0) / f"{name}.parquet")
                        s = pq.read_table(d / calib_dir_name(inst, v) / f"{name}.parquet")
                        assert (s.num_rows, s.num_columns) == (r.num_rows, r.num_columns), (inst, name)
                        assert s.schema.names == r.schema.names and s.schema.types == r.schema.types, (inst, name)


def test_loader_reads_back_bit_for_bit(ds):
    from spectramind.data.layout import scan_layout
    from spectramind.data.load import load_observation
    out, man = ds
    lay = scan_layout(out, strict=True)
    pid = int(next(iter(man["planets"]["test"])))
    obs = load_observation(lay, pid, 0)
    sim = simulate_visit(draw_planet(make_rng(SEED, pid), pid, p_two_visits=0.5), 0, make_rng(SEED, pid, 0), SCALE)
    assert np.array_equal(obs.airs, sim["AIRS-CH0"]) and np.array_equal(obs.fgs, sim["FGS1"])
    for inst, cal in (("AIRS-CH0", obs.airs_cal), ("FGS1", obs.fgs_cal)):
        for name in CAL_FILES:
            assert np.array_equal(getattr(cal, name), getattr(sim["cal"][inst], name))
    axis = pq.read_table(out / "axis_info.parquet")
    assert np.array_equal(obs.airs_time_h, axis.column("AIRS-CH0-axis0-h").to_numpy()[:len(obs.airs)])
    assert np.array_equal(obs.fgs_time_h, axis.column("FGS1-axis0-h").to_numpy()[:len(obs.fgs)])
    assert obs.star is not None and abs(obs.star["P"] - sim["state"].orbit["per_h"] / 24) < 1e-9  # scaled period written
