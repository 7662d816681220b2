"""Every loss term against a hand-computed value and gradient, plus torch.autograd.gradcheck and mask behaviour."""
import math
import numpy as np
import pytest
import torch
from spectramind.core import FGS_WEIGHT
from spectramind.learn import losses as L
from spectramind.metric import score_arrays

D = torch.float64
t = lambda a: torch.tensor(a, dtype=D)


def _vg(fn, *xs):
    xs = [x.clone().requires_grad_() for x in xs]
    v = fn(*xs)
    return v.detach(), torch.autograd.grad(v, xs)


def test_gll_raw_hand_values():
    # one AIRS-only planet of 2 channels (channel 0 weight FGS_WEIGHT): z = (1, 2), s = (1e-4, 2e-4)
    y, mu, s = t([[0.0100, 0.0100]]), t([[0.0099, 0.0104]]), t([[1e-4, 2e-4]])
    w = np.array([FGS_WEIGHT, 1.0]); W = w.sum()
    ell = 0.5 * math.log(2 * math.pi) + np.log([1e-4, 2e-4]) + 0.5 * np.array([1.0, 4.0])
    v, (gm, gs) = _vg(lambda m_, s_: L.gll_loss(y, m_, s_, normalize=False), mu, s)
    np.testing.assert_allclose(float(v), (w * ell).sum() / W, rtol=1e-12)
    # d/dmu = -(y - mu)/s^2 * w/W ; d/ds = (1/s - (y-mu)^2/s^3) * w/W
    np.testing.assert_allclose(gm.numpy(), [[-(1e-4) / 1e-8 * w[0] / W, -(-4e-4) / 4e-8 * w[1] / W]], rtol=1e-9)
    np.testing.assert_allclose(gs.numpy(), [[(1e4 - 1e-8 / 1e-12) * w[0] / W, (5e3 - 16e-8 / 8e-12) * w[1] / W]], rtol=1e-9, atol=1e-6)


def test_gll_normalized_is_one_minus_score_and_masked():
    g = np.random.default_rng(1)
    y = 0.015 + 2e-4 * g.standard_normal((3, 283)); mu = y + 8e-5 * g.standard_normal((3, 283)); s = np.full((3, 283), 9e-5)
    v = L.gll_loss(*(torch.tensor(a) for a in (y, mu, s)))
    np.testing.assert_allclose(float(v), 1 - score_arrays(y, mu, s, clip=False), rtol=1e-10)
    per = L.gll_loss(*(torch.tensor(a) for a in (y, mu, s)), reduction="none")
    assert per.shape == (3,) and torch.allclose(per.mean(), v)
    m = torch.ones(3, 283, dtype=torch.bool); m[:, 7] = False
    mu2 = mu.copy(); mu2[:, 7] = 10.0
    torch.testing.assert_close(L.gll_loss(torch.tensor(y), torch.tensor(mu2), torch.tensor(s), m),
                               L.gll_loss(torch.tensor(y), torch.tensor(mu), torch.tensor(s), m), rtol=1e-12, atol=0)


def test_smoothness_hand_value_and_gradient():
    # x = (1, 0, 2, 0): second differences at channels 1, 2 are (3, -4); channel 2 in a window with w_in = 0.25
    x = t([[1.0, 0.0, 2.0, 0.0]]); inw = torch.tensor([False, False, True, False])
    v, (g,) = _vg(lambda a: L.smoothness_loss(a, inw, w_in=0.25, unit=1.0), x)
    W = 1.25
    np.testing.assert_allclose(float(v), (9 + 0.25 * 16) / W, rtol=1e-12)
    g1, g2 = 2 * 3 / W, 2 * 0.25 * -4 / W      # dS/dd_j
    np.testing.assert_allclose(g.numpy(), [[g1, -2 * g1 + g2, g1 - 2 * g2, g2]], rtol=1e-12)


def test_nonneg_hand_value_and_gradient_with_mask():
    x = t([[-3.0, -1.0, 2.0]]) * 1e-4; m = torch.tensor([[True, False, True]])
    v, (g,) = _vg(lambda a: L.nonneg_loss(a, m, unit=1e-4), x)
    np.testing.assert_allclose(float(v), 9 / 2, rtol=1e-12)                 # channel 1 masked out
    np.testing.assert_allclose(g.numpy(), [[2 * -3 / 2 / 1e-4, 0.0, 0.0]], rtol=1e-12)


def test_coherence_hand_value_and_gradient_with_ridge():
    # one template (0, 1, 2, 0) on 4 channels; continuum = channels 0 and 3; ridge 1
    T = t([[0.0, 1.0, 2.0, 0.0]]); inw = T[0] > 0
    x = t([[1.0, 3.0, 2.0, 1.0]])                   # excess r = (0, 2, 1, 0)
    a = (2 + 2) / (5 + 1)                           # (T r) / (T T + 1) = 4 / 6
    e1, e2 = 2 - a * 1, 1 - a * 2                   # residual on window channels
    v, (g,) = _vg(lambda z: L.coherence_loss(z, T, inw, ridge=1.0, unit=1.0), x)
    np.testing.assert_allclose(float(v), (e1**2 + e2**2) / 2, rtol=1e-12)
    # dL/dr_k = e_k - (T_k / 6) * (e . T) (through a); dL/dx_out = -(1/2) * sum_k dL/dr_k
    eT = e1 * 1 + e2 * 2
    dr = np.array([0.0, e1 - 1 / 6 * eT, e2 - 2 / 6 * eT, 0.0])
    np.testing.assert_allclose(g.numpy(), [[-dr.sum() / 2, dr[1], dr[2], -dr.sum() / 2]], rtol=1e-10, atol=1e-12)


def test_seam_hand_value_and_gradient():
    x = t([[0.0, 7.0], [1.0, 1.5]])                 # planet 0 jumps 7 (tol 4), planet 1 does not
    v, (g,) = _vg(lambda a: L.seam_loss(a, torch.tensor([[1, 0]]), tol=4.0, unit=1.0, reduction="none").sum(), x)
    np.testing.assert_allclose(float(v), 9.0)
    np.testing.assert_allclose(g.numpy(), [[-6.0, 6.0], [0.0, 0.0]])


def test_band_hand_value_and_gradient_lower_bound():
    # num = channel 1, den = channel 2, continuum = channels 0, 3 (=0); lo = 1, hi = 5: A_num = 1 < lo * A_den = 2
    wm = torch.tensor([[0, 1, 0, 0], [0, 0, 1, 0]], dtype=torch.bool)
    x = t([[0.0, 1.0, 2.0, 0.0]])
    v, (g,) = _vg(lambda a: L.band_loss(a, wm, wm.any(0), torch.tensor([[0, 1]]), t([[1.0, 5.0]]), unit=1.0), x)
    np.testing.assert_allclose(float(v), 1.0)       # (2 - 1)^2
    # dL/dA_den = 2, dL/dA_num = -2, dL/dcont = -(2 - 2) = 0
    np.testing.assert_allclose(g.numpy(), [[0.0, -2.0, 2.0, 0.0]], atol=1e-12)


def test_quantile_monotonicity_and_pinball():
    q = t([[[2.0, 1.0, 1.5]]])                      # q10 > q50 by 1; q50 < q90: margin 0.25 -> (1.25^2 + 0)
    v, (g,) = _vg(lambda a: L.quantile_monotonicity_loss(a, margin=0.25, unit=1.0), q)
    np.testing.assert_allclose(float(v), 1.25**2)
    np.testing.assert_allclose(g.numpy(), [[[2.5, -2.5, 0.0]]])
    p = L.pinball_loss(t([[1.0]]), t([[[0.0, 1.0, 3.0]]]), unit=1.0)   # e = (1, 0, -2): 0.1, 0, 0.2
    np.testing.assert_allclose(float(p), 0.1, rtol=1e-12)


@pytest.mark.parametrize("term", ["smooth", "nonneg", "coherence", "seam", "band"])
def test_gradcheck_every_symbolic_term(term):
    wl = np.r_[0.7, np.linspace(1.95, 3.9, 47)]      # a coarse 48-channel grid keeps gradcheck fast
    ctx = L.symbolic_context(wl_um=wl, dtype=D)
    g = torch.Generator().manual_seed(0)
    mu = (0.01 + 3e-4 * torch.randn(2, 48, generator=g, dtype=D)).requires_grad_()
    mu.data[:, 20] = -2e-4; mu.data[0, 0] = 0.02     # make nonneg and seam active
    cfg = L.LossConfig(band_slack=0.0)
    f = lambda m: L.symbolic_terms(m, ctx, cfg)[term].sum()
    assert torch.autograd.gradcheck(f, (mu,), eps=1e-9, atol=1e-5, rtol=1e-4)


def test_symbolic_terms_vectorised_and_masked():
    ctx = L.symbolic_context()
    mu = 0.01 + 1e-4 * torch.randn(4, 283, generator=torch.Generator().manual_seed(2))
    terms = L.symbolic_terms(mu, ctx, quantiles=torch.stack([mu - 1e-5, mu, mu + 1e-5], -1))
    assert set(terms) == set(L.SYMBOLIC_TERMS) and all(v.shape == (4,) for v in terms.values())
    assert float(terms["qmono"].sum()) == 0.0
    one = L.symbolic_terms(mu[2:3], ctx)                                # each planet independent of the others
    assert all(torch.allclose(one[k], terms[k][2:3]) for k in ("smooth", "coherence", "band", "seam", "nonneg"))
    m = torch.ones(4, 283, dtype=torch.bool); m[:, 200:] = False
    mu2 = mu.clone(); mu2[:, 200:] = -1.0
    t1, t2 = L.symbolic_terms(mu, ctx, mask=m), L.symbolic_terms(mu2, ctx, mask=m)
    assert all(torch.allclose(t1[k], t2[k]) for k in ("smooth", "nonneg", "coherence", "seam"))
