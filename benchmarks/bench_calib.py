"""Calibration speed benchmark: one full-size planet (AIRS-CH0 11 250 + FGS1 135 000 reads), parquet to light curves.

Prints, for the same planet on the same machine:
  * parquet read alone (spectramind.data.load.read_signal, both instruments);
  * the production path: load_visit + lightcurves_from_obs with the fused numba calibration (wall, peak RSS);
  * the fused calibration alone, and the light-curve extraction alone;
  * a straightforward re-implementation of the organiser's calibration notebook ("Calibrating and Binning Ariel
    Data": float64 ADC, sigma-clipped hot/dead masks as masked arrays, per-pixel np.poly1d non-linearity, dark x
    (0.1, 4.6)/(0.1, 0.2) s, CDS, sums of 30/360 frames, flat after binning; AIRS cut to 39:321), processed in
    chunks of whole bins to keep its memory under ~1.5 GB;
  * the speed ratios.
Each timed mode runs in its own subprocess (fresh allocator, its own peak RSS); the numba kernels are compiled
(or loaded from numba's cache) by a warm-up call that is not timed.

    python benchmarks/bench_calib.py                  # simulate one full-size planet into a temp folder first
    python benchmarks/bench_calib.py --data DIR --planet ID [--split train] [--repeats 3] [--threads 2]
    python benchmarks/bench_calib.py --data DIR --reencode snappy   # same planet, signals re-written snappy + dictionary

Parquet decoding dominates the wall time and depends on how the files were written: the simulator writes zstd
without dictionary encoding; parquet's defaults (snappy, dictionary) decode about twice as fast. `--reencode`
benchmarks a copy of the planet with its two signal files re-written in the given codec (with dictionary).
"""
from __future__ import annotations
import argparse, json, os, resource, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    "CPU seconds (user + system, all threads) used by this process so far."
    r = resource.getrusage(resource.RUSAGE_SELF); return r.ru_utime + r.ru_stime


class _Timer:
    "Wall and CPU seconds of a block, appended to two lists."
    def __init__(self, ts, cs): self.ts, self.cs = ts, cs
    def __enter__(self): self.t, self.c = time.perf_counter(), _cpu_s(); return self
    def __exit__(self, *a): self.ts.append(time.perf_counter() - self.t); self.cs.append(_cpu_s() - self.c)


def _planet_dir(data: Path, split: str, pid: int) -> Path:
    return data / split / str(pid)


def _load(data: Path, split: str, pid: int):
    from spectramind.data.layout import scan_layout
    from spectramind.data.load import load_visit, load_axis_info, load_adc_info
    lay = scan_layout(data, splits=(split,))
    return load_visit(lay.planet_dir(pid, split), 0, axis=load_axis_info(lay.meta_path("axis_info")),
                      adc=load_adc_info(lay.meta_path("adc_info")), planet_id=pid)


# ----------------------------------------------------------------------------------------------------------------
# the organiser's notebook, re-implemented as described (float64, masked arrays, per-pixel np.poly1d)
def _sigma_clip_mask(a, sigma=5.0, maxiters=5):
    m = np.zeros(a.shape, bool)
    for _ in range(maxiters):
        k = a[~m]; new = m | (np.abs(a - np.median(k)) > sigma * k.std())
        if np.array_equal(new, m): break
        m = new
    return m


def organiser_calibrate(raw, cal, gain, offset, dt, nbin, cut=None, chunk_bins=12):
    "ADC -> mask hot/dead -> poly1d NL per pixel -> dark -> CDS -> bin (sum) -> flat, as in the organiser notebook."
    sl = (slice(None), slice(None), slice(*cut)) if cut else (slice(None),) * 3
    dark, dead, flat, lc = cal.dark[sl[1:]], cal.dead[sl[1:]], cal.flat[sl[1:]], cal.linear_corr[(slice(None),) + sl[1:]]
    hot = _sigma_clip_mask(cal.dark)[sl[1:]]
    lc = np.flip(lc, axis=0)
    per = 2 * nbin * chunk_bins; out = []
    for s in range(0, (len(raw) // (2 * nbin)) * 2 * nbin, per):
        sig = raw[s:s + per][sl].astype(np.float64); sig /= gain; sig += offset                 # ADC
        sig = np.ma.masked_where(np.broadcast_to(dead, sig.shape), sig)                           # dead
        sig = np.ma.masked_where(np.broadcast_to(hot, sig.shape), sig)                            # hot
        clean = np.zeros(sig.shape)                                                               # mask dropped, as there
        for x in range(sig.shape[2]):                                                             # non-linearity, per pixel
            for y in range(sig.shape[1]):
                clean[:, y, x] = np.poly1d(lc[:, y, x])(sig.data[:, y, x])
        d = np.ma.masked_where(dead, dark)
        clean -= d.filled(0)[None] * dt[s:s + len(clean), None, None]                             # dark
        cds = clean[1::2] - clean[0::2]                                                           # CDS
        nb = len(cds) // nbin
        binned = cds[: nb * nbin].reshape(nb, nbin, *cds.shape[1:]).sum(1)                        # time binning
        out.append(binned / np.ma.masked_where(dead, flat))                                       # flat
    return np.ma.concatenate(out)


# ----------------------------------------------------------------------------------------------------------------
def child(mode: str, data: Path, split: str, pid: int, repeats: int) -> dict:
    "One timed mode in this process; returns times (s) and peak RSS (MB)."
    from spectramind.data.load import read_signal
    from spectramind.calib.pipeline import calibrate_obs
    from spectramind.calib.dark import read_dt
    from spectramind.lightcurve.cache import lightcurves_from_obs, build_lightcurves
    from spectramind.lightcurve.fgs import cds_centroids, jitter_rms
    d = _planet_dir(data, split, pid); ts, cs = [], []
    if mode == "read":
        for _ in range(repeats):
            with _Timer(ts, cs): a = read_signal(d / "AIRS-CH0_signal_0.parquet", "AIRS-CH0"); f = read_signal(d / "FGS1_signal_0.parquet", "FGS1")
            del a, f
    elif mode == "total":
        obs = _load(data, split, pid); lightcurves_from_obs(obs); del obs                       # warm-up: numba cache/JIT
        for _ in range(repeats):
            with _Timer(ts, cs): obs = _load(data, split, pid); lc = lightcurves_from_obs(obs)
            del obs
    elif mode in ("fused", "extract"):
        obs = _load(data, split, pid); cubes = calibrate_obs(obs)
        for _ in range(repeats):
            if mode == "fused":
                with _Timer(ts, cs): cubes = calibrate_obs(obs, fast=True)
            else:
                with _Timer(ts, cs): build_lightcurves(pid, 0, cubes, obs.airs_wl_um, None, jitter_rms(cds_centroids(obs.fgs), 360))
    elif mode == "organiser":
        obs = _load(data, split, pid)
        for _ in range(max(1, repeats - 2)):
            with _Timer(ts, cs):
                ga, oa = obs.adc["AIRS-CH0"]; gf, of = obs.adc["FGS1"]
                a = organiser_calibrate(obs.airs, obs.airs_cal, ga, oa, read_dt("AIRS-CH0", len(obs.airs), obs.airs_int_s), 30, (39, 321))
                f = organiser_calibrate(obs.fgs, obs.fgs_cal, gf, of, read_dt("FGS1", len(obs.fgs)), 360)
        assert a.shape == (187, 32, 282) and f.shape == (187, 32, 32), (a.shape, f.shape)
    return {"mode": mode, "times_s": ts, "cpu_s": cs, "median_s": float(np.median(ts)), "median_cpu_s": float(np.median(cs)), "peak_rss_mb": _peak_mb()}


def equality_check(data: Path, split: str, pid: int, n_bins: int=8) -> dict:
    "Fused vs step chain on the first n_bins of the real-size planet (the chain needs ~10 GB on a whole one)."
    from spectramind.calib.pipeline import calibrate_chain, calibrate_fused
    obs = _load(data, split, pid); out = {}
    for inst, raw, cal, t, it, n in (("AIRS-CH0", obs.airs, obs.airs_cal, obs.airs_time_h, obs.airs_int_s, 30),
                                     ("FGS1", obs.fgs, obs.fgs_cal, obs.fgs_time_h, None, 360)):
        k = 2 * n * n_bins; sl = slice(0, k)
        a = calibrate_chain(raw[sl], inst, cal, obs.adc[inst], t[sl], None if it is None else it[sl])
        b = calibrate_fused(raw[sl], inst, cal, obs.adc[inst], t[sl], None if it is None else it[sl])
        out[inst] = {"max_abs_diff_over_sigma": float((np.abs(a.data - b.data) / np.sqrt(a.var)).max()),
                     "var_max_rel_diff": float(np.abs(b.var / a.var - 1).max()), "flags_equal": bool(np.array_equal(a.flags, b.flags))}
    return out


def reencode(data: Path, split: str, pid: int, codec: str, out: Path) -> Path:
    "Copy the metadata and one planet, with its signal files re-written in `codec` with dictionary encoding."
    import shutil, pyarrow as pa, pyarrow.parquet as pq
    out.mkdir(parents=True, exist_ok=True)
    for f in data.iterdir():
        if f.is_file(): shutil.copy(f, out / f.name)
    src, dst = _planet_dir(data, split, pid), _planet_dir(out, split, pid); dst.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        if f.is_dir(): shutil.copytree(f, dst / f.name)
        elif "_signal_" in f.name:
            t = pq.read_table(f); pq.write_table(t, dst / f.name, compression=codec, use_dictionary=True, row_group_size=t.num_rows)
        else: shutil.copy(f, dst / f.name)
    return out


def make_planet(root: Path, seed: int=7) -> int:
    "One full-size simulated planet (spectramind.sim) in the competition layout; returns its id."
    from spectramind.sim.dataset import write_dataset
    man = write_dataset(root, n_train=1, n_test=0, seed=seed, scale=1.0, progress=True)
    return int(next(iter(man["planets"]["train"])))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path); ap.add_argument("--planet", type=int); ap.add_argument("--split", default="train")
    ap.add_argument("--repeats", type=int, default=3); ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--child"); ap.add_argument("--skip-organiser", action="store_true")
    ap.add_argument("--reencode", help="re-write the planet's signal files with this codec (e.g. snappy) first")
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(a.child, a.data, a.split, a.planet, a.repeats))); return
    tmp = None
    if a.data is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench_calib_"); a.data = Path(tmp.name) / "data"
        t = time.perf_counter(); a.planet = make_planet(a.data); print(f"simulated planet {a.planet} in {time.perf_counter() - t:.1f} s")
    if a.planet is None:
        from spectramind.data.layout import scan_layout
        a.planet = scan_layout(a.data, splits=(a.split,)).planets[a.split][0]
    if a.reencode:
        tmp2 = tempfile.TemporaryDirectory(prefix="bench_calib_re_")
        a.data = reencode(a.data, a.split, a.planet, a.reencode, Path(tmp2.name) / "data"); print(f"signals re-encoded: {a.reencode} + dictionary")
    env = {**os.environ, "NUMBA_NUM_THREADS": str(a.threads), "OMP_NUM_THREADS": str(a.threads), "POLARS_MAX_THREADS": str(a.threads)}
    res = {}
    for mode in ["read", "total", "fused", "extract"] + ([] if a.skip_organiser else ["organiser"]):
        p = subprocess.run([sys.executable, __file__, "--child", mode, "--data", str(a.data), "--planet", str(a.planet),
                            "--split", a.split, "--repeats", str(a.repeats)], env=env, capture_output=True, text=True)
        if p.returncode: print(p.stderr[-3000:]); raise SystemExit(f"mode {mode} failed")
        res[mode] = json.loads(p.stdout.strip().splitlines()[-1])
    eq = equality_check(a.data, a.split, a.planet)
    load = os.getloadavg()[0]
    print(f"\nplanet {a.planet} ({a.split}), {a.threads} threads, {os.cpu_count()} cores visible, load average {load:.1f}, repeats {a.repeats}")
    print("wall = elapsed; CPU = user + system seconds of all threads (on a shared machine, CPU shows the work done)")
    print(f"{'mode':<44}{'median s':>10}{'min s':>9}{'CPU s':>9}{'peak RSS MB':>13}")
    names = {"read": "parquet read (AIRS + FGS1)", "total": "parquet -> light curves (production path)",
             "fused": "fused calibration, both instruments", "extract": "light-curve extraction + FGS1 jitter",
             "organiser": "organiser notebook re-implementation"}
    for k, r in res.items():
        print(f"{names[k]:<44}{r['median_s']:>10.3f}{min(r['times_s']):>9.3f}{r['median_cpu_s']:>9.3f}{r['peak_rss_mb']:>13.0f}")
    tot = res["total"]["median_s"]
    print(f"\ntarget: parquet -> light curves <= 1.5 s wall and <= 2048 MB: {tot:.3f} s, {res['total']['peak_rss_mb']:.0f} MB "
          f"-> {'MET' if tot <= 1.5 and res['total']['peak_rss_mb'] <= 2048 else 'NOT MET'} (load average {load:.1f})")
    if "organiser" in res:
        o, oc = res["organiser"]["median_s"], res["organiser"]["median_cpu_s"]
        print(f"organiser re-implementation / fused calibration = {o / res['fused']['median_s']:.1f}x wall, "
              f"{oc / res['fused']['median_cpu_s']:.1f}x CPU (target >= 10x)")
        print(f"(organiser calibration + parquet read) / production path = {(o + res['read']['median_s']) / tot:.1f}x wall")
    print("fused vs step chain on the first 8 bins:", json.dumps(eq))
    if tmp: tmp.cleanup()


if __name__ == "__main__":
    main()
