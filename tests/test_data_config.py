"""The data config group holds the defaults of the data-layer functions."""
import inspect

from spectramind.config import load_config
from spectramind.data.layout import scan_layout
from spectramind.data.load import read_signal, load_visit, load_observation, iter_observations
from spectramind.data.targets import grouped_folds


def default(fn, name):
    return inspect.signature(fn).parameters[name].default


def test_data_config_matches_function_defaults():
    cfg = load_config().data
    assert cfg.strict == default(scan_layout, "strict")
    assert cfg.chunk_mb == default(read_signal, "chunk_mb")
    for fn in (load_visit, load_observation, iter_observations):
        assert list(cfg.instruments) == list(default(fn, "instruments"))
        assert cfg.chunk_mb == default(fn, "chunk_mb")
    assert cfg.split == default(iter_observations, "split")
    assert cfg.folds.n_splits == default(grouped_folds, "n_splits") and cfg.folds.seed == default(grouped_folds, "seed")
    assert isinstance(cfg.root, str) and cfg.root
