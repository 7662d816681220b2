"""The README's main job in miniature: simulate, fit the train split (prior, sigma calibration, model gate),
predict the test split with and without the model, score."""
import json

import numpy as np
import pandas as pd

from spectramind.infer.demo import run_demo
from spectramind.infer.predict import load_artifacts, model_gate
from spectramind.core import SUBMISSION_COLS


def test_small_demo_end_to_end(tmp_path):
    s = run_demo(tmp_path / "demo", n_train=8, n_test=2, seed=5, scale=0.05, workers=1, progress=False)
    art = tmp_path / "demo" / "artifacts"
    rep = json.loads((art / "oof_report.json").read_text())
    assert rep["n_fitted"] == 8 and not rep["failures"]
    assert rep["fit_priors"].startswith("not learned") and not (art / "fit_priors.json").exists()   # 8 visits < 10
    # the model gate: a paired comparison on the 8 train planets, and predict follows it
    g = json.loads((art / "model_gate.json").read_text())
    assert g["n_planets"] == 8 and len(g["weights_sha256"]) == 64 and g["se_diff"] > 0
    assert g["use_model"] == (not g["mean_diff"] + 2 * g["se_diff"] < 0)
    assert abs(g["mean_diff"] - (g["model_score"] - g["chain_score"])) < 1e-9
    assert model_gate(art) == g and (load_artifacts(art, model=True).model is not None) == g["use_model"]
    assert g["temperature"] is None and not (art / "model_temperature.json").exists()   # 8 planets < 10: no model temperature
    # a valid submission with every test planet, and scores for each variant that ran
    sub = pd.read_csv(tmp_path / "demo" / "submission.csv")
    assert list(sub.columns) == SUBMISSION_COLS and len(sub) == 2
    v = sub.to_numpy(float)[:, 1:]; assert np.isfinite(v).all() and (v[:, 283:] > 0).all() and (v[:, :283] >= 0).all()
    summary = json.loads((tmp_path / "demo" / "demo_summary.json").read_text())
    assert summary == json.loads(json.dumps(s, default=str))
    assert {"physics", "calibrated"} <= set(summary["test"]) and ("model" in summary["test"]) == g["use_model"]
    assert all(0 <= r["score"] <= 1 for r in summary["test"].values())
