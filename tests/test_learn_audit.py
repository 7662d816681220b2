"""The logic audit flags injected violations, locates them, and writes JSON + npz with the predictions."""
import json
import numpy as np
import torch
from spectramind.models.blocks import molecule_templates, wavelength_grid
from spectramind.learn.audit import audit_planets, influence_maps, project_to_rules, write_audit
from spectramind.learn.losses import LossConfig, RULE_TOLERANCES, SEAM_TOL, SYMBOLIC_TERMS, symbolic_context, symbolic_terms


def _clean(n):
    return torch.tensor(0.012 + 1.5e-4 * molecule_templates(wavelength_grid())[[0, 1]].sum(0)).repeat(n, 1)


def test_audit_flags_each_injected_violation(tmp_path):
    ctx = symbolic_context()
    mu = _clean(4)
    mu[1, 60:63] = -3e-5                                  # negative depth
    mu[2, 150:190:2] += 4e-4                              # comb outside a smooth shape -> smoothness
    mu[3, 0] = mu[3, 1] - 2.5e-3                          # FGS1 2500 ppm below AIRS -> seam (tolerance 1850 ppm)
    q = torch.stack([mu - 2e-5, mu, mu + 2e-5], -1); q[0, 10, 0] = mu[0, 10] + 5e-5   # crossed quantiles on planet 0
    recs, maps = audit_planets(np.array([1, 2, 3, 4]), mu, ctx, quantiles=q)
    flagged = [{k for k, r in rec["rules"].items() if r["violated"]} for rec in recs]
    assert flagged[0] == {"qmono"} and "nonneg" in flagged[1] and "smooth" in flagged[2] and "seam" in flagged[3]
    assert "nonneg" not in flagged[0] | flagged[2] | flagged[3]
    assert set(recs[1]["rules"]["nonneg"]["worst_channels"][:3]) == {60, 61, 62}
    assert recs[0]["rules"]["qmono"]["worst_channels"][0] == 10
    np.testing.assert_allclose(recs[3]["rules"]["seam"]["value"], (25.0 - SEAM_TOL) ** 2, rtol=1e-6)
    assert recs[1]["rules"]["nonneg"]["excess"] > 0 and recs[0]["rules"]["nonneg"]["excess"] == 0
    jp, npz = write_audit(tmp_path, np.array([1, 2, 3, 4]), mu.numpy(), np.full(mu.shape, 3e-5), recs, maps)
    d = json.loads(jp.read_text())
    assert d["n_planets"] == 4 and d["violations_per_rule"]["seam"] == 1 and d["planets"][3]["planet_id"] == 4
    z = np.load(npz)
    assert set(z.files) == {"planet_id", "mu", "sigma", *[f"influence_{k}" for k in SYMBOLIC_TERMS]}
    assert z["influence_smooth"].shape == (4, 283)


def test_influence_maps_are_gradients_per_depth_unit():
    ctx = symbolic_context()
    mu = _clean(2); mu[1, 100] = -1e-4
    vals, maps = influence_maps(mu, ctx, LossConfig())
    # nonneg = relu(-x)^2 / 283 with x = mu / 1e-4: d/dmu * 1e-4 = -2 * 1 / 283 at channel 100
    np.testing.assert_allclose(maps["nonneg"][1, 100], -2.0 / 283, rtol=1e-9)
    np.testing.assert_allclose(vals["nonneg"][1], 1.0 / 283, rtol=1e-9)
    assert np.all(maps["nonneg"][0] == 0)


def test_tolerances_control_flags():
    ctx = symbolic_context()
    mu = _clean(1); mu[0, 120] = -3e-5                    # small negative dip: 0.09 units^2 / 283 = 3.2e-4
    strict = audit_planets(np.array([9]), mu, ctx, LossConfig())[0][0]
    loose = audit_planets(np.array([9]), mu, ctx, LossConfig(tolerances={"nonneg": 1.0}))[0][0]
    assert strict["rules"]["nonneg"]["violated"] and not loose["rules"]["nonneg"]["violated"]


def test_projection_restores_rules_the_input_keeps():
    ctx = symbolic_context()
    base = _clean(3).numpy(); out = base.copy()
    out[0, 100:140:2] += 6e-5; out[0, 101:140:2] -= 6e-5     # planet 0: the refinement adds a comb (smoothness)
    base[1, 100:140:2] += 6e-5; out[1] = base[1] + 1e-5      # planet 1: the input itself breaks smoothness
    out[2] = base[2] * 1.02                                   # planet 2: a plausible refinement
    sg0, sg = np.full(base.shape, 5e-5), np.full(base.shape, 3e-5)
    mu, s, lam = project_to_rules(out, sg, base, sg0, ctx)
    sm = lambda x: symbolic_terms(torch.as_tensor(x), ctx)["smooth"].numpy()
    assert sm(out)[0] > RULE_TOLERANCES["smooth"] >= sm(mu)[0] > 0.98 * RULE_TOLERANCES["smooth"]   # just back on the rule
    assert 0 < lam[0] < 1 and lam[1] == 1 and lam[2] == 1
    np.testing.assert_array_equal(mu[1:], out[1:]); np.testing.assert_array_equal(s[1:], sg[1:])
    np.testing.assert_allclose(mu[0], base[0] + lam[0] * (out[0] - base[0]), rtol=1e-12)
    np.testing.assert_allclose(s[0], 5e-5 - lam[0] * 2e-5, rtol=1e-12)
