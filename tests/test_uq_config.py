"""The uq config group and the keyword defaults of the calibration functions agree."""
import inspect
from spectramind.uq.temperature import uq_config, fit_temperature, calibrate_temp_files
from spectramind.uq.conformal import fit_conformal, calibrate_corel_files, coverage_report, molecule_windows


def _defaults(f):
    return {k: p.default for k, p in inspect.signature(f).parameters.items() if p.default is not inspect.Parameter.empty}


def test_yaml_matches_defaults():
    cfg = uq_config()
    t, c = cfg["temperature"], cfg["conformal"]
    ft, ct = _defaults(fit_temperature), _defaults(calibrate_temp_files)
    for k in ("objective", "per_instrument", "tau_min", "tau_max"): assert ft[k] == t[k] == ct[k], k
    assert (ct["k_folds"], ct["seed"]) == (t["k_folds"], t["seed"])
    fc, cc = _defaults(fit_conformal), _defaults(calibrate_corel_files)
    for k in ("alpha", "scale_min", "scale_max"): assert fc[k] == c[k] == cc[k], k
    assert list(cc["levels"]) == c["levels"] == list(_defaults(coverage_report)["levels"])
    assert (cc["k_folds"], cc["seed"]) == (c["k_folds"], c["seed"])
    # one set of molecule windows: the coverage regions, the model config and the model code agree
    from spectramind.core import MOLECULE_WINDOWS_UM
    from spectramind.models.factory import load_model_config
    assert cfg.get("molecule_windows_um") is None
    assert molecule_windows() == {k: [tuple(w) for w in v] for k, v in MOLECULE_WINDOWS_UM.items()}
    assert load_model_config().molecules == MOLECULE_WINDOWS_UM
