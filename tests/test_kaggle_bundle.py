"""The Kaggle flow offline: build the code dataset, install it into a fresh virtual environment with no index,
run the inference notebook with papermill against a small simulated dataset laid out like /kaggle/input,
and validate the submission."""
import json, os, subprocess, sys, venv
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT / "kaggle" / "infer" / "spectramind-infer.ipynb"


def _run(cmd, cwd, **kw):
    "Run outside the repository, so the source tree is not importable by accident."
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=cwd, **kw)
    assert r.returncode == 0, f"{' '.join(map(str, cmd))}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


def test_offline_bundle_runs_inference_notebook(tmp_path):
    from spectramind.kaggle import build_code_dataset
    from spectramind.sim.dataset import write_dataset
    from spectramind.infer.submit import validate_submission
    kin = tmp_path / "kaggle" / "input"
    code = kin / "spectramind-code"
    info = build_code_dataset(code, progress=False)
    assert any(w.startswith("spectramind-") for w in info["wheels"]) and (code / "dataset-metadata.json").exists()
    # a fresh environment that can only reach the local wheels
    env_dir = tmp_path / "fresh"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    kw = tmp_path / "kernel_wheels"
    _run([sys.executable, "-m", "pip", "wheel", "-q", "-w", kw, "ipykernel"], tmp_path)   # the notebook kernel itself
    _run([py, "-m", "pip", "install", "-q", "--no-index", "--find-links", kw, "ipykernel"], tmp_path)
    _run([py, "-m", "ipykernel", "install", "--prefix", env_dir, "--name", "sm-fresh"], tmp_path)
    r = subprocess.run([py, "-c", "import spectramind"], capture_output=True, cwd=tmp_path)
    assert r.returncode != 0, "the fresh environment must not see the development install"
    # competition data laid out as /kaggle/input/<competition>
    data = kin / "ariel-data-challenge-2025"
    write_dataset(data, n_train=0, n_test=2, seed=5, scale=0.06, progress=False, solution_path=tmp_path / "sol.csv")
    out = tmp_path / "kaggle" / "working"
    env = dict(os.environ, JUPYTER_PATH=str(env_dir / "share" / "jupyter"), PIP_NO_INDEX="1",
               PIP_FIND_LINKS=str(code), SPECTRAMIND_TELEMETRY_DIR=str(out))
    env.pop("PYTHONPATH", None)
    _run([sys.executable, "-m", "papermill", NB, tmp_path / "out.ipynb", "-k", "sm-fresh", "--no-progress-bar",
          "-p", "data_dir", data, "-p", "code_dir", code, "-p", "weights_dir", kin / "spectramind-weights",
          "-p", "out_dir", out, "-p", "workers", 1, "-y", "overrides: ['calib.binning.airs=2', 'calib.binning.fgs=24']"],
         tmp_path, env=env)
    rep = validate_submission(out / "submission.csv")
    assert rep.ok, str(rep)
    assert rep.n_planets == 2 and (out / "submission_manifest.json").exists()
    nb = json.loads((tmp_path / "out.ipynb").read_text())
    text = "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))
    assert str(env_dir) in text, "spectramind must be imported from the fresh environment"
