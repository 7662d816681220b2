"""The committed package must be exactly what nbdev exports from the notebooks, and notebooks must be clean."""
import subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_package_matches_notebooks_and_notebooks_clean():
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "check_sync.py")], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, "\n" + r.stdout + r.stderr
