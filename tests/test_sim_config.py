"""The sim config group holds the defaults of the simulator functions."""
import inspect

from spectramind.config import load_config
from spectramind.sim.astro import draw_planet
from spectramind.sim.detector import draw_visit
from spectramind.sim.dataset import write_dataset, sim_config
from spectramind.sim.lightcurve import simulate_lightcurves


def defaults(fn):
    return {k: p.default for k, p in inspect.signature(fn).parameters.items() if p.default is not inspect.Parameter.empty}


def same(a, b):
    return list(a) == list(b) if isinstance(a, (list, tuple)) else a == b


def test_yaml_matches_function_defaults():
    c = sim_config()
    d = defaults(write_dataset)
    for k in ("n_train", "n_test", "scale", "level", "compression"):
        assert same(c[k], d[k]), k
    for group, fn in (("planet", draw_planet), ("visit", draw_visit), ("lightcurve", simulate_lightcurves)):
        d = defaults(fn)
        assert c[group], group
        for k, v in c[group].items():
            assert k in d, (group, k)
            assert same(v, d[k]), (group, k, v, d[k])


def test_hydra_composes_the_group():
    cfg = load_config()
    assert cfg.sim.level == "raw" and cfg.sim.planet.p_two_visits == 0.1
    assert sim_config(cfg)["visit"]["cosmic_rate"] == sim_config()["visit"]["cosmic_rate"]
