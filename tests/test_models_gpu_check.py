"""benchmarks/gpu_model_check.py runs end to end in --dry-run mode (CPU, tiny model, fp32 and bf16 autocast)."""
import json, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_gpu_model_check_dry_run(tmp_path):
    out = tmp_path / "check.json"
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_model_check.py"), "--dry-run", "--out", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    d = json.loads(out.read_text())
    assert d["dry_run"] and d["train_fp32"]["finite"] and all(v["ok"] for v in d["scan_parity"].values())
    sp = d["shipped_parity"]   # the shipped weights against themselves on the CPU: identical
    assert sp["ok"] and sp["max_dmu_over_sigma"] == 0.0 and sp["max_rel_dsigma"] == 0.0, sp
