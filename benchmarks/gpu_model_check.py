"""GPU check of the SpectraMind model: training-step throughput and selective-scan parity.

    python benchmarks/gpu_model_check.py                 # CUDA: shipped model size, bf16 AMP vs fp32
    python benchmarks/gpu_model_check.py --dry-run       # CPU: tiny model, 2 timed steps, fp32 and bf16 autocast
    python benchmarks/gpu_model_check.py --out check.json

What it prints (and writes with --out, as JSON):
  * training steps/s and planets/s of the default ModelConfig (conf/model/default.yaml) at --batch planets per
    step, with AMP (bf16 autocast) and without it (fp32, the reference run in the same process), and their ratio;
    peak GPU memory of each;
  * forward+backward time of one Mamba layer's scan per backend available on the device (pscan, chunked, ref at
    short length, and mamba-ssm's fused kernel when importable), relative to pscan;
  * parity of every available backend against the sequential reference scan (max |dy| and max |dgrad|), including the
    mamba-ssm fused kernel when `mamba_ssm` imports (it is never required);
  * parity of the shipped weights' predictions (spectramind/weights, what `predict` uses) on the device against the
    same weights on the CPU, on synthetic planets: max |d mu| / sigma and max relative |d sigma|.
"""
from __future__ import annotations
import argparse, json, math, sys, time
import numpy as np
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import torch

from spectramind.models import mamba as M
from spectramind.models.factory import ModelConfig, build_model, collate, synthetic_items, tiny_config
from spectramind.models.blocks import count_parameters
from spectramind.learn.losses import supervised_loss, symbolic_context


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda": torch.cuda.synchronize()


def train_throughput(cfg: ModelConfig, batch: dict, dev: torch.device, amp: bool, steps: int, warmup: int) -> dict:
    "Median-free mean time of `steps` optimizer steps after `warmup` untimed ones."
    model = build_model(cfg, seed=0).to(dev).train()
    ctx = symbolic_context(model.cfg.molecules, model.cfg.graph.seams).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    b = {k: v.to(dev) for k, v in batch.items()}
    if dev.type == "cuda": torch.cuda.reset_peak_memory_stats(dev)

    def step():
        with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=amp):
            loss, _ = supervised_loss(model(b), b, ctx)
        loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
        return float(loss.detach())

    for _ in range(warmup): step()
    _sync(dev); t0 = time.perf_counter()
    losses = [step() for _ in range(steps)]
    _sync(dev); dt = (time.perf_counter() - t0) / steps
    n = b["fgs"].shape[0]
    return dict(amp=amp, step_s=dt, steps_per_s=1 / dt, planets_per_s=n / dt, finite=all(math.isfinite(l) for l in losses),
                peak_mem_gib=(torch.cuda.max_memory_allocated(dev) / 2**30) if dev.type == "cuda" else None,
                params=count_parameters(model))


def scan_inputs(b: int, l: int, e: int, n: int, dev: torch.device, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, l, e, generator=g)
    delta = torch.exp(torch.empty(b, l, e).uniform_(math.log(1e-3), math.log(0.5), generator=g))
    A = -torch.exp(torch.empty(e, n).uniform_(0.0, math.log(4.0), generator=g))
    B, C, D = torch.randn(b, l, n, generator=g), torch.randn(b, l, n, generator=g), torch.randn(e, generator=g)
    return [t.to(dev).requires_grad_() for t in (x, delta, A, B, C, D)]


def backends(dev: torch.device) -> list:
    out = ["chunked"]
    if M._mambapy_pscan is not None: out.insert(0, "pscan")
    if dev.type == "cuda" and M._mamba_ssm_scan is not None: out.append("cuda")
    return out


def scan_parity(dev: torch.device, b: int, l: int, e: int, n: int) -> dict:
    "Max |dy| and max |dgrad| of each backend against the sequential reference (float32)."
    ins = scan_inputs(b, l, e, n, dev)
    gy = torch.randn(b, l, e, generator=torch.Generator().manual_seed(1)).to(dev)
    y0 = M.scan_ref(*ins); g0 = torch.autograd.grad(y0, ins, gy)
    res = {}
    for m in backends(dev):
        y1 = M.selective_scan(*ins, mode=m, chunk=16); g1 = torch.autograd.grad(y1, ins, gy)
        res[m] = dict(max_abs_dy=float((y1 - y0).abs().max()), max_abs_dgrad=max(float((a - c).abs().max()) for a, c in zip(g1, g0)),
                      y_scale=float(y0.abs().max()), ok=bool(torch.allclose(y1, y0, rtol=1e-3, atol=1e-3)
                                                              and all(torch.allclose(a, c, rtol=1e-2, atol=1e-2) for a, c in zip(g1, g0))))
    return res


def scan_timing(dev: torch.device, b: int, l: int, e: int, n: int, reps: int) -> dict:
    "Seconds per forward+backward of the scan per backend, and the ratio to pscan (or chunked)."
    ins = scan_inputs(b, l, e, n, dev)
    res = {}
    for m in backends(dev):
        for _ in range(2): M.selective_scan(*ins, mode=m).sum().backward()
        _sync(dev); t0 = time.perf_counter()
        for _ in range(reps): M.selective_scan(*ins, mode=m).sum().backward()
        _sync(dev); res[m] = (time.perf_counter() - t0) / reps
    ref = res.get("pscan", res["chunked"])
    return {m: dict(seconds=s, ratio_to_ref=s / ref) for m, s in res.items()}


def shipped_parity(dev: torch.device, n: int = 16, tol: float = 1e-3) -> dict:
    "The shipped weights on `dev` against the same weights on the CPU (fresh copies, eval mode), synthetic planets."
    from spectramind.models.factory import load_model, predict_spectrum
    cpu = load_model()
    if cpu is None: return dict(ok=True, skipped="no shipped weights")
    batch = collate(synthetic_items(n, seed=3, cfg=cpu.cfg.features))
    with torch.no_grad():
        a = predict_spectrum(cpu, batch); b = predict_spectrum(load_model().to(dev), batch)
    dmu = float(np.max(np.abs(a["mu"] - b["mu"]) / a["sigma"])); dsg = float(np.max(np.abs(a["sigma"] / b["sigma"] - 1)))
    return dict(ok=bool(dmu < tol and dsg < tol), max_dmu_over_sigma=dmu, max_rel_dsigma=dsg, planets=n, device=str(dev))


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dry-run", action="store_true", help="CPU, tiny model, few steps: checks the script end to end")
    ap.add_argument("--batch", type=int, default=32, help="planets per training step")
    ap.add_argument("--steps", type=int, default=20, help="timed optimizer steps")
    ap.add_argument("--warmup", type=int, default=3, help="untimed optimizer steps first")
    ap.add_argument("--out", type=str, default=None, help="write the results as JSON here")
    a = ap.parse_args(argv)
    dev = torch.device("cpu") if a.dry_run or not torch.cuda.is_available() else torch.device("cuda")
    if a.dry_run: a.batch, a.steps, a.warmup = 2, 2, 1
    cfg = tiny_config() if a.dry_run else ModelConfig()
    items = synthetic_items(a.batch, seed=0, cfg=cfg.features, n_time=240 if a.dry_run else 1200)
    batch = collate(items)
    res = dict(device=torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu", torch=torch.__version__,
               dry_run=a.dry_run, batch=a.batch, t_fgs=cfg.features.t_fgs, mamba_ssm_importable=M._mamba_ssm_scan is not None,
               mambapy_importable=M._mambapy_pscan is not None, scan_auto=M.resolve_scan_mode("auto", dev))
    fp32 = train_throughput(cfg, batch, dev, amp=False, steps=a.steps, warmup=a.warmup)
    res["train_fp32"] = fp32
    if dev.type == "cuda" or a.dry_run:   # the dry run exercises the bf16 path with CPU autocast
        bf16 = train_throughput(cfg, batch, dev, amp=True, steps=a.steps, warmup=a.warmup)
        res["train_amp_bf16"] = bf16
        res["amp_speedup_vs_fp32"] = bf16["steps_per_s"] / fp32["steps_per_s"]
    e = 2 * cfg.d_model
    sb, sl = (2, 24) if a.dry_run else (8, 128)
    res["scan_parity"] = scan_parity(dev, sb, sl, 8 if a.dry_run else e, cfg.mamba.d_state)
    res["scan_timing_fwd_bwd"] = scan_timing(dev, a.batch, cfg.features.t_fgs, e, cfg.mamba.d_state, 2 if a.dry_run else 10)
    res["shipped_parity"] = shipped_parity(dev, 4 if a.dry_run else 16)
    print(json.dumps(res, indent=1))
    ok = fp32["finite"] and all(v["ok"] for v in res["scan_parity"].values()) and res["shipped_parity"]["ok"]
    print("OK" if ok else "FAILED: non-finite loss, a scan backend disagrees with the reference, or the shipped weights disagree across devices")
    if a.out: Path(a.out).write_text(json.dumps(res, indent=1))
    return res


if __name__ == "__main__":
    r = main()
    sys.exit(0 if r["train_fp32"]["finite"] and all(v["ok"] for v in r["scan_parity"].values()) and r["shipped_parity"]["ok"] else 1)
