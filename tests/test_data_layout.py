"""spectramind.data.layout: planet ids, visit discovery by globbing, scanning a competition folder."""
import shutil

import numpy as np
import pytest

from spectramind.core import INSTRUMENTS, CAL_FILES, asset_path, signal_name, calib_dir_name
from spectramind.data.layout import (DataError, STAR_COLS, as_planet_id, as_planet_ids, load_star_info, find_visits,
                                     list_planets, scan_layout, CompetitionLayout)

STAR_ROW = ",1.0,1.0,5500.0,1.0,0.0,3.0,10.0,89.0\n"


def touch_visit(d, v, instruments=INSTRUMENTS):
    d.mkdir(parents=True, exist_ok=True)
    for i in instruments:
        (d / signal_name(i, v)).touch()
        (d / calib_dir_name(i, v)).mkdir(exist_ok=True)
        for c in CAL_FILES: (d / calib_dir_name(i, v) / f"{c}.parquet").touch()


def write_star(path, ids):
    path.write_text(",".join(STAR_COLS) + "\n" + "".join(f"{p}{STAR_ROW}" for p in ids))


def test_planet_ids():
    assert as_planet_id("1103775.0") == 1103775 and as_planet_id(1103775.0) == 1103775
    assert as_planet_id("4294092928") == 4294092928 and as_planet_id("4294092928.0") == 4294092928
    assert as_planet_id(np.int64(34983)) == 34983 and type(as_planet_id(np.int64(3))) is int
    assert as_planet_ids(np.array([1.0, 2.0])).dtype == np.int64
    for bad in ("1103775.5", "inf", "", "id", "-1", 2.5, True, "9007199254740993.0"):
        with pytest.raises(DataError, match="planet_id"): as_planet_id(bad, "x.csv")


def test_real_star_info():
    test = load_star_info(asset_path("adc2025", "test_star_info.csv"))
    assert list(test) == [1103775] and type(next(iter(test))) is int
    row = test[1103775]
    assert list(row) == list(STAR_COLS[1:]) and row["P"] == pytest.approx(6.932870799618283, rel=1e-15)
    train = load_star_info(asset_path("adc2025", "train_star_info.csv"))
    assert len(train) == 1100 and min(train) == 34983 and max(train) == 4294092928
    ts = np.array([r["Ts"] for r in train.values()])
    assert ts.mean() == pytest.approx(5839, abs=1) and ts.max() <= 6979.5


def test_star_info_errors(tmp_path):
    p = tmp_path / "train_star_info.csv"
    write_star(p, [1, 2, 1])
    with pytest.raises(DataError, match="duplicate planet_id"): load_star_info(p)
    p.write_text("planet_id,Rs,Ms\n1,1,1\n")
    with pytest.raises(DataError) as e: load_star_info(p)
    assert str(e.value).startswith(str(p)) and "missing column(s) ['Ts', 'Mp', 'e', 'P', 'sma']" in str(e.value)
    write_star(p, [1]); p.write_text(p.read_text().replace("5500.0", "hot"))
    with pytest.raises(DataError) as e: load_star_info(p)
    assert str(e.value).startswith(str(p)) and "non-numeric" in str(e.value)
    write_star(p, [1]); p.write_text(p.read_text().replace("5500.0", ""))
    assert np.isnan(load_star_info(p)[1]["Ts"])                      # kept as NaN, logged


def test_find_visits_by_globbing(tmp_path):
    d = tmp_path / "123"
    touch_visit(d, 1)                                                 # only a visit 1
    (d / "AIRS-CH0_signal_7.txt").touch(); (d / "FGS1_signal_3.parquet").mkdir()   # not visits
    (d / "FGS1_calibration_5.parquet").touch()                          # a calibration "folder" that is a file
    assert find_visits(d) == ((1,), [])
    touch_visit(d, 0, ("FGS1",))
    visits, problems = find_visits(d)
    assert visits == (0, 1) and problems == [f"{d}: visit 0 lacks ['AIRS-CH0_calibration_0', 'AIRS-CH0_signal_0.parquet']"]


def test_scan_layout(tmp_path):
    root = tmp_path / "comp"; root.mkdir()
    for f in ("axis_info.parquet", "adc_info.csv", "wavelengths.csv", "sample_submission.csv"):
        shutil.copy(asset_path("adc2025", f), root)
    write_star(root / "train_star_info.csv", [34983, 1873185, 3849793])
    for p in (34983, 1873185, 3849793): touch_visit(root / "train" / str(p), 0)
    touch_visit(root / "train" / "1873185", 1)
    touch_visit(root / "test" / "1103775", 0)
    lay = scan_layout(root, strict=True)
    assert isinstance(lay, CompetitionLayout) and lay.root == root
    assert lay.planets == {"train": (34983, 1873185, 3849793), "test": (1103775,)}   # test from sample_submission
    assert lay.visits["train"] == {34983: (0,), 1873185: (0, 1), 3849793: (0,)} and lay.problems == ()
    assert lay.observations("train") == [(34983, 0), (1873185, 0), (1873185, 1), (3849793, 0)]
    assert set(lay.meta) == {"axis_info", "adc_info", "wavelengths", "sample_submission", "train_star_info"}
    files = lay.visit_files(1873185, 1)
    assert sorted(files) == sorted([signal_name(i, 1) for i in INSTRUMENTS] + [f"{calib_dir_name(i, 1)}/{c}.parquet" for i in INSTRUMENTS for c in CAL_FILES])
    assert files["FGS1_calibration_1/linear_corr.parquet"] == root / "train" / "1873185" / "FGS1_calibration_1" / "linear_corr.parquet"
    assert lay.signal_path(1103775, "AIRS-CH0") == root / "test" / "1103775" / "AIRS-CH0_signal_0.parquet"
    r = repr(lay)
    assert str(root) in r and "train: 3 planets, 4 visits (1 with 2+, 0 without folder)" in r and "problems: 0" in r
    with pytest.raises(DataError) as e: lay.meta_path("train")
    assert str(e.value) == f"{root / 'train.csv'}: file missing"
    with pytest.raises(KeyError): lay.meta_path("labels")


def test_scan_problems(tmp_path):
    root = tmp_path / "comp"; root.mkdir()
    write_star(root / "test_star_info.csv", ["1103775.0", "2.0"])
    shutil.copy(asset_path("adc2025", "sample_submission.csv"), root)   # lists only 1103775
    touch_visit(root / "test" / "1103775", 0); touch_visit(root / "test" / "9", 0)
    (root / "test" / "1103775" / "FGS1_signal_0.parquet").unlink()
    lay = scan_layout(root)
    assert lay.planets["test"] == (1103775, 2) and lay.visits["test"] == {1103775: (0,), 2: ()}
    ps = "\n".join(lay.problems)
    assert len(lay.problems) == 4
    assert "list different planets" in ps and "visit 0 lacks ['FGS1_signal_0.parquet']" in ps
    assert f"{root / 'test' / '2'}: folder missing for planet 2 listed in test_star_info.csv" in ps
    assert "1 folder(s) not listed in test_star_info.csv, e.g. ['9']" in ps
    with pytest.raises(DataError, match="4 problem"): scan_layout(root, strict=True)
    with pytest.raises(DataError) as e: scan_layout(tmp_path / "nowhere")
    assert str(e.value) == f"{tmp_path / 'nowhere'}: competition folder missing"
    assert list_planets(tmp_path, "train")[1] is None                    # no listing file: no planets
    (root / "train_star_info.csv").write_text("Rs,Ms\n1,1\n")
    with pytest.raises(DataError, match="missing column planet_id"): scan_layout(root)
