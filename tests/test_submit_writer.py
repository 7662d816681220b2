"""Submission writer, sanitiser, validator, streaming writer (kill + resume) and manifest."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest

from spectramind.core import N_WL, WL_COLS, SIGMA_COLS, SUBMISSION_COLS, Flag, asset_path
from spectramind.contracts import SpectrumPred
from spectramind.metric import score, ParticipantVisibleError
from spectramind.infer.submit import (SubmissionError, SubmissionWriter, write_submission, sanitize, check_prediction,
                                      validate_submission, write_manifest, format_row, HEADER, config_hash)


def preds(n=6, seed=0):
    rng = np.random.default_rng(seed)
    return SpectrumPred(np.arange(n, dtype=np.int64) * 97 + 1000, rng.uniform(0.005, 0.04, (n, N_WL)),
                        rng.uniform(1e-5, 5e-4, (n, N_WL)))


# ---------------------------------------------------------------- the writer refuses bad values
@pytest.mark.parametrize("field,value,match", [("mu", np.nan, r"mu value\(s\) is NaN"), ("mu", np.inf, r"mu value\(s\) is NaN or infinite"),
                                               ("mu", -1e-8, "negative"), ("sigma", 0.0, "not positive"),
                                               ("sigma", -1e-4, "not positive"), ("sigma", np.nan, r"sigma value\(s\) is NaN")])
def test_writer_refuses(tmp_path, field, value, match):
    p = preds(); a = getattr(p, field).copy(); a[2, 10] = value
    bad = SpectrumPred(p.planet_id, a if field == "mu" else p.mu, a if field == "sigma" else p.sigma)
    col = ("wl_11" if field == "mu" else "sigma_11")
    with pytest.raises(SubmissionError, match=match) as e: write_submission(bad, tmp_path / "s.csv")
    assert f"planet {p.planet_id[2]}, column {col}" in str(e.value)
    assert not (tmp_path / "s.csv").exists() and not list(tmp_path.iterdir())
    with SubmissionWriter(tmp_path / "stream.csv") as w:
        with pytest.raises(SubmissionError, match=col): w.write(p.planet_id[2], bad.mu[2], bad.sigma[2])
    assert (tmp_path / "stream.csv").read_text() == HEADER


def test_writer_layout_and_order(tmp_path):
    p = preds()
    f = write_submission(p.planet_id.astype(float), tmp_path / "s.csv", mu=p.mu, sigma=p.sigma)   # arrays, float ids
    df = pd.read_csv(f)
    assert df.columns.tolist() == SUBMISSION_COLS == pd.read_csv(asset_path("adc2025", "sample_submission.csv")).columns.tolist()
    assert df.planet_id.dtype == np.int64 and f.read_text().splitlines()[1].split(",")[0] == str(p.planet_id[0])
    assert np.array_equal(df[WL_COLS].to_numpy(), p.mu) and np.array_equal(df[SIGMA_COLS].to_numpy(), p.sigma)
    smp = pd.DataFrame({"planet_id": p.planet_id[::-1]}); smp.to_csv(tmp_path / "smp.csv", index=False)
    df2 = pd.read_csv(write_submission(p, tmp_path / "s2.csv", sample_submission=tmp_path / "smp.csv"))
    assert df2.planet_id.tolist() == p.planet_id[::-1].tolist()
    with pytest.raises(SubmissionError, match="1 missing"): write_submission(p, tmp_path / "s3.csv", sample_submission=pd.DataFrame({"planet_id": [*p.planet_id, 5]}))
    with pytest.raises(SubmissionError, match="1 extra"): write_submission(p, tmp_path / "s3.csv", sample_submission=pd.DataFrame({"planet_id": p.planet_id[1:]}))
    sol = pd.concat([df[["planet_id"]], pd.DataFrame(p.mu, columns=WL_COLS)], axis=1)
    assert score(sol, df2) > 0.5


def test_sanitize_is_explicit_and_flagged():
    p = preds(); mu, sg = p.mu.copy(), p.sigma.copy()
    mu[0, :] = np.nan; mu[1, 5] = -3e-6; sg[3, 7] = 0.0
    with pytest.raises(SubmissionError): check_prediction(SpectrumPred(p.planet_id, mu, sg))
    s = check_prediction(sanitize(SpectrumPred(p.planet_id, mu, sg)))
    assert s.meta["flags"].tolist() == [Flag.FALLBACK, 0, 0, Flag.FALLBACK, 0, 0]
    assert s.meta["sanitized"].sum() == N_WL + 2 and s.mu[1, 5] == 0.0 and s.sigma[1, 5] == p.sigma[1, 5]


# ---------------------------------------------------------------- the validator rejects what the metric rejects
def _base(tmp_path):
    return pd.read_csv(write_submission(preds(3), tmp_path / "ok.csv"))

CASES = {   # name -> (mutation, does the host metric refuse it?)
    "negative mean": (lambda d: d.assign(wl_3=-d.wl_3), True),
    "negative sigma": (lambda d: d.assign(sigma_200=-d.sigma_200), True),
    "non-numeric column": (lambda d: d.assign(sigma_3="abc"), True),
    "one column short": (lambda d: d.drop(columns="sigma_283"), True),
    "one column extra": (lambda d: pd.concat([d, pd.DataFrame({"extra": 1.0}, index=d.index)], axis=1), True),
    "means missing": (lambda d: d[["planet_id"] + SIGMA_COLS], True),
    "sigmas before means": (lambda d: d[["planet_id"] + SIGMA_COLS + WL_COLS], False),
    "renamed column": (lambda d: d.rename(columns={"sigma_1": "sig_1"}), False),
    "NaN": (lambda d: d.assign(wl_9=[0.01, np.nan, 0.01]), True),
    "infinite": (lambda d: d.assign(sigma_9=np.inf), False),
    "zero sigma": (lambda d: d.assign(sigma_9=0.0), False),
    "duplicate ids": (lambda d: d.assign(planet_id=[d.planet_id[0]] * 3), True),
    "non-integer id": (lambda d: d.assign(planet_id=d.planet_id + 0.5), True),
    "float-formatted id": (lambda d: d.assign(planet_id=d.planet_id.astype(float)), False),
}


@pytest.mark.parametrize("name", list(CASES))
def test_validator_rejects(tmp_path, name):
    base = _base(tmp_path); mutate, host_refuses = CASES[name]
    bad = mutate(base); bad.to_csv(tmp_path / "bad.csv", index=False)
    rep = validate_submission(tmp_path / "bad.csv")
    assert not rep.ok and rep.errors, name
    with pytest.raises(SubmissionError, match="is not a valid submission"): rep.raise_for_errors()
    sol = pd.concat([base[["planet_id"]], pd.DataFrame(np.full((3, N_WL), 0.02), columns=WL_COLS)], axis=1)
    if host_refuses:
        with pytest.raises(ParticipantVisibleError): score(sol, pd.read_csv(tmp_path / "bad.csv"))


def test_validator_accepts_good_and_checks_planets(tmp_path):
    _base(tmp_path)
    assert validate_submission(tmp_path / "ok.csv").ok
    real = asset_path("adc2025", "sample_submission.csv")
    assert validate_submission(real, real).ok
    rep = validate_submission(tmp_path / "ok.csv", real)
    assert not rep.ok and any("missing" in e for e in rep.errors) and any("not in the sample" in e for e in rep.errors)
    (tmp_path / "empty.csv").write_text(HEADER)
    assert "no rows" in validate_submission(tmp_path / "empty.csv").errors
    (tmp_path / "nothing.csv").write_text("")
    assert "cannot read" in validate_submission(tmp_path / "nothing.csv").errors[0]
    assert "cannot read" in validate_submission(tmp_path / "absent.csv").errors[0]


# ---------------------------------------------------------------- streaming writer: kill and resume
def _stream(path, p):
    with SubmissionWriter(path) as w:
        for i, pid in enumerate(p.planet_id):
            if pid not in w: w.write(pid, p.mu[i], p.sigma[i])
    return path.read_bytes()


@pytest.mark.parametrize("cut", [1, 57, 3000, -1])
def test_resume_after_truncated_line(tmp_path, cut):
    p = preds(8)
    ref = _stream(tmp_path / "ref.csv", p)
    assert ref == write_submission(p, tmp_path / "batch.csv").read_bytes()
    with SubmissionWriter(tmp_path / "k.csv", resume=False) as w:
        for i in range(5): w.write(p.planet_id[i], p.mu[i], p.sigma[i])
    line = format_row(p.planet_id[5], p.mu[5], p.sigma[5])
    with open(tmp_path / "k.csv", "a") as f: f.write(line[:cut])             # the kill: a partial line
    assert _stream(tmp_path / "k.csv", p) == ref
    assert pd.read_csv(tmp_path / "k.csv").planet_id.is_unique


def test_resume_after_sigkill(tmp_path):
    "A real process killed with SIGKILL while writing; the rerun completes the same file."
    p = preds(6); np.save(tmp_path / "mu.npy", p.mu); np.save(tmp_path / "sg.npy", p.sigma); np.save(tmp_path / "id.npy", p.planet_id)
    child = textwrap.dedent(f"""
        import numpy as np, time, sys
        from spectramind.infer.submit import SubmissionWriter, format_row
        d = {str(tmp_path)!r}
        ids, mu, sg = np.load(d + "/id.npy"), np.load(d + "/mu.npy"), np.load(d + "/sg.npy")
        w = SubmissionWriter(d + "/sub.csv")
        for i in range(3): w.write(ids[i], mu[i], sg[i])
        w._f.write(format_row(ids[3], mu[3], sg[3])[:1234]); w._f.flush()   # half of the next row reaches the disk
        open(d + "/ready", "w").close()
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", child])
    try:
        t0 = time.time()
        while not (tmp_path / "ready").exists():
            assert proc.poll() is None and time.time() - t0 < 60, "child did not start"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert not (tmp_path / "sub.csv").read_bytes().endswith(b"\n")              # killed mid-line
    assert _stream(tmp_path / "sub.csv", p) == write_submission(p, tmp_path / "ref.csv").read_bytes()


def test_resume_refuses_foreign_file(tmp_path):
    (tmp_path / "x.csv").write_text("id,a,b\n1,2,3\n")
    with pytest.raises(SubmissionError, match="another header"): SubmissionWriter(tmp_path / "x.csv")
    with SubmissionWriter(tmp_path / "x.csv", resume=False) as w: assert len(w) == 0
    assert (tmp_path / "x.csv").read_text() == HEADER


# ---------------------------------------------------------------- manifest
def test_manifest(tmp_path):
    f = write_submission(preds(), tmp_path / "submission.csv")
    cfg = {"model": {"d": 64}, "uq": {"alpha": 0.05}}
    m = json.loads(write_manifest(tmp_path, config=cfg, temperature=0.8, alpha=0.05, artifacts=["a/model.pt"], submission=f).read_text())
    assert m["config_hash"] == config_hash(cfg) and len(m["config_hash"]) == 64
    assert m["temperature"] == 0.8 and m["alpha"] == 0.05 and m["artifacts"] == ["model.pt"]
    assert m["submission"]["n_planets"] == 6 and m["created_utc"].endswith("+00:00")
    assert m["versions"]["numpy"] == np.__version__ and "torch" in m["versions"] and m["versions"]["spectramind"]
    assert "git_sha" in m
    m2 = json.loads(write_manifest(tmp_path / "other.json", git_sha=None, note="x").read_text())
    assert m2["git_sha"] is None and m2["note"] == "x" and m2["config_hash"] is None
