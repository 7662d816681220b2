"""Training: the loss falls on a tiny batch, every phase runs, a resumed run repeats the uninterrupted one exactly,
folds group planets, checkpoints keep the top-k, the ablation writes its leaderboard."""
import json
from dataclasses import replace
from pathlib import Path
import numpy as np
import pytest
import torch
from spectramind.models.factory import build_model, collate, synthetic_items, tiny_config
from spectramind.learn.losses import supervised_loss, symbolic_context
from spectramind.learn.train import (MaskConfig, TrainConfig, fit, group_kfold, load_checkpoint, make_masks,
                                     run_ablation, run_phase, split_items, warmup_cosine)

TINY = tiny_config()


@pytest.fixture(scope="module")
def items():
    return synthetic_items(8, seed=0, cfg=TINY.features, n_time=120, fit_bias=1.03)


def test_loss_falls_on_a_tiny_batch(items):
    model, ctx = build_model(TINY, seed=0), symbolic_context()
    batch = collate(items[:4])
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        loss, _ = supervised_loss(model(batch), batch, ctx)
        opt.zero_grad(); loss.backward(); opt.step(); losses.append(float(loss.detach()))
    assert losses[-1] < 0.5 * losses[0], losses


def test_every_phase_runs_and_improves_or_finishes(items, tmp_path):
    for phase in ("mae", "contrastive", "supervised"):
        r = fit(build_model(TINY, seed=0), items[:6], items[6:], TrainConfig(phase=phase, epochs=2, batch_size=3, patience=0),
                tmp_path / phase)
        assert len(r.history) == 2 and all(np.isfinite(h["val"]) for h in r.history)
        assert Path(r.best_model).exists() and Path(r.last_checkpoint).exists()
        log = json.loads((tmp_path / phase / "train_log.json").read_text())
        assert log["seeds"]["seed"] == 0 and len(log["seeds"]["epoch_seeds"]) == 2


def test_resume_reproduces_the_loss_sequence(items, tmp_path):
    cfg = tiny_config(mamba={"dropout": 0.1}, gat={"dropout": 0.1}, fusion={"dropout": 0.1}, decoder={"dropout": 0.1})
    tc = TrainConfig(epochs=4, batch_size=3, grad_accum=2, lr=3e-3, warmup_steps=1, patience=0, seed=5)
    full = fit(build_model(cfg, 0), items[:6], items[6:], tc, tmp_path / "a")
    part = fit(build_model(cfg, 0), items[:6], items[6:], tc, tmp_path / "b", stop_after=2)
    assert len(part.history) == 2
    rest = fit(build_model(cfg, 123), items[:6], items[6:], tc, tmp_path / "b", resume=tmp_path / "b" / "last.pt")
    assert rest.step_losses == full.step_losses                 # bit-identical, optimizer steps with accumulation
    assert [h["val"] for h in rest.history] == [h["val"] for h in full.history]
    ck = load_checkpoint(tmp_path / "b" / "last.pt")
    assert ck["state"]["epoch"] == 4 and ck["train_config"]["seed"] == 5


def test_topk_checkpoints_and_early_stopping(items, tmp_path):
    tc = TrainConfig(epochs=6, batch_size=3, lr=0.0, warmup_steps=1, patience=2, keep_top_k=2)   # lr 0: no improvement
    r = fit(build_model(TINY, 0), items[:6], items[6:], tc, tmp_path)
    assert r.stopped_early and len(r.history) == 3                # best at epoch 1, then 2 epochs without improvement
    kept = sorted(tmp_path.glob("ckpt_e*.pt"))
    assert [p.name for p in kept] == ["ckpt_e001.pt", "ckpt_e002.pt"]          # ties keep the earlier checkpoints
    assert sorted(Path(p).name for _, p in r.best_checkpoints) == [p.name for p in kept]


def test_group_kfold_and_split(items):
    pids = [1, 1, 2, 3, 3, 4, 5, 6, 7, 7]
    folds = group_kfold(pids, 5, seed=0)
    for tr, va in folds: assert not set(np.array(pids)[tr]) & set(np.array(pids)[va])
    assert sorted(np.concatenate([va for _, va in folds]).tolist()) == list(range(10))
    tr, va = split_items(items, TrainConfig(n_folds=4, fold=1))
    assert len(tr) + len(va) == 8 and not {int(i["planet_id"]) for i in tr} & {int(i["planet_id"]) for i in va}
    with pytest.raises(ValueError): group_kfold([1, 1, 2], 3)


def test_masks_every_strategy(items):
    batch = collate(items[:3]); ctx = symbolic_context()
    for s in ("random", "block", "band", "snr"):
        fm, nm = make_masks(batch, MaskConfig(strategy=s, ratio=0.25, block_len=8), ctx, torch.Generator().manual_seed(0))
        assert fm.shape == (3, 32) and nm.shape == (3, 283) and nm.any(1).all() and fm.any(1).all()
        fm2, nm2 = make_masks(batch, MaskConfig(strategy=s, ratio=0.25, block_len=8), ctx, torch.Generator().manual_seed(0))
        assert torch.equal(nm, nm2) and torch.equal(fm, fm2)          # explicit generator: reproducible


def test_schedule():
    assert warmup_cosine(0, 10, 2) == 0.5 and warmup_cosine(1, 10, 2) == 1.0
    assert abs(warmup_cosine(9, 10, 2, 0.1) - 0.1) < 1e-12


def test_ablation_leaderboard(items, tmp_path):
    rows, md = run_ablation(items, TINY, TrainConfig(epochs=1, batch_size=4, n_folds=4), tmp_path, top_n=2,
                            variants=["full", "-coherence", "airs_only"])
    assert {r["variant"] for r in rows} == {"full", "-coherence", "airs_only"}
    assert len(md.strip().splitlines()) == 4 and (tmp_path / "leaderboard.md").read_text() == md
    assert len(json.loads((tmp_path / "leaderboard.json").read_text())) == 3


def test_every_phase_loss_under_bf16_autocast(items):
    # CPU bf16 autocast stands in for CUDA AMP: the losses must come out float32 and finite
    from spectramind.learn.train import phase_loss
    model, ctx, batch = build_model(TINY, 0), symbolic_context(), collate(items[:3])
    for phase in ("supervised", "mae", "contrastive"):
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
            loss, parts = phase_loss(model, batch, phase, TrainConfig(), ctx, torch.Generator().manual_seed(0))
        assert loss.dtype == torch.float32 and torch.isfinite(loss), phase
        loss.backward()


def test_deterministic_option_restores_global_flag(items, tmp_path):
    before = torch.are_deterministic_algorithms_enabled()
    tc = TrainConfig(epochs=1, batch_size=3, patience=0, deterministic=True)
    a = fit(build_model(TINY, 0), items[:6], items[6:], tc, tmp_path / "a")
    b = fit(build_model(TINY, 0), items[:6], items[6:], replace(tc, deterministic=False), tmp_path / "b")
    assert torch.are_deterministic_algorithms_enabled() == before
    assert a.step_losses == b.step_losses and json.loads((tmp_path / "a" / "train_log.json").read_text())["deterministic"]
