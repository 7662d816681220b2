"""Selective scan: the chunked parallel form, mambapy's pscan and (on CUDA) mamba-ssm's kernel equal the reference."""
import math
import pytest
import torch
from spectramind.models import mamba as M


def _inputs(b, l, e, n, dtype, seed, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, l, e, generator=g, dtype=dtype)
    delta = torch.exp(torch.empty(b, l, e, dtype=dtype).uniform_(math.log(1e-3), math.log(2.0), generator=g))
    A = -torch.exp(torch.empty(e, n, dtype=dtype).uniform_(-1.0, math.log(8.0), generator=g))
    B, C = torch.randn(b, l, n, generator=g, dtype=dtype), torch.randn(b, l, n, generator=g, dtype=dtype)
    D = torch.randn(e, generator=g, dtype=dtype)
    return [t.to(device).requires_grad_() for t in (x, delta, A, B, C, D)]


def _value_and_grads(fn, ins, seed=7):
    y = fn(*ins)
    gy = torch.randn(y.shape, generator=torch.Generator().manual_seed(seed), dtype=y.dtype).to(y.device)
    return y, torch.autograd.grad(y, ins, gy)


def _assert_equal(fn, ins, tol):
    y0, g0 = _value_and_grads(M.scan_ref, ins)
    y1, g1 = _value_and_grads(fn, ins)
    torch.testing.assert_close(y1, y0, rtol=tol, atol=tol)
    for name, a, b in zip("x delta A B C D".split(), g1, g0):
        torch.testing.assert_close(a, b, rtol=tol, atol=tol * max(1.0, float(b.abs().max())), msg=lambda m: f"grad {name}: {m}")


@pytest.mark.parametrize("l,chunk", [(1, 4), (5, 4), (16, 16), (37, 8), (64, 16), (100, 32)])
def test_chunked_equals_reference_float64(l, chunk):
    _assert_equal(lambda *a: M.scan_chunked(*a, chunk=chunk), _inputs(2, l, 3, 5, torch.float64, seed=l), 1e-10)


@pytest.mark.parametrize("l", [7, 33, 128])
def test_chunked_equals_reference_float32(l):
    # float32: a few ulps of the largest state, accumulated over l steps
    _assert_equal(lambda *a: M.scan_chunked(*a, chunk=16), _inputs(2, l, 4, 8, torch.float32, seed=l), 3e-5)


@pytest.mark.parametrize("l", [2, 31, 100, 256])
def test_pscan_equals_reference(l):
    assert M._mambapy_pscan is not None, "mambapy is a pinned dependency of the model extra"
    _assert_equal(lambda *a: M.selective_scan(*a, mode="pscan"), _inputs(2, l, 4, 8, torch.float32, seed=100 + l), 3e-5)


def test_strong_decay_stays_finite():
    # delta*|A| up to ~60 per step: segment sums never exponentiate a positive number
    ins = _inputs(1, 48, 2, 3, torch.float32, seed=3)
    with torch.no_grad(): ins[1].mul_(30.0)
    y = M.scan_chunked(*ins, chunk=16)
    assert torch.isfinite(y).all()
    torch.testing.assert_close(y, M.scan_ref(*ins), rtol=1e-5, atol=1e-5)


def test_selective_scan_dispatch_and_dtype():
    ins = [t.detach() for t in _inputs(1, 10, 2, 2, torch.float64, seed=0)]
    assert M.resolve_scan_mode("auto", torch.device("cpu")) in ("pscan", "chunked")
    y = M.selective_scan(*ins, mode="chunked")
    assert y.dtype == torch.float64                          # computed in float32, returned in the input dtype
    torch.testing.assert_close(y, M.scan_ref(*ins), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError): M.resolve_scan_mode("nope", torch.device("cpu"))
    if M._mamba_ssm_scan is None:
        with pytest.raises(ImportError): M.scan_cuda(*ins)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (run on the GPU machine)")
def test_gpu_backend_equals_reference():
    # the fused mamba-ssm kernel when importable, else the auto backend (pscan) on the GPU
    ins = _inputs(2, 300, 16, 16, torch.float32, seed=5, device="cuda")
    mode = M.resolve_scan_mode("auto", ins[0].device)
    _assert_equal(lambda *a: M.selective_scan(*a, mode=mode), ins, 1e-3)
