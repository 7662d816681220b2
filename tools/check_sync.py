#!/usr/bin/env python
"""Check that the committed package and notebooks are what nbdev makes of them.

1. Export: copy nbs/ and pyproject.toml to a temporary folder, run nbdev's exporter there, and compare every
   generated module with the repository's spectramind/ (missing, extra or differing files are reported).
2. Clean: run nbdev's cleaner on copies of the notebooks and report every notebook it would change.

Exit status 0 when both agree, 1 otherwise, with a message naming each file and what to run.
"""
from __future__ import annotations
import difflib, filecmp, os, shutil, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIB = "spectramind"


def _py_files(d: Path) -> dict[str, Path]:
    return {str(p.relative_to(d)): p for p in d.rglob("*.py") if "__pycache__" not in p.parts}


def check_export(tmp: Path) -> list[str]:
    "Export the notebooks into tmp and list the differences with the repository's package."
    shutil.copytree(ROOT / "nbs", tmp / "nbs")
    shutil.copy(ROOT / "pyproject.toml", tmp / "pyproject.toml")
    shutil.copytree(ROOT / LIB, tmp / LIB, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    # start from an empty package (keeping __init__.py, which holds the version) so stale modules show up
    for p in list((tmp / LIB).rglob("*.py")):
        if p.relative_to(tmp / LIB) != Path("__init__.py"): p.unlink()
    r = subprocess.run([sys.executable, "-c", "from nbdev.doclinks import nbdev_export; nbdev_export()"],
                       cwd=tmp, capture_output=True, text=True)
    if r.returncode != 0:
        return [f"nbdev export failed:\n{r.stderr[-3000:]}"]
    want, have = _py_files(tmp / LIB), _py_files(ROOT / LIB)
    probs = []
    for f in sorted(set(want) - set(have)): probs.append(f"{LIB}/{f}: missing from the package (exported from a notebook)")
    for f in sorted(set(have) - set(want)): probs.append(f"{LIB}/{f}: not produced by any notebook (edited by hand, or its notebook was removed)")
    for f in sorted(set(want) & set(have)):
        if not filecmp.cmp(want[f], have[f], shallow=False):
            diff = list(difflib.unified_diff(have[f].read_text().splitlines(), want[f].read_text().splitlines(),
                                             f"{LIB}/{f} (repository)", f"{LIB}/{f} (exported)", lineterm="", n=1))
            probs.append(f"{LIB}/{f}: differs from what its notebook exports\n    " + "\n    ".join(diff[:12]))
    return probs


def check_clean(tmp: Path) -> list[str]:
    "Clean copies of the notebooks and list those the cleaner changes."
    nbs = sorted(p for p in (ROOT / "nbs").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    dst = tmp / "clean"
    shutil.copytree(ROOT / "nbs", dst / "nbs")
    shutil.copy(ROOT / "pyproject.toml", dst / "pyproject.toml")
    r = subprocess.run([sys.executable, "-c", "from nbdev.clean import nbdev_clean; nbdev_clean()"],
                       cwd=dst, capture_output=True, text=True)
    if r.returncode != 0: return [f"nbdev clean failed:\n{r.stderr[-3000:]}"]
    return [f"{p.relative_to(ROOT)}: not clean (run nbdev-clean)" for p in nbs
            if (dst / p.relative_to(ROOT)).read_bytes() != p.read_bytes()]


def main() -> int:
    with tempfile.TemporaryDirectory() as d:
        exp = check_export(Path(d) / "export"); (Path(d) / "export").mkdir(exist_ok=True)
        cln = check_clean(Path(d))
    if exp:
        print("PACKAGE OUT OF SYNC with the notebooks (run nbdev-export and commit; never edit spectramind/*.py by hand):")
        for p in exp: print("  -", p)
    if cln:
        print("NOTEBOOKS NOT CLEAN (run nbdev-clean and commit):")
        for p in cln: print("  -", p)
    if not exp and not cln: print("package and notebooks in sync; notebooks clean")
    return 1 if exp or cln else 0


if __name__ == "__main__":
    sys.exit(main())
