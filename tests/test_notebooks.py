"""Every notebook under nbs/ runs as one pytest test, under nbdev's test rules.

Cells flagged with the `tst_flags` of pyproject.toml (`notest slow gpu`) are skipped unless named with
`--nb-flags` (or SPECTRAMIND_NB_FLAGS), e.g. `pytest tests/test_notebooks.py --nb-flags slow`.
A failing cell fails the test named after its notebook; the traceback is in the captured stderr.
"""
from pathlib import Path
import tomllib
import pytest
import nbdev.test as nbt  # module import, so pytest does not collect nbdev's test_nb as a test

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted(p for p in (ROOT / "nbs").rglob("*.ipynb")
             if not any(part.startswith((".", "_")) for part in p.relative_to(ROOT / "nbs").parts))
TST_FLAGS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["nbdev"]["tst_flags"].split()


def test_notebooks_found():
    assert len(NBS) >= 5, f"only {len(NBS)} notebooks found under {ROOT / 'nbs'}"


@pytest.mark.parametrize("nb", NBS, ids=[str(p.relative_to(ROOT / "nbs")) for p in NBS])
def test_notebook(nb, request):
    force = request.config.getoption("--nb-flags").split()
    skip = [f for f in TST_FLAGS if f not in force]
    ok, secs = nbt.test_nb(nb, skip_flags=skip, force_flags=force, showerr=True, cell_timeout=900)
    assert ok, f"notebook {nb.relative_to(ROOT)} failed (its traceback is in the captured stderr above)"
