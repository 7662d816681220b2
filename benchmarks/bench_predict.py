#!/usr/bin/env python
"""End-to-end prediction speed on full-size planets (the Kaggle wall-time budget).

Simulates full-size test planets (AIRS 11250 + FGS1 135000 frames per visit; one planet forced to have two
visits), then times `predict_dataset` from the raw parquet files to submission.csv with a cold light-curve cache:
reading, calibration, extraction, physics fit and writing. Prints seconds per planet-visit, the projected wall
time for 1,100 planets with 10% second visits on this machine, and the same for Kaggle's 4 cores (assuming
linear scaling with workers), against the 1 h target on 2 cores and the 9 h Kaggle wall.

    python benchmarks/bench_predict.py --n 4 --workers 2
"""
from __future__ import annotations
import argparse, json, resource, shutil, tempfile, time
from pathlib import Path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--n", type=int, default=4, help="test planets (one of them with two visits)")
    ap.add_argument("--workers", type=int, default=2); ap.add_argument("--seed", type=int, default=4242)
    ap.add_argument("--work", default=None, help="working folder (default: a temporary one, deleted)")
    ap.add_argument("--fast", action="store_true", help="time the --fast-kaggle settings")
    a = ap.parse_args(argv)
    from spectramind.sim.dataset import write_dataset
    from spectramind.infer.predict import predict_dataset
    work = Path(a.work or tempfile.mkdtemp(prefix="bench_predict_"))
    try:
        t0 = time.perf_counter()
        write_dataset(work / "data", n_train=0, n_test=a.n, seed=a.seed, scale=1.0, progress=True,
                      planet_kw={"p_two_visits": 1.0 / a.n})
        t_sim = time.perf_counter() - t0
        visits = sum(len(list(p.glob("AIRS-CH0_signal_*.parquet"))) for p in (work / "data" / "test").iterdir())
        shutil.rmtree(work / "lc", ignore_errors=True)
        s = predict_dataset(work / "data", work / "submission.csv", workers=a.workers, cache_dir=work / "lc",
                            fast=a.fast, resume=False, progress=True)
        per_visit = s["wall_s"] / visits
        n_visits_1100 = 1100 * 1.1
        proj_here = per_visit * n_visits_1100 / 3600
        proj_kaggle = proj_here * a.workers / 4
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        out = dict(planets=a.n, visits=visits, workers=a.workers, fast=a.fast, simulate_s=round(t_sim, 1),
                   predict_wall_s=s["wall_s"], s_per_visit=round(per_visit, 2),
                   projected_h_1100_planets_here=round(proj_here, 2), projected_h_kaggle_4_cores=round(proj_kaggle, 2),
                   peak_worker_rss_mb=round(peak), ok=s["ok"], fallback=s["fallback"], failed=s["failed"])
        print(json.dumps(out, indent=1))
        print(f"\n{per_visit:.2f} s per planet-visit on {a.workers} workers (wall, cold cache) -> "
              f"{proj_here:.2f} h for 1,100 planets x 1.1 visits here (target <= 1 h), ~{proj_kaggle:.2f} h on Kaggle's 4 cores (wall 9 h)")
    finally:
        if not a.work: shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
