"""Shapes, dtypes, gradients and TorchScript of the model parts and the full model."""
from dataclasses import replace
import pytest
import torch
from spectramind.core import N_WL
from spectramind.models.blocks import seeded, count_parameters, wavelength_grid
from spectramind.models.mamba import MambaConfig, MambaMixer, FGSMambaEncoder
from spectramind.models.gat import GATConfig, AirsGAT, GraphConfig, build_graph
from spectramind.models.fusion import FUSION_KINDS, Fusion, FusionConfig
from spectramind.models.decoders import MultiScaleDecoder, SigmaHead
from spectramind.models.factory import ModelConfig, build_model, collate, synthetic_items, tiny_config

G = lambda s: torch.Generator().manual_seed(s)


def _dead(module):
    return [n for n, p in module.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]


@pytest.mark.parametrize("bidirectional", [False, True])
def test_mamba_encoder_shapes_and_grads(bidirectional):
    cfg = MambaConfig(d_in=5, d_model=16, n_layers=2, d_state=4, bidirectional=bidirectional, dropout=0.1)
    with seeded(0): enc = FGSMambaEncoder(cfg)
    x = torch.randn(3, 37, 5, generator=G(0))
    seq, pooled, lat = enc(x, mask=torch.rand(3, 37, generator=G(1)) < 0.3, return_latents=True)
    assert seq.shape == (3, 37, 16) and pooled.shape == (3, 16) and len(lat) == 2 and seq.dtype == torch.float32
    (seq.pow(2).mean() + pooled.pow(2).mean()).backward()
    assert not _dead(enc)


def test_mixer_backends_agree():
    cfg = MambaConfig(d_model=16, d_state=4, dropout=0.0)
    u = torch.randn(2, 29, 16, generator=G(2))
    outs = {}
    for mode in ("ref", "chunked", "pscan"):
        with seeded(0): mix = MambaMixer(replace(cfg, scan=mode, chunk=8))
        outs[mode] = mix(u)
    torch.testing.assert_close(outs["chunked"], outs["ref"], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(outs["pscan"], outs["ref"], rtol=1e-5, atol=1e-6)


def test_gat_shapes_attention_and_grads():
    ei, ea = build_graph(wavelength_grid(), cfg=GraphConfig(band_stride=4))
    assert ei.dtype == torch.int64 and ea.shape == (ei.shape[1], 4)
    assert (ei[0] != ei[1]).all()                                                  # no self loops stored
    und = {(min(a, b), max(a, b)) for a, b in ei.T.tolist()}
    assert len(und) * 2 == ei.shape[1]                                             # both directions, no duplicates
    with seeded(0): gat = AirsGAT(GATConfig(d_node=7, d_model=16, heads=4, n_layers=2, dropout=0.1))
    h, att = gat(torch.randn(2, N_WL, 7, generator=G(0)), ei, ea, cond=torch.randn(2, 16, generator=G(1)),
                 mask=torch.rand(2, N_WL, generator=G(2)) < 0.2, return_attention=True)
    assert h.shape == (2, N_WL, 16) and len(att) == 2 and att[0][1].shape[1] == 4
    h.pow(2).mean().backward()
    assert not _dead(gat)


@pytest.mark.parametrize("kind", FUSION_KINDS)
def test_fusion_kinds(kind):
    with seeded(0): fu = Fusion(FusionConfig(kind=kind, d_model=16, heads=2, dropout=0.0))
    nodes = torch.randn(2, 9, 16, generator=G(0), requires_grad=True)
    seq = torch.randn(2, 12, 16, generator=G(1), requires_grad=True)
    out, _ = fu(nodes, seq, seq.mean(1))
    assert out.shape == nodes.shape
    out.pow(2).sum().backward()
    assert nodes.grad.abs().sum() > 0 and seq.grad.abs().sum() > 0 and not _dead(fu)


def test_decoder_and_sigma_head_torchscript():
    with seeded(0):
        dec = MultiScaleDecoder(16, coarse=16, mid=4, dropout=0.1).eval()
        head = SigmaHead(16, sigma_min=1e-5, depth_unit=1e-4, quantiles=True, dropout=0.1).eval()
    h, mu = torch.randn(3, N_WL, 16, generator=G(0)), torch.full((3, N_WL), 0.012)
    sdec, shead = torch.jit.script(dec), torch.jit.script(head)
    for a, b in zip(sdec(h), dec(h)): torch.testing.assert_close(a, b, rtol=0, atol=0)
    s_ref = torch.full((3, N_WL), 4e-5)
    for a, b in zip(shead(h, mu, s_ref), head(h, mu, s_ref)): torch.testing.assert_close(a, b, rtol=0, atol=0)
    sigma, q = shead(h, mu, None)
    assert (sigma >= 1e-5).all() and q.shape == (3, N_WL, 3)
    assert shead.code and sdec.code                                               # really compiled


def test_full_default_model_shapes_dtypes_and_gradients():
    cfg = ModelConfig()
    items = synthetic_items(2, seed=0, cfg=cfg.features, n_time=300)
    batch = collate(items)
    model = build_model(cfg, seed=0)
    out = model(batch, fgs_mask=torch.rand(2, 256, generator=G(0)) < 0.3, node_mask=torch.rand(2, N_WL, generator=G(1)) < 0.3,
                return_attention=True, return_latents=True)
    assert out["mu"].shape == out["sigma"].shape == (2, N_WL) and out["quantiles"].shape == (2, N_WL, 3)
    assert all(out[k].dtype == torch.float32 for k in ("mu", "sigma", "quantiles", "mu_coarse", "mu_mid"))
    assert out["fgs_recon"].shape == (2, 256, 5) and out["nodes_recon"].shape == (2, N_WL, 38)
    assert len(out["gat_attention"]) == 2 and len(out["latents"]) == 2
    loss = ((out["mu"] - batch["y"]) / 1e-4).pow(2).mean() + (out["sigma"] / 1e-4).mean() + (out["quantiles"] / 1e-4).mean() \
        + out["fgs_recon"].pow(2).mean() + out["nodes_recon"].pow(2).mean() + model.embed_segments(batch["fgs"][:, :32]).sum()
    loss.backward()
    assert not _dead(model), _dead(model)
    assert 100_000 < count_parameters(model) < 2_000_000


@pytest.mark.parametrize("kw", [dict(use_fgs=False), dict(use_airs=False), dict(fusion={"kind": "cross_attention"}),
                                dict(sigma_scale="unit"), dict(decoder={"quantiles": False})])
def test_ablation_variants_run(kw):
    cfg = tiny_config(**kw)
    batch = collate(synthetic_items(2, cfg=cfg.features, n_time=100))
    out = build_model(cfg)(batch)
    assert out["mu"].shape == (2, N_WL) and torch.isfinite(out["sigma"]).all() and (out["sigma"] > 0).all()
    assert ("quantiles" in out) == cfg.decoder.quantiles and ("fgs_recon" in out) == cfg.use_fgs
