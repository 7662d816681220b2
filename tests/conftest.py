"""Shared pytest set-up: notebook flags, and a quieter matplotlib."""
import os
import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_addoption(parser):
    parser.addoption("--nb-flags", action="store", default=os.environ.get("SPECTRAMIND_NB_FLAGS", ""),
                     help="notebook cell flags to run as well, e.g. 'slow' or 'slow gpu' "
                          "(cells flagged notest/slow/gpu are skipped by default)")
