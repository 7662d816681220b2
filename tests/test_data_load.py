"""spectramind.data.load: real vendored files, bit-exact round trips through the Kaggle layout, and every bad input
producing a DataError that names the file."""
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spectramind.core import INSTRUMENTS, CAL_FILES, N_LINCORR, asset_path, frame_shape, signal_name, calib_dir_name
from spectramind.contracts import CalFrames, RawObs
from spectramind.data.layout import DataError, STAR_COLS, scan_layout
from spectramind.data.load import (read_signal, read_matrix, load_calibration, load_axis_info, load_adc_info,
                                   load_wavelengths, load_visit, load_observation, iter_observations, LoadFailure)

SAMPLE = asset_path("adc2025", "train_342072318_truncated_sample")
STAR_ROW = ",1.1,1.0,5600.0,0.7,0.0,3.3,8.5,89.1\n"


# ---------------------------------------------------------------- a tiny independent writer of the Kaggle layout
def write_table(path, a):
    "Write a 2-D array as parquet with columns column_0.. (pyarrow, one row group), as the competition files are."
    a = np.asarray(a).reshape(len(a), -1)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({f"column_{j}": a[:, j] for j in range(a.shape[1])}), path)


def fake_cal(rng, instrument):
    "Random but valid calibration maps of one instrument."
    r, w = frame_shape(instrument)
    dead = np.zeros((r, w), bool); dead.flat[rng.choice(r * w, 3, replace=False)] = True
    lc = np.stack([rng.normal(0.1, 0.1, (r, w)), rng.normal(1, 0.005, (r, w))] + [rng.normal(0, 1e-9 * 10.0**-(4 * k), (r, w)) for k in range(4)])
    return dict(dark=rng.uniform(0, 0.02, (r, w)), dead=dead, flat=rng.normal(1, 0.03, (r, w)), linear_corr=lc,
                read=rng.uniform(10, 16, (r, w)))


def write_visit(planet_dir, visit, rng, n_airs=8, n_fgs=24):
    "Write one visit (both signals, both calibration folders) with random content; return what was written."
    truth = {}
    for inst, n in (("AIRS-CH0", n_airs), ("FGS1", n_fgs)):
        sig = rng.integers(0, 65536, (n, *frame_shape(inst)), dtype=np.uint16)
        write_table(planet_dir / signal_name(inst, visit), sig)
        cal = fake_cal(rng, inst)
        for name, m in cal.items():
            write_table(planet_dir / calib_dir_name(inst, visit) / f"{name}.parquet", m.reshape(-1, m.shape[-1]))
        truth[inst] = (sig, cal)
    return truth


def make_competition(root, rng, train=((11, 1), (22, 2)), test=((1103775, 1),), float_test_ids=True):
    "A competition folder: real metadata files, star info (float test ids as in the public copy), planet folders."
    root.mkdir(parents=True, exist_ok=True)
    for f in ("axis_info.parquet", "adc_info.csv", "wavelengths.csv"): shutil.copy(asset_path("adc2025", f), root / f)
    truth = {}
    for split, planets in (("train", train), ("test", test)):
        fmt = "{:.1f}" if (split == "test" and float_test_ids) else "{}"
        (root / f"{split}_star_info.csv").write_text(",".join(STAR_COLS) + "\n" + "".join(fmt.format(p) + STAR_ROW for p, _ in planets))
        for p, nv in planets:
            for v in range(nv): truth[(p, v)] = write_visit(root / split / str(p), v, rng)
    return truth


def assert_names(exc_info, path, msg):
    s = str(exc_info.value)
    assert isinstance(exc_info.value, ValueError)
    assert s.startswith(str(path)), s
    assert msg in s, s


# ---------------------------------------------------------------- the real vendored files
def test_real_calibration_maps():
    ca = load_calibration(SAMPLE / "AIRS-CH0_calibration_0", "AIRS-CH0")
    cf = load_calibration(SAMPLE / "FGS1_calibration_0", "FGS1")
    assert isinstance(ca, CalFrames) and ca.instrument == "AIRS-CH0" and cf.instrument == "FGS1"
    for c, w in ((ca, 356), (cf, 32)):
        for m in (c.dark, c.flat, c.read): assert m.shape == (32, w) and m.dtype == np.float64 and m.flags.c_contiguous
        assert c.dead.shape == (32, w) and c.dead.dtype == np.bool_
        assert c.linear_corr.shape == (6, 32, w) and c.linear_corr.dtype == np.float64
    assert int(ca.dead.sum()) == 12 and int(cf.dead.sum()) == 3
    # spec section 1.3 (AIRS / FGS1)
    assert np.median(ca.dark) == pytest.approx(0.0063, abs=3e-4) and np.median(cf.dark) == pytest.approx(0.0069, abs=3e-4)
    assert ca.dark.max() == pytest.approx(11.9, abs=0.1) and cf.dark.max() == pytest.approx(1.35, abs=0.01)
    assert np.median(ca.flat) == pytest.approx(1.014, abs=1e-3) and np.median(cf.flat) == pytest.approx(1.008, abs=1e-3)
    assert np.median(ca.read) == pytest.approx(13.0, abs=0.1) and np.median(cf.read) == pytest.approx(13.3, abs=0.1)
    assert np.median(ca.linear_corr[0]) == pytest.approx(0.14, abs=0.005) and np.median(cf.linear_corr[0]) == pytest.approx(0.27, abs=0.01)
    for c in (ca, cf):
        assert np.median(c.linear_corr[1]) == pytest.approx(0.9999, abs=2e-4)
        assert 0.985 < np.percentile(c.linear_corr[1], 0.5) and np.percentile(c.linear_corr[1], 99.5) < 1.015
    assert np.median(ca.linear_corr[3]) == pytest.approx(1.2e-11, rel=0.05) and np.median(cf.linear_corr[3]) == pytest.approx(8.5e-12, rel=0.05)
    assert np.median(ca.linear_corr[4]) == pytest.approx(-6e-17, rel=0.05) and np.median(ca.linear_corr[5]) == pytest.approx(1.3e-22, rel=0.05)
    # coefficient-major, increasing power: the median polynomial maps 30000 e- to about 30264.8 e-
    med = [np.median(ca.linear_corr[k]) for k in range(N_LINCORR)]
    assert sum(c * 3e4**k for k, c in enumerate(med)) == pytest.approx(30264.8, abs=5)


def test_real_raw_frames():
    airs = read_signal(SAMPLE / "AIRS-CH0_signal_0.parquet", "AIRS-CH0")
    fgs = read_signal(SAMPLE / "FGS1_signal_0.parquet", "FGS1")
    assert airs.shape == (50, 32, 356) and fgs.shape == (50, 32, 32)
    for a in (airs, fgs): assert a.dtype == np.uint16 and a.flags.c_contiguous and a.flags.writeable
    even_bg = np.concatenate([airs[0::2, :8], airs[0::2, 24:]], axis=1)
    assert np.median(even_bg) == 437                                             # ADU, spec section 1.2
    odd_bg = np.concatenate([airs[1::2, :8], airs[1::2, 24:]], axis=1)
    assert 10 < np.median(odd_bg) - np.median(even_bg) < 40                      # end reads carry 4.5 s more charge
    assert airs[1::2].max() == 26871 and fgs[1::2].max() == 23892               # brightest pixels, ADU
    assert np.median(np.concatenate([fgs[0::2, :8], fgs[0::2, 24:]], axis=1)) == pytest.approx(438, abs=1)
    # the trace is centred on rows 14-17 (row sums of the mean CDS)
    cds = (airs[1::2].astype(np.float64) - airs[0::2]).mean(0)
    assert 14 <= int(np.argmax(cds[:, 39:321].sum(1))) <= 17
    # frame ranges of the flat file agree with the whole read
    assert np.array_equal(read_signal(SAMPLE / "AIRS-CH0_signal_0.parquet", "AIRS-CH0", rows=(20, 31), chunk_mb=0.05), airs[20:31])


def test_real_metadata_and_visit():
    axis = load_axis_info(asset_path("adc2025", "axis_info.parquet"))
    assert [len(v) for v in axis.values()] == [11250, 356, 11250, 135000]
    assert all(v.dtype == np.float64 and np.isfinite(v).all() for v in axis.values())
    assert axis["AIRS-CH0-axis2-um"][39] == pytest.approx(3.895036, abs=1e-6) and axis["AIRS-CH0-axis2-um"][320] == pytest.approx(1.951761, abs=1e-6)
    adc = load_adc_info(asset_path("adc2025", "adc_info.csv"))
    assert adc == {"AIRS-CH0": (0.4369, -1000.0), "FGS1": (0.4369, -1000.0)}
    wl = load_wavelengths(asset_path("adc2025", "wavelengths.csv"))
    assert wl.shape == (283,) and wl[0] == 0.7 and wl[-1] == pytest.approx(axis["AIRS-CH0-axis2-um"][39], abs=1e-12)
    obs = load_visit(SAMPLE, 0, axis=axis, adc=adc, planet_id=342072318)
    assert isinstance(obs, RawObs) and obs.planet_id == 342072318 and obs.visit == 0
    assert obs.airs.shape == (50, 32, 356) and obs.fgs.shape == (50, 32, 32)
    assert np.array_equal(obs.airs_time_h, axis["AIRS-CH0-axis0-h"][:50]) and np.array_equal(obs.fgs_time_h, axis["FGS1-axis0-h"][:50])
    assert obs.airs_int_s.tolist() == [0.1, 4.5] * 25 and np.array_equal(obs.airs_wl_um, axis["AIRS-CH0-axis2-um"])


# ---------------------------------------------------------------- round trips through the Kaggle layout
def test_round_trip_bit_exact(tmp_path):
    truth = make_competition(tmp_path / "comp", np.random.default_rng(1))
    lay = scan_layout(tmp_path / "comp", strict=True)
    assert lay.planets == {"train": (11, 22), "test": (1103775,)} and lay.visits["train"][22] == (0, 1)
    for (pid, v), t in truth.items():
        obs = load_observation(lay, pid, visit=v)
        assert obs.planet_id == pid and obs.visit == v and obs.star["Ts"] == 5600.0
        for inst, sig, cal in (("AIRS-CH0", obs.airs, obs.airs_cal), ("FGS1", obs.fgs, obs.fgs_cal)):
            want_sig, want_cal = t[inst]
            assert sig.dtype == np.uint16 and sig.flags.c_contiguous and np.array_equal(sig, want_sig)
            for name in CAL_FILES:
                got = getattr(cal, name)
                assert got.dtype == want_cal[name].dtype and np.array_equal(got, want_cal[name]), name
        assert len(obs.airs_time_h) == 8 and len(obs.fgs_time_h) == 24 and len(obs.airs_int_s) == 8


def test_linear_corr_is_coefficient_major(tmp_path):
    d = tmp_path / "FGS1_calibration_0"
    shutil.copytree(SAMPLE / "FGS1_calibration_0", d)
    lc = np.repeat(np.arange(192.0)[:, None], 32, axis=1)           # row index as value
    write_table(d / "linear_corr.parquet", lc)
    got = load_calibration(d, "FGS1").linear_corr
    for k in range(N_LINCORR): assert np.array_equal(got[k], lc[32 * k:32 * (k + 1)])   # c_k = rows 32k..32k+31


def test_chunked_and_ranged_reads_agree(tmp_path):
    rng = np.random.default_rng(2)
    for inst, n in (("AIRS-CH0", 14), ("FGS1", 200)):
        sig = rng.integers(400, 30000, (n, *frame_shape(inst)), dtype=np.uint16)
        p = tmp_path / signal_name(inst, 0)
        pq.write_table(pa.table({f"column_{j}": sig.reshape(n, -1)[:, j] for j in range(sig[0].size)}), p, row_group_size=5)
        assert pq.ParquetFile(p).metadata.num_row_groups > 1
        whole = read_signal(p, inst)
        assert np.array_equal(whole, sig)
        for chunk_mb in (0.1, 1000):                     # 4 slices (AIRS 4, FGS 51 frames), one slice
            assert np.array_equal(read_signal(p, inst, chunk_mb=chunk_mb), sig)
            assert np.array_equal(read_signal(p, inst, rows=(3, n - 2), chunk_mb=chunk_mb), sig[3:n - 2])
        assert read_signal(p, inst, rows=(n, None)).shape == (0, *frame_shape(inst))


def test_fewer_frames_than_axis_and_frame_ranges(tmp_path):
    make_competition(tmp_path / "comp", np.random.default_rng(3), train=((5, 1),), test=())
    axis = load_axis_info(asset_path("adc2025", "axis_info.parquet"))
    o = load_observation(tmp_path / "comp", 5, rows={"AIRS-CH0": (2, 6), "FGS1": (12, 24)})
    assert o.airs.shape[0] == 4 and np.array_equal(o.airs_time_h, axis["AIRS-CH0-axis0-h"][2:6])
    assert np.array_equal(o.fgs_time_h, axis["FGS1-axis0-h"][12:24]) and o.airs_int_s.tolist() == [0.1, 4.5, 0.1, 4.5]
    a = load_observation(tmp_path / "comp", 5, instruments=("AIRS-CH0",))
    assert a.airs.shape == (8, 32, 356) and a.fgs.shape == (0, 32, 32) and a.fgs_time_h.shape == (0,)
    with pytest.raises(ValueError, match="even frame"): load_observation(tmp_path / "comp", 5, rows={"AIRS-CH0": (1, 5)})


# ---------------------------------------------------------------- every bad input names its file
def test_signal_errors(tmp_path):
    rng = np.random.default_rng(4)
    good = rng.integers(0, 65535, (4, 32, 356), dtype=np.uint16)
    p = tmp_path / "AIRS-CH0_signal_0.parquet"
    with pytest.raises(DataError) as e: read_signal(p, "AIRS-CH0")
    assert_names(e, p, "file missing")
    write_table(p, good.reshape(4, -1)[:, :11000])
    with pytest.raises(DataError) as e: read_signal(p, "AIRS-CH0")
    assert_names(e, p, "expected 11392 columns (32x356 pixels) or one flat column, got 11000")
    write_table(p, good.astype(np.float64))
    with pytest.raises(DataError) as e: read_signal(p, "AIRS-CH0")
    assert_names(e, p, "expected uint16 columns, found Float64")
    write_table(p, good.reshape(-1, 1)[:-7])
    with pytest.raises(DataError) as e: read_signal(p, "AIRS-CH0")
    assert_names(e, p, "not a whole number")
    write_table(p, good)
    with pytest.raises(DataError) as e: read_signal(p, "FGS1")
    assert_names(e, p, "expected 1024 columns")
    with pytest.raises(DataError) as e: read_signal(p, "AIRS-CH0", rows=(2, 7))
    assert_names(e, p, "holds 4 frames")
    cols = {f"column_{j}": pa.array(good.reshape(4, -1)[:, j]) for j in range(11392)}
    cols["column_7"] = pa.array([1, None, 3, 4], type=pa.uint16())
    pq.write_table(pa.table(cols), p)
    with pytest.raises(DataError) as e: read_signal(p, "AIRS-CH0")
    assert_names(e, p, "1 null value(s)")
    write_table(p, good)
    raw = p.read_bytes()
    for broken in (raw[: len(raw) // 2], raw[:-3], b"PAR1" + b"\0" * 64 + b"PAR1", b""):
        p.write_bytes(broken)
        with pytest.raises(DataError) as e: read_signal(p, "AIRS-CH0")
        assert_names(e, p, "unreadable parquet")
    # corrupt page data inside an intact footer
    write_table(p, good)
    raw = bytearray(p.read_bytes()); mid = len(raw) // 3
    raw[mid:mid + 2000] = bytes(2000); p.write_bytes(bytes(raw))
    with pytest.raises(DataError) as e: read_signal(p, "AIRS-CH0")
    assert str(e.value).startswith(str(p))


def test_calibration_errors(tmp_path):
    src = SAMPLE / "AIRS-CH0_calibration_0"
    ca = load_calibration(src, "AIRS-CH0")

    def broken(name, arr):
        d = tmp_path / f"case_{name}_{len(list(tmp_path.iterdir()))}" / "AIRS-CH0_calibration_0"
        shutil.copytree(src, d)
        if arr is None: (d / f"{name}.parquet").unlink()
        else: write_table(d / f"{name}.parquet", arr)
        return d, d / f"{name}.parquet"

    cases = [("dark", None, "file missing"),
             ("dark", ca.dark[:31], "expected 32 rows, got 31"),
             ("flat", ca.flat[:, :300], "expected 356 columns, got 300"),
             ("linear_corr", ca.linear_corr.reshape(192, 356)[:32], "expected 192 rows, got 32"),
             ("read", ca.read.astype(np.float32), "expected float64 columns, found Float32"),
             ("dead", ca.dead.astype(np.float64), "expected bool columns, found Float64"),
             ("flat", np.where(ca.dead, np.nan, ca.flat), "12 NaN/inf value(s)"),
             ("linear_corr", np.where(np.arange(192)[:, None] == 40, np.inf, ca.linear_corr.reshape(192, 356)), "356 NaN/inf value(s)")]
    for name, arr, msg in cases:
        d, p = broken(name, arr)
        with pytest.raises(DataError) as e: load_calibration(d, "AIRS-CH0")
        assert_names(e, p, msg)
    d, p = broken("dark", ca.dark)
    cols = {f"column_{j}": pa.array(ca.dark[:, j]) for j in range(356)}
    cols["column_5"] = pa.array([None] + list(ca.dark[1:, 5]), type=pa.float64())
    pq.write_table(pa.table(cols), p)
    with pytest.raises(DataError) as e: load_calibration(d, "AIRS-CH0")
    assert_names(e, p, "1 null value(s)")
    with pytest.raises(DataError) as e: load_calibration(tmp_path / "nope", "FGS1")
    assert_names(e, tmp_path / "nope", "calibration folder missing")


def test_metadata_errors(tmp_path):
    p = tmp_path / "adc_info.csv"
    p.write_text("FGS1_adc_offset,FGS1_adc_gain,AIRS-CH0_adc_offset\n-1000.0,0.4369,-1000.0\n")
    with pytest.raises(DataError) as e: load_adc_info(p)
    assert_names(e, p, "missing column(s) ['AIRS-CH0_adc_gain']")
    p.write_text("FGS1_adc_offset,FGS1_adc_gain,AIRS-CH0_adc_offset,AIRS-CH0_adc_gain\n-1000.0,0.0,-1000.0,0.4369\n")
    with pytest.raises(DataError) as e: load_adc_info(p)
    assert_names(e, p, "FGS1 gain 0.0")
    p = tmp_path / "wavelengths.csv"
    p.write_text(",".join(f"wl_{i}" for i in range(1, 283)) + "\n" + ",".join(["1.0"] * 282) + "\n")
    with pytest.raises(DataError) as e: load_wavelengths(p)
    assert_names(e, p, "missing column(s) ['wl_283']")
    p = tmp_path / "axis_info.parquet"
    t = pq.read_table(asset_path("adc2025", "axis_info.parquet")).drop_columns(["FGS1-axis0-h"])
    pq.write_table(t, p)
    with pytest.raises(DataError) as e: load_axis_info(p)
    assert_names(e, p, "missing column 'FGS1-axis0-h'")
    a = np.arange(10.0); a[4] = np.nan
    pq.write_table(pa.table({c: a for c in ("AIRS-CH0-axis0-h", "AIRS-CH0-axis2-um", "AIRS-CH0-integration_time", "FGS1-axis0-h")}), p)
    with pytest.raises(DataError) as e: load_axis_info(p)
    assert_names(e, p, "has gaps")


def test_observation_errors(tmp_path):
    root = tmp_path / "comp"
    make_competition(root, np.random.default_rng(5), train=((11, 2), (22, 1)), test=())
    lay = scan_layout(root, strict=True)
    # missing signal file
    p = root / "train" / "22" / "FGS1_signal_0.parquet"; p.unlink()
    with pytest.raises(DataError) as e: load_observation(lay, 22)
    assert_names(e, p, "file missing")
    # missing calibration folder
    d = root / "train" / "11" / "AIRS-CH0_calibration_1"; shutil.rmtree(d)
    with pytest.raises(DataError) as e: load_observation(lay, 11, visit=1)
    assert_names(e, d, "calibration folder missing")
    # odd number of frames
    p = root / "train" / "11" / "AIRS-CH0_signal_0.parquet"
    write_table(p, np.zeros((7, 32 * 356), np.uint16))
    with pytest.raises(DataError) as e: load_observation(lay, 11)
    assert_names(e, p, "7 frames read")
    # more frames than axis_info knows
    short = tmp_path / "short_axis"; shutil.copytree(root, short)
    pq.write_table(pa.table({"AIRS-CH0-axis0-h": np.arange(4.0), "AIRS-CH0-axis2-um": np.r_[np.arange(356.0), [np.nan] * 0][:4].tolist() + [1.0] * 0,
                             "AIRS-CH0-integration_time": np.ones(4), "FGS1-axis0-h": np.arange(4.0)}), short / "axis_info.parquet")
    with pytest.raises(DataError) as e: load_observation(short, 22)
    assert "axis_info" in str(e.value)
    # planet listed in the star info with no folder; unknown planet; missing visit; missing metadata
    (root / "train_star_info.csv").write_text((root / "train_star_info.csv").read_text() + "33" + STAR_ROW)
    lay = scan_layout(root)
    with pytest.raises(DataError) as e: load_observation(lay, 33)
    assert_names(e, root / "train" / "33", "folder missing for planet 33")
    with pytest.raises(DataError) as e: scan_layout(root, strict=True)
    assert str(root / "train" / "33") in str(e.value)
    with pytest.raises(DataError, match="planet 44 is listed in no split"): load_observation(lay, 44)
    with pytest.raises(DataError) as e: load_observation(lay, 22, visit=1)
    assert_names(e, root / "train" / "22" / "AIRS-CH0_signal_1.parquet", "visit 1 not found")
    (root / "adc_info.csv").unlink()
    with pytest.raises(DataError) as e: load_observation(scan_layout(root), 22)
    assert_names(e, root / "adc_info.csv", "file missing")


def test_batch_continues_past_failures(tmp_path):
    root = tmp_path / "comp"
    make_competition(root, np.random.default_rng(6), train=((11, 1), (22, 2), (33, 1), (44, 1)), test=())
    (root / "train_star_info.csv").write_text((root / "train_star_info.csv").read_text() + "55" + STAR_ROW)
    p_bad = root / "train" / "22" / "FGS1_calibration_0" / "dead.parquet"
    write_table(p_bad, np.zeros((32, 32), np.uint8))
    p_trunc = root / "train" / "33" / "AIRS-CH0_signal_0.parquet"
    p_trunc.write_bytes(p_trunc.read_bytes()[:1000])
    fails = []
    got = [(o.planet_id, o.visit) for o in iter_observations(root, "train", failures=fails, progress=False)]
    assert got == [(11, 0), (22, 1), (44, 0)]
    assert [(f.split, f.planet_id, f.visit) for f in fails] == [("train", 22, 0), ("train", 33, 0), ("train", 55, None)]
    assert all(isinstance(f, LoadFailure) for f in fails)
    assert fails[0].reason.startswith(str(p_bad)) and "expected bool columns" in fails[0].reason
    assert fails[1].reason.startswith(str(p_trunc)) and "unreadable parquet" in fails[1].reason
    assert "folder missing" in fails[2].reason
    # chosen planets and visits, in the order given; an unlisted planet is a failure too
    fails = []
    got = [(o.planet_id, o.visit) for o in iter_observations(scan_layout(root), "train", planet_ids=["44.0", 22, 99], visits=(1,), failures=fails, progress=False)]
    assert got == [(22, 1)] and [(f.planet_id, f.visit) for f in fails] == [(99, None)]


def test_float_planet_ids_in_test_split(tmp_path):
    root = tmp_path / "comp"
    make_competition(root, np.random.default_rng(7), train=(), test=((1103775, 1), (4294092928, 1)))
    assert (root / "test_star_info.csv").read_text().splitlines()[1].startswith("1103775.0,")
    lay = scan_layout(root, strict=True)
    assert lay.planets["test"] == (1103775, 4294092928)
    obs = list(iter_observations(lay, "test", progress=False))
    assert [o.planet_id for o in obs] == [1103775, 4294092928] and all(type(o.planet_id) is int for o in obs)
    (root / "test_star_info.csv").write_text(",".join(STAR_COLS) + "\n1103775.5" + STAR_ROW)
    with pytest.raises(DataError) as e: scan_layout(root)
    assert_names(e, root / "test_star_info.csv", "planet_id '1103775.5' is not an integer")
