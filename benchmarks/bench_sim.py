"""Simulator speed and memory benchmark: one full-size planet visit (AIRS-CH0 11 250 + FGS1 135 000 reads) to parquet.

Prints, on this machine:
  * raw mode: spectramind.sim.dataset.simulate_visit (scene, per-read detector physics) and write_visit (parquet,
    zstd) of one full-size visit: wall seconds of each, CPU seconds, peak RSS, file sizes;
  * reference: writing the same number of uint16 values (random, same shapes) with the same writer, i.e. the I/O
    floor the simulation sits on top of;
  * light-curve mode: spectramind.sim.lightcurve.lightcurve_set, milliseconds per planet (all visits);
  * the ratio raw total / reference write.
Each mode runs in its own subprocess (its own peak RSS); numba kernels are loaded (or compiled) by an untimed
warm-up. Outputs go to a temporary folder that is deleted at the end.

    python benchmarks/bench_sim.py [--seed 7] [--lc-planets 20] [--compression zstd]
"""
from __future__ import annotations
import argparse, json, resource, shutil, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _size_mb(p: Path) -> float:
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) / 2**20


def raw_mode(out: Path, seed: int, compression: str) -> dict:
    from spectramind.core import make_rng
    from spectramind.sim.astro import draw_planet
    from spectramind.sim.dataset import simulate_visit, write_visit
    warm = draw_planet(make_rng(seed, 1), 1, p_two_visits=0.0)
    simulate_visit(warm, 0, make_rng(seed, 1, 0), scale=0.002)                     # untimed: load numba kernels
    base = _peak_mb()
    t = draw_planet(make_rng(seed, 2), 2, p_two_visits=0.0)
    w0, c0 = time.perf_counter(), time.process_time()
    sim = simulate_visit(t, 0, make_rng(seed, 2, 0), scale=1.0)
    w1, c1 = time.perf_counter(), time.process_time()
    write_visit(out / "2", 0, sim, compression)
    w2, c2 = time.perf_counter(), time.process_time()
    return dict(mode="raw", airs_reads=len(sim["AIRS-CH0"]), fgs_reads=len(sim["FGS1"]), simulate_s=w1 - w0, write_s=w2 - w1,
                total_s=w2 - w0, cpu_s=c2 - c0, peak_rss_mb=_peak_mb(), rss_before_mb=base, files_mb=_size_mb(out / "2"))


def reference_mode(out: Path, seed: int, compression: str) -> dict:
    from spectramind.sim.dataset import write_signal
    rng = np.random.default_rng(seed)
    a = rng.integers(400, 30000, (11250, 32, 356), dtype=np.uint16); f = rng.integers(400, 30000, (135000, 32, 32), dtype=np.uint16)
    w0 = time.perf_counter()
    write_signal(out / "a.parquet", a, compression); write_signal(out / "f.parquet", f, compression)
    return dict(mode="reference", write_s=time.perf_counter() - w0, peak_rss_mb=_peak_mb(), files_mb=_size_mb(out))


def lightcurve_mode(out: Path, seed: int, n: int) -> dict:
    from spectramind.sim.lightcurve import lightcurve_set
    lightcurve_set(2, seed=seed + 1, progress=False)                                  # untimed warm-up
    w0, c0 = time.perf_counter(), time.process_time()
    lcs, truths = lightcurve_set(n, seed=seed, progress=False)
    w, c = time.perf_counter() - w0, time.process_time() - c0
    return dict(mode="lightcurve", planets=n, visits=len(lcs), ms_per_planet=1e3 * w / n, cpu_ms_per_planet=1e3 * c / n,
                peak_rss_mb=_peak_mb())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=7); ap.add_argument("--lc-planets", type=int, default=20)
    ap.add_argument("--compression", default="zstd"); ap.add_argument("--child"); ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    if a.child:
        fn = {"raw": lambda: raw_mode(a.out, a.seed, a.compression), "reference": lambda: reference_mode(a.out, a.seed, a.compression),
              "lightcurve": lambda: lightcurve_mode(a.out, a.seed, a.lc_planets)}[a.child]
        print(json.dumps(fn())); return
    tmp = Path(tempfile.mkdtemp(prefix="bench_sim_"))
    res = {}
    try:
        for mode in ("raw", "reference", "lightcurve"):
            d = tmp / mode; d.mkdir()
            r = subprocess.run([sys.executable, __file__, "--child", mode, "--out", str(d), "--seed", str(a.seed),
                                "--lc-planets", str(a.lc_planets), "--compression", a.compression], capture_output=True, text=True)
            if r.returncode: print(r.stderr); raise SystemExit(f"{mode} failed")
            res[mode] = json.loads(r.stdout.strip().splitlines()[-1]); print(json.dumps(res[mode]))
            shutil.rmtree(d, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    r, f, l = res["raw"], res["reference"], res["lightcurve"]
    print(f"\nraw, one full-size visit ({r['airs_reads']} AIRS + {r['fgs_reads']} FGS1 reads): simulate {r['simulate_s']:.1f} s + "
          f"write {r['write_s']:.1f} s = {r['total_s']:.1f} s wall ({r['cpu_s']:.1f} s CPU), peak RSS {r['peak_rss_mb']:.0f} MB "
          f"(before: {r['rss_before_mb']:.0f} MB), files {r['files_mb']:.0f} MB ({a.compression})")
    print(f"reference write of the same uint16 volume: {f['write_s']:.1f} s, {f['files_mb']:.0f} MB; raw total / reference = {r['total_s'] / f['write_s']:.1f}")
    print(f"light-curve mode: {l['ms_per_planet']:.0f} ms per planet wall ({l['cpu_ms_per_planet']:.0f} ms CPU), {l['visits']} visits of {l['planets']} planets")


if __name__ == "__main__":
    main()
