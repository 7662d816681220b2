"""Model benchmark on held-out simulated planets: physics-only vs the shipped model vs the same model trained the other
way (with / without the symbolic loss), each with and without the rule projection.

    python benchmarks/bench_model.py [--n-test 120] [--weights spectramind/weights/spectramind_model.pt]

Held-out planets come from the simulator's light-curve mode with seed SPLIT_SEEDS['test'] (spectramind.learn.data),
which neither training nor any choice made during training used (those use the train and validation seeds).
Each model's held-out planets are fitted with the fit priors stored with its weights (meta['fit_priors']: learned
from train planets' fits, as `spectramind fit` learns them), the physics row with the shipped weights' ones.
The comparison model (same size, data, seed, epochs and input prior, trained the other way: with the configured
hinged symbolic loss when the shipped model has none, else without) is trained once by
benchmarks/train_shipped_model.py into runs/bench_model/compare.pt when missing (--compare-weights).

Prints, per planet with visits averaged:
  * the competition score (and its FGS1 / AIRS parts) of physics-only, of the model's input estimate when the model
    refines a prior posterior (the input prior stored with the weights), and of both models with and without the
    rule projection (learn.audit.project_to_rules, as predict applies it); paired per-planet differences;
  * rule violations per planet of each (spectramind.learn.audit.audit_planets with the default tolerances, the
    99th percentiles of simulated true spectra: learn.losses.RULE_TOLERANCES);
  * training time at the shipped size, as recorded in each weights file's metadata;
  * the validation comparison stored with the weights (what load_refiner decides on).
"""
from __future__ import annotations
import argparse, sys, time
from pathlib import Path
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_shipped_model import planet_scores, shipped_model_config, train_shipped   # noqa: E402


def violations(mu: np.ndarray, ids: np.ndarray) -> dict:
    "Mean violated rules per planet and planets violating each rule."
    import torch
    from spectramind.learn.audit import audit_planets
    from spectramind.learn.losses import LossConfig, SYMBOLIC_TERMS, symbolic_context
    recs, _ = audit_planets(ids, torch.as_tensor(mu), symbolic_context(), LossConfig())
    return dict(per_planet=float(np.mean([r["n_violated"] for r in recs])),
                rules={k: int(sum(r["rules"][k]["violated"] for r in recs)) for k in SYMBOLIC_TERMS})


def symbolic_weight(meta: dict) -> float:
    "Sum of the symbolic loss weights a model was trained with (0: no symbolic loss)."
    from spectramind.learn.losses import SYMBOLIC_TERMS
    return float(sum(meta["train_config"]["loss"][t] for t in SYMBOLIC_TERMS))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-test", type=int, default=120)
    ap.add_argument("--weights", default=str(ROOT / "spectramind/weights/spectramind_model.pt"))
    ap.add_argument("--compare-weights", default=str(ROOT / "runs/bench_model/compare.pt"),
                    help="the same model trained the other way (with the configured symbolic loss if the shipped one has "
                         "none, else without); trained here when missing")
    ap.add_argument("--cache-dir", default=str(ROOT / "runs/sim_cache")); ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    import torch
    from spectramind.learn.data import SPLIT_SEEDS, simulate_items, prior_fingerprint
    from spectramind.learn.refine import read_meta, record_prior
    from spectramind.models.factory import load_model
    from spectramind.infer.train import planet_scores as per_planet
    from spectramind.core import NAIVE_MEAN, NAIVE_SIGMA
    from spectramind.transit.fit import fit_prior_overrides
    torch.set_num_threads(a.threads)
    meta = read_meta(a.weights); ipr = meta.get("input_prior")
    if not Path(a.compare_weights).is_file():
        with_loss = symbolic_weight(meta) == 0
        print(f"training the comparison model ({'with' if with_loss else 'without'} symbolic loss) -> {a.compare_weights}")
        train_shipped(meta["n_train_planets"], meta["n_val_planets"], meta["train_config"]["epochs"], meta["seeds"]["train"],
                      symbolic=with_loss, out=a.compare_weights, workers=a.workers, threads=a.threads, cache_dir=a.cache_dir,
                      command="benchmarks/bench_model.py (comparison model)", input_prior=ipr["kind"] if ipr else "none",
                      input_prior_scale=ipr["scale"] if ipr else 1.0, n_prior=ipr.get("n", 2000) if ipr else 2000,
                      lr=meta["train_config"]["lr"], symbolic_scale=1.0, mae_epochs=meta.get("mae_epochs", 0),
                      fit_priors=150 if meta.get("fit_priors") else 0)
    meta0 = read_meta(a.compare_weights)
    cfg = shipped_model_config().features
    t0 = time.time()

    def test_items(rec, fp=None):   # held-out items carrying the estimate a model refines (physics fit, or its posterior),
        ip = record_prior(rec); tag = "" if ip is None else f"_{prior_fingerprint(ip)['sha256']}"   # fitted with the
        ov = fit_prior_overrides(fp) or None   # the fit priors its weights were trained with
        tag += "" if ov is None else "_lp" + "_".join(f"{x:.4g}" for v in ov.values() for x in np.atleast_1d(v))
        return simulate_items(a.n_test, SPLIT_SEEDS["test"], a.workers, cache=Path(a.cache_dir) / f"test_{a.n_test}{tag}.npz",
                              cfg=cfg, input_prior=ip, fit_overrides=ov)
    phys = planet_scores(None, test_items(None, meta.get("fit_priors")))
    test, test0 = test_items(ipr, meta.get("fit_priors")), test_items(meta0.get("input_prior"), meta0.get("fit_priors"))
    print(f"held-out test: {a.n_test} planets ({len(test)} visits), simulator seed {SPLIT_SEEDS['test']} ({time.time() - t0:.0f} s)")
    m1, m0 = load_model(a.weights), load_model(a.compare_weights)
    res = {("shipped", True): planet_scores(m1, test), ("shipped", False): planet_scores(m1, test, rules=False),
           ("compare", True): planet_scores(m0, test0), ("compare", False): planet_scores(m0, test0, rules=False)}
    loss_name = lambda m: "hinged symbolic loss" if symbolic_weight(m) > 0 else "no symbolic loss"
    rows = [("physics only", phys["physics"], None)]
    if ipr: rows.append((f"{ipr['kind']} prior x{ipr['scale']:g} posterior (the model's input)", res["shipped", True]["physics"], None))
    rows += [(f"**shipped** ({loss_name(meta)}) + rule projection", res["shipped", True]["model"], meta),
             (f"shipped ({loss_name(meta)}), projection off", res["shipped", False]["model"], meta),
             (f"comparison ({loss_name(meta0)}) + rule projection", res["compare", True]["model"], meta0),
             (f"comparison ({loss_name(meta0)}), projection off", res["compare", False]["model"], meta0)]
    print("\n| predictor | score | FGS1 part | AIRS part | violations / planet | train s |")
    print("|---|---:|---:|---:|---:|---:|")
    viol = {}
    for name, r, m in rows:
        v = violations(r["mu"], res["shipped", True]["ids"]); viol[name] = v
        ts = f"{m['train_seconds']:.0f} ({m['epochs_run']} epochs)" if m else "-"
        print(f"| {name} | {r['score']['score']:.4f} | {r['score']['fgs']:.4f} | {r['score']['airs']:.4f} | {v['per_planet']:.2f} | {ts} |")
    y = res["shipped", True]["y"]; viol["truth (labels)"] = violations(y, res["shipped", True]["ids"])
    print(f"| truth (labels), for reference | - | - | - | {viol['truth (labels)']['per_planet']:.2f} | - |")
    print("\nplanets violating each rule:")
    for name, v in viol.items(): print(f"  {name:50s} {v['rules']}")
    pp = lambda r: per_planet(y, r["mu"], r["sigma"], NAIVE_MEAN, NAIVE_SIGMA)
    def paired(x, z, what):
        d = pp(x) - pp(z); print(f"{what}: {d.mean():+.4f} +- {d.std(ddof=1) / np.sqrt(len(d)):.4f} (paired per planet, 1 se)")
    print()
    paired(res["shipped", True]["model"], res["shipped", False]["model"], "rule projection, shipped model (on - off)")
    paired(res["compare", True]["model"], res["compare", False]["model"], "rule projection, comparison model (on - off)")
    paired(res["shipped", True]["model"], res["compare", True]["model"], "shipped - comparison, both with projection")
    lam = res["shipped", True]["model"]["lam"]
    s_, p_ = res["shipped", True]["model"]["score"]["score"], phys["physics"]["score"]["score"]
    inp = f"; model - its input: {s_ - rows[1][1]['score']['score']:+.4f}" if ipr else ""
    print(f"model - physics: {s_ - p_:+.4f} (target >= +0.03){inp}; the projection moved {int((lam < 1).sum())} of {len(lam)} planets")
    print(f"shipped model: {meta['params']:,} parameters, {meta['n_train_planets']} train / {meta['n_val_planets']} validation planets, "
          f"{meta['seconds_per_epoch']:.1f} s per epoch, {Path(a.weights).stat().st_size / 2**20:.2f} MB")
    print(f"validation record (used by load_refiner): {meta['validation']}")
    print(f"comparison validation record: {meta0['validation']}")
    if ipr: print(f"input prior: {ipr['kind']} x{ipr['scale']:g}, fitted on {ipr.get('n')} simulated spectra (seed {ipr.get('seed')})")


if __name__ == "__main__":
    main()
