"""Read speed and peak memory of one full-size planet visit in the competition layout.

Writes (once per run, or reused with --keep) a planet folder with the real sizes: AIRS-CH0 11250 x 11392 and FGS1
135000 x 1024 uint16, one row group, columns column_0.., content shaped like real data (bias ~437 ADU, read noise,
a spectral trace / PSF with photon noise, start/end reads, a 1% transit), i.e. thousands of distinct values and not
uniform random (which would bloat parquet's dictionary encoding). Then it times, in this process and alternating
rep by rep, spectramind.data.load.read_signal against a pandas reference (`pd.read_parquet(p).to_numpy()` then
`reshape`, which copies the Fortran-ordered array into C order) and polars' own `to_numpy(order="c")`; and it
measures each method's peak resident memory above the post-import baseline in a fresh subprocess
(resource.getrusage ru_maxrss). Every method's array is checked bit-for-bit against the reader's.

    python benchmarks/bench_read.py [--work /tmp/spectramind_bench_read] [--reps 5] [--keep]
"""
from __future__ import annotations
import argparse, json, os, resource, shutil, subprocess, sys, time
from pathlib import Path
import numpy as np

PLANET, AIRS_N, FGS_N = 1010101, 11250, 135000


# ------------------------------------------------------------------------------------------- realistic content
def make_frames(n, shape, peak_adu, kind, rng, block=512):
    "n raw reads (even = start, odd = end) of a detector, uint16 ADU, with a 1% transit in the middle third."
    rows, cols = shape
    r, c = np.arange(rows)[:, None], np.arange(cols)[None, :]
    if kind == "airs":   # trace on rows ~15.5, flux rising with column, falling past column 300
        img = np.exp(-0.5 * ((r - 15.5) / 2.2) ** 2) * np.clip((c - 20) / 280, 0, 1) ** 1.5 * np.exp(-np.clip(c - 300, 0, None) / 25)
    else:                # PSF near the centre
        img = np.exp(-0.5 * (((r - 15.5) / 1.8) ** 2 + ((c - 15.5) / 1.8) ** 2))
    img = (peak_adu * img).astype(np.float32)
    bias = (437 + rng.normal(0, 3, shape)).astype(np.float32)          # ADU, fixed pattern
    out = np.empty((n, rows, cols), np.uint16)
    pairs = n // 2; t = np.linspace(-1, 1, pairs); dip = np.where(np.abs(t) < 1 / 3, 0.99, 1.0).astype(np.float32)
    for s in range(0, pairs, block):
        e = min(s + block, pairs); k = e - s
        flux = img[None] * dip[s:e, None, None]
        rd = rng.standard_normal((2, k, rows, cols), dtype=np.float32) * 5.7                       # read noise, ADU
        shot = rng.standard_normal((k, rows, cols), dtype=np.float32) * np.sqrt(flux * 0.4369 + 1)  # photon noise, ADU
        out[2 * s:2 * e:2] = np.clip(np.rint(bias + rd[0] + 0.02 * flux), 0, 65535)
        out[2 * s + 1:2 * e:2] = np.clip(np.rint(bias + rd[1] + flux + shot), 0, 65535)
    return out


def write_signal(path, cube):
    "One row group, columns column_0.., pyarrow defaults (dictionary encoding, snappy)."
    import pyarrow as pa, pyarrow.parquet as pq
    f = np.asfortranarray(cube.reshape(len(cube), -1))
    pq.write_table(pa.table([pa.array(f[:, j]) for j in range(f.shape[1])], names=[f"column_{j}" for j in range(f.shape[1])]), path,
                   row_group_size=len(f))


def build(work: Path) -> Path:
    "The competition folder with one train planet (cached: reused when complete)."
    from spectramind.core import asset_path, make_rng, signal_name, calib_dir_name
    from spectramind.data.layout import STAR_COLS
    root = work / "comp"; d = root / "train" / str(PLANET)
    if (work / "complete").exists(): return root
    d.mkdir(parents=True, exist_ok=True)
    for f in ("axis_info.parquet", "adc_info.csv", "wavelengths.csv"): shutil.copy(asset_path("adc2025", f), root)
    (root / "train_star_info.csv").write_text(",".join(STAR_COLS) + f"\n{PLANET},1.0,1.0,5500.0,1.0,0.0,3.0,10.0,89.0\n")
    sample = asset_path("adc2025", "train_342072318_truncated_sample")
    rng = make_rng(0, PLANET)
    for inst, n, shape, kind in (("AIRS-CH0", AIRS_N, (32, 356), "airs"), ("FGS1", FGS_N, (32, 32), "fgs")):
        t0 = time.perf_counter(); cube = make_frames(n, shape, 20000, kind, rng)
        write_signal(d / signal_name(inst, 0), cube)
        shutil.copytree(sample / calib_dir_name(inst, 0), d / calib_dir_name(inst, 0), dirs_exist_ok=True)
        sub = cube[::(n // 400) | 1]                                   # odd step: start and end reads
        print(f"wrote {inst}: {cube.shape} uint16, {len(np.unique(sub))} distinct values in {len(sub)} sampled frames, "
              f"{(d / signal_name(inst, 0)).stat().st_size / 2**20:.0f} MiB on disk ({cube.nbytes / 2**20:.0f} MiB raw), "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
        del cube
    (work / "complete").touch()
    return root


# ------------------------------------------------------------------------------------------- the methods
def methods(root: Path, chunk_mb: float):
    from spectramind.core import signal_name
    d = root / "train" / str(PLANET)
    pa_, pf = d / signal_name("AIRS-CH0", 0), d / signal_name("FGS1", 0)

    def sm(chunk=None):
        from spectramind.data.load import read_signal
        kw = {} if chunk is None else {"chunk_mb": chunk}
        return lambda: (read_signal(pa_, "AIRS-CH0", **kw), read_signal(pf, "FGS1", **kw))

    def ref_pandas():   # Fortran-ordered result: the reshape is a strided view, no C-order copy
        import pandas as pd
        return (pd.read_parquet(pa_).to_numpy().reshape(-1, 32, 356), pd.read_parquet(pf).to_numpy().reshape(-1, 32, 32))

    def ref_pandas_c():  # the same made C-ordered, as every caller needs for frame-wise work
        a, f = ref_pandas()
        return np.ascontiguousarray(a), np.ascontiguousarray(f)

    def ref_polars():
        import polars as pl
        return (pl.read_parquet(pa_).to_numpy(order="c").reshape(-1, 32, 356), pl.read_parquet(pf).to_numpy(order="c").reshape(-1, 32, 32))

    def observation():
        from spectramind.data.load import load_observation
        o = load_observation(root, PLANET)
        return o.airs, o.fgs

    return {"spectramind read_signal (default: one slice)": sm(),
            f"spectramind read_signal (chunk_mb={chunk_mb:g})": sm(chunk_mb),
            "spectramind load_observation (RawObs, default)": observation,
            "reference pandas read_parquet().to_numpy().reshape": ref_pandas,
            "  same + np.ascontiguousarray (C order)": ref_pandas_c,
            "polars read_parquet().to_numpy(order='c')": ref_polars}


def vm_kib(field: str) -> int:
    "A field of /proc/self/status in KiB (VmRSS, VmHWM = peak RSS of this process image)."
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith(field + ":"))


def child(work: Path, name: str, chunk_mb: float):
    "Run one method once in this fresh process; print its peak RSS above the post-import RSS."
    import pandas, polars, pyarrow.parquet  # noqa: F401  (imports count in the baseline, not in the read)
    import spectramind.data.load  # noqa: F401
    fn = methods(work / "comp", chunk_mb)[name]
    base = vm_kib("VmRSS")
    t0 = time.perf_counter(); a, f = fn(); dt = time.perf_counter() - t0
    print(json.dumps({"s": dt, "peak_mib": (vm_kib("VmHWM") - base) / 1024, "cube_mib": (a.nbytes + f.nbytes) / 2**20,
                      "ru_maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", default="/tmp/spectramind_bench_read", help="folder for the generated planet")
    ap.add_argument("--reps", type=int, default=5, help="timed reads per method (after one warm-up)")
    ap.add_argument("--chunk-mb", type=float, default=64.0, help="read_signal slice size of the low-memory variant, MiB")
    ap.add_argument("--keep", action="store_true", help="keep the generated files for the next run")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(); work = Path(a.work)
    if a.child: return child(work, a.child, a.chunk_mb)
    try:
        root = build(work)
        ms = methods(root, a.chunk_mb)
        ref_a, ref_f = ms[next(iter(ms))]()
        for name, fn in ms.items():                                   # correctness + warm-up
            x, y = fn()
            assert x.dtype == np.uint16 and np.array_equal(x, ref_a) and np.array_equal(y, ref_f), name
            print(f"ok {name}: AIRS {x.shape} C={x.flags.c_contiguous}, FGS1 {y.shape} C={y.flags.c_contiguous}", flush=True)
        del ref_a, ref_f, x, y
        times = {n: [] for n in ms}
        for _ in range(a.reps):                                       # alternate methods rep by rep
            for n, fn in ms.items():
                t0 = time.perf_counter(); out = fn(); times[n].append(time.perf_counter() - t0); del out
        mem = {}
        for n in ms:
            r = subprocess.run([sys.executable, __file__, "--work", str(work), "--chunk-mb", str(a.chunk_mb), "--child", n],
                               capture_output=True, text=True, check=True)
            mem[n] = json.loads(r.stdout.strip().splitlines()[-1])
        ref, ref_c = "reference pandas read_parquet().to_numpy().reshape", "  same + np.ascontiguousarray (C order)"
        t_ref, t_ref_c = float(np.median(times[ref])), float(np.median(times[ref_c]))
        cube = mem[ref]["cube_mib"]
        print(f"\nOne visit (AIRS + FGS1 = {cube:.0f} MiB uint16), median of {a.reps} reads in this process; "
              f"peak RSS (VmHWM) above the post-import RSS in a fresh process:")
        print(f"{'method':55s} {'median s':>9s} {'min s':>7s} {'vs pandas':>10s} {'vs pandas C':>12s} {'peak MiB':>9s} {'peak/cube':>9s}")
        for n in ms:
            t = float(np.median(times[n]))
            print(f"{n:55s} {t:9.2f} {min(times[n]):7.2f} {t / t_ref:9.2f}x {t / t_ref_c:11.2f}x {mem[n]['peak_mib']:9.0f} {mem[n]['peak_mib'] / cube:9.2f}")
        with open("/proc/loadavg") as fh: print(f"load average (1, 5, 15 min): {' '.join(fh.read().split()[:3])}; CPUs: {os.cpu_count()}")
    finally:
        if not a.keep: shutil.rmtree(work, ignore_errors=True); print(f"removed {work}")


if __name__ == "__main__":
    main()
