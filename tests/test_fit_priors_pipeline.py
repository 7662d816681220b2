"""spectramind fit's learned fit priors: learned from the train fits, refitted, kept only when the out-of-fold physics
score does not drop, written to fit_priors.json and applied by predict's config."""
import json

import numpy as np
import pytest

import spectramind.infer.train as T
from spectramind.config import load_config
from spectramind.contracts import TransitFit
from spectramind.core import N_WL
from spectramind.infer.predict import load_artifacts, with_fit_priors


def _fits(y, noise, seed, tau_b=0.0):
    "TransitFits of labelled planets: depths off by `noise`, white fits whose b scatters by tau_b about the star info."
    rng = np.random.default_rng(seed); out = {}
    for i, d in enumerate(y):
        w = {}
        for k, m0, s0, sd, tau in (("a_rs", 8.0, 0.8, 0.04, 0.0), ("b", 0.4, 0.2, 0.02, tau_b), ("u1", 0.3, 0.15, 0.03, 0.0), ("u2", 0.1, 0.15, 0.05, 0.0)):
            xd = m0 + tau*rng.standard_normal() + sd*rng.standard_normal(); p = 1/sd**2 + 1/s0**2
            w |= {k: (xd/sd**2 + m0/s0**2)/p, f"sig_{k}": 1/np.sqrt(p), f"prior_{k}": m0, f"prior_sig_{k}": s0}
        out[1000 + i] = TransitFit(1000 + i, 3.0, 2.5, d + noise*rng.standard_normal(N_WL), np.eye(N_WL)*noise**2,
                                   np.zeros((N_WL, 2)), dict(visits=[dict(level="full", white=w)])).validate()
    return out


@pytest.mark.parametrize("refit_noise, kept", [(5e-5, True), (4e-4, False)])
def test_learned_priors_kept_only_when_the_refit_scores_better(tmp_path, monkeypatch, refit_noise, kept):
    rng = np.random.default_rng(0); y = rng.uniform(0.005, 0.02, (30, 1))*np.ones((1, N_WL))
    ids = np.arange(1000, 1030); nm, ns = float(y.mean()), float(y.std())
    fits0 = _fits(y, 1e-4, 1)
    calls = []
    def fake_fit_split(data_dir, split, cfg, *a, **k):   # the refit: with the learned widths in the config
        calls.append(float(cfg.fit.sig_b)); return _fits(y, refit_noise, 2), []
    monkeypatch.setattr(T, "fit_split", fake_fit_split)
    cfg = load_config()
    cfg2, fits, fails, lp = T._learned_fit_priors("unused", cfg, fits0, [], ids, y, nm, ns, tmp_path, None, 1, None, False)
    assert calls == [0.02]            # b scatters by nothing beyond its errors: the floor
    assert lp["kept"] is kept and lp["sig_b"] == 0.02 and lp["n_visits"] == 30
    assert (lp["score_learned"] > lp["score_configured"]) is kept
    assert (tmp_path / "fit_priors.json").exists() is kept
    if kept:
        assert fits is not fits0 and cfg2.fit.sig_b == 0.02 and cfg.fit.sig_b == 0.2
        a = load_artifacts(tmp_path); assert a.fit_priors["sig_b"] == 0.02
        assert with_fit_priors(cfg, a.fit_priors).fit.sig_b == 0.02
    else:
        assert fits is fits0 and cfg2 is cfg


def test_learned_priors_off_or_too_few(tmp_path, monkeypatch):
    y = np.full((5, N_WL), 0.01); ids = np.arange(1000, 1005)
    monkeypatch.setattr(T, "fit_split", lambda *a, **k: pytest.fail("no refit expected"))
    cfg = load_config(["fit.learn_priors=false"])
    assert T._learned_fit_priors("x", cfg, _fits(y, 1e-4, 1), [], ids, y, 0.01, 0.005, tmp_path, None, 1, None, False)[3].startswith("off")
    r = T._learned_fit_priors("x", load_config(), _fits(y, 1e-4, 1), [], ids, y, 0.01, 0.005, tmp_path, None, 1, None, False)
    assert r[3].startswith("not learned") and not (tmp_path / "fit_priors.json").exists()
