"""The offline documentation site, checked in a real browser.

A session fixture builds `_docs/` once with tools/build_docs.py (README goes to a temporary file, so the tests
leave the working tree alone). Headless Chromium then loads the home page and API pages from disk; the tests read
the DOM it serialises (`--dump-dom`, no Selenium) and save screenshots as _docs/screenshot_index.png and
_docs/screenshot_api.png. The browser tests skip, saying why, only where no Chromium binary exists
(tools/install_chromium.sh installs it).
"""
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / "nbs"
DOCS = ROOT / "_docs"
BUILDER = ROOT / "tools" / "build_docs.py"
SECTION_ORDER = ["", "api", "tutorials", "explanations"]   # home page first, then these folders, then the rest


# ------------------------------------------------------------------------------------------------------------
# helpers

def notebooks():
    "Notebooks under nbs/ as nbdev finds them (no `_*` or `.*` files or folders), posix paths relative to nbs/."
    return sorted(p.relative_to(NBS).as_posix() for p in NBS.rglob("*.ipynb")
                  if not any(s.startswith((".", "_")) for s in p.relative_to(NBS).parts))


def nb_title(rel):
    "The `# Title` of a notebook's first markdown cell (what nbdev puts in the page title), else its file name."
    nb = json.loads((NBS / rel).read_text(encoding="utf-8"))
    for c in nb["cells"]:
        if c["cell_type"] == "markdown":
            m = re.match(r"\s*#\s+(.+)", "".join(c["source"]))
            if m: return m.group(1).strip()
            break
    return re.sub(r"^\d+[a-zA-Z0-9]*_", "", Path(rel).stem)


def expected_sidebar():
    "(title, folder) of every notebook in notebook order: index, api/*, tutorials/*, explanations/*, others."
    def key(rel):
        folder = posixpath_dir(rel)
        rank = SECTION_ORDER.index(folder) if folder in SECTION_ORDER else len(SECTION_ORDER)
        return (rank, folder, rel != "index.ipynb", rel)
    return [(nb_title(r), posixpath_dir(r)) for r in sorted(notebooks(), key=key)]


def posixpath_dir(rel): return rel.rsplit("/", 1)[0] if "/" in rel else ""


def page_for(rel):
    "Output page of notebook `rel`, as nbdev names it (numeric prefix dropped) when it has a title cell."
    from nbdev.config import nbpath2html
    return DOCS / Path(rel).parent / nbpath2html(Path(rel)).name


class Dom(HTMLParser):
    "The bits of a serialised DOM the tests look at: <title>, sidebar links, element ids, text per region."

    def __init__(self, text):
        super().__init__()
        self.title, self.sidebar, self.ids, self.stack = "", [], set(), []
        self.text = {"content": [], "sidebar": [], "all": []}
        self.maths = 0
        self.feed(text)

    def _in(self, tag, id_):
        return any(t == tag and i == id_ for t, i in self.stack)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"): self.ids.add(a["id"])
        if tag == "math": self.maths += 1
        if tag == "a" and self._in("nav", "sidebar"): self.sidebar.append([a.get("href", ""), ""])
        if tag not in ("meta", "link", "br", "hr", "img", "input", "mprespace", "mspace"):
            self.stack.append((tag, a.get("id")))

    def handle_endtag(self, tag):
        for k in range(len(self.stack) - 1, -1, -1):
            if self.stack[k][0] == tag:
                del self.stack[k:]
                break

    def handle_data(self, data):
        if self.stack and self.stack[-1][0] == "title": self.title += data
        if self.stack and self.stack[-1][0] == "a" and self._in("nav", "sidebar") and self.sidebar:
            self.sidebar[-1][1] += data
        self.text["all"].append(data)
        if self._in("main", "content"): self.text["content"].append(data)
        if self._in("nav", "sidebar"): self.text["sidebar"].append(data)

    def content(self): return "".join(self.text["content"])


def find_chromium():
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if name and (p := shutil.which(name)): return p
    return None


CHROMIUM = find_chromium()
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium binary found (looked for chromium, "
                                    "chromium-browser, google-chrome; run tools/install_chromium.sh to install it)")


def chromium(page, *args, timeout=120):
    "Run headless Chromium on a local page with a fresh profile and no network features; returns stdout."
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as prof:
        cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
               "--hide-scrollbars", f"--user-data-dir={prof}", *args, page.resolve().as_uri()]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"chromium exited {r.returncode} on {page}:\n{r.stderr[-2000:]}"
    return r.stdout


def dom(page):
    return Dom(chromium(page, "--dump-dom"))


def screenshot(page, dest, size="1280,1400"):
    dest.unlink(missing_ok=True)
    chromium(page, f"--screenshot={dest}", f"--window-size={size}")
    assert dest.exists(), f"no screenshot written for {page}"
    import matplotlib.image as mpimg
    img = mpimg.imread(dest)[..., :3]
    ink = (img.mean(axis=2) < 0.9).mean()   # fraction of non-white pixels: text, code blocks, header bar
    assert ink > 0.03, f"{dest} looks blank ({ink:.1%} non-white pixels)"
    return dest


# ------------------------------------------------------------------------------------------------------------
# fixtures

@pytest.fixture(scope="session")
def built(tmp_path_factory):
    "Build the site once per test process; a file lock serialises builds of parallel (xdist) workers."
    lock = Path(tempfile.gettempdir()) / f"spectramind-docs-{hashlib.sha1(str(ROOT).encode()).hexdigest()[:12]}.lock"
    readme = tmp_path_factory.mktemp("readme") / "README.md"
    with open(lock, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        r = subprocess.run([sys.executable, str(BUILDER), "--readme", str(readme)], cwd=ROOT,
                           capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"tools/build_docs.py failed:\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}"
    return {"readme": readme, "log": r.stdout}


@pytest.fixture(scope="session")
def index_dom(built):
    return dom(DOCS / "index.html")


# ------------------------------------------------------------------------------------------------------------
# configuration

def test_quarto_yml_copies_identical():
    "_quarto.yml (root, canonical) and nbs/_quarto.yml (read by nbdev-docs) stay byte-identical and valid."
    root, nbs = ROOT / "_quarto.yml", NBS / "_quarto.yml"
    assert root.read_bytes() == nbs.read_bytes(), "edit _quarto.yml, then `cp _quarto.yml nbs/_quarto.yml`"
    cfg = yaml.safe_load(root.read_text())
    assert cfg["project"]["type"] == "website"
    assert cfg["metadata-files"] == ["nbdev.yml", "sidebar.yml"]
    assert cfg["format"]["html"]["css"] == "styles.css" and (NBS / "styles.css").exists()
    side = yaml.safe_load((NBS / "sidebar.yml").read_text())["website"]["sidebar"]["contents"]
    assert side[0] == "index.ipynb" and [s["section"] for s in side[1:]] == ["API", "Tutorials", "Explanations"]


# ------------------------------------------------------------------------------------------------------------
# the build

def test_build_writes_every_page(built):
    for rel in notebooks():
        assert page_for(rel).exists() or (DOCS / Path(rel).with_suffix(".html")).exists(), f"no page for nbs/{rel}"
    assert (DOCS / "site.css").exists()
    assert "docs:" in built["log"] and "pages in" in built["log"]


def test_pages_are_offline_and_math_is_mathml(built):
    "No page loads anything from the network, and every equation became MathML (none left as raw TeX)."
    pages = sorted(DOCS.rglob("*.html"))
    assert pages
    for p in pages:
        s = p.read_text(encoding="utf-8")
        remote = re.findall(r'<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)="(?:https?:)?//[^"]*"', s)
        assert not remote, f"{p.relative_to(ROOT)} loads remote resources: {remote[:3]}"
        raw = re.findall(r'<span class="math (?:inline|display)">(.{0,80})', s)
        assert not raw, f"{p.relative_to(ROOT)}: TeX pandoc could not turn into MathML: {raw[:3]}"
    assert any("<math" in p.read_text(encoding="utf-8") for p in pages), "no equation rendered anywhere"


def test_readme_from_index(built):
    md = built["readme"].read_text(encoding="utf-8")
    assert md.startswith(f"# {nb_title('index.ipynb')}\n")
    assert "DO NOT EDIT" in md and "```" in md
    assert "quarto" not in md.lower().replace("_quarto.yml", "")


def mini_project(tmp_path, nbs):
    "A throw-away project with this repo's docs configuration and builder, and the notebooks `nbs` {path: cells}."
    for f in ("pyproject.toml", "_quarto.yml", "nbs/_quarto.yml", "nbs/sidebar.yml", "nbs/styles.css",
              "tools/build_docs.py"):
        (tmp_path / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, tmp_path / f)
    for rel, cells in nbs.items():
        nb = {"cells": [{"cell_type": c[0], "metadata": {}, "source": c[1],
                         **({"outputs": list(c[2:]), "execution_count": None} if c[0] == "code" else {})}
                        for c in cells],
              "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
              "nbformat": 4, "nbformat_minor": 5}
        (tmp_path / "nbs" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "nbs" / rel).write_text(json.dumps(nb))
    return tmp_path


def test_outputs_equations_and_links_render(tmp_path):
    "Stored outputs (stream, image, html, plain), equations and links between notebooks reach the page."
    import base64, io
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1, 2], [0, 1, 0])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    png = base64.b64encode(buf.getvalue()).decode()
    proj = mini_project(tmp_path, {
        "index.ipynb": [("markdown", "# Mini\n> A small site."), ("markdown", "See [the guide](tutorials/01_guide.ipynb).")],
        "tutorials/01_guide.ipynb": [
            ("markdown", "# Guide\n> Outputs of every kind."),
            ("markdown", "Depth $\\delta = (R_p/R_\\star)^2$ and $$\\sigma^{\\rm true}_j = 10^{-5}.$$"),
            ("code", "print('hello')", {"output_type": "stream", "name": "stdout", "text": "hello\n"}),
            ("code", "plt.plot()", {"output_type": "display_data", "metadata": {},
                                    "data": {"image/png": png, "text/plain": "<Figure>"}}),
            ("code", "df", {"output_type": "execute_result", "execution_count": None, "metadata": {},
                            "data": {"text/html": "<table class='dataframe'><tr><td>42</td></tr></table>",
                                     "text/plain": "42"}}),
            ("code", "#| echo: false\n1 + 1", {"output_type": "execute_result", "execution_count": None,
                                                "metadata": {}, "data": {"text/plain": "2"}})]})
    r = subprocess.run([sys.executable, "tools/build_docs.py"], cwd=proj, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    page = (proj / "_docs" / "tutorials" / "guide.html").read_text(encoding="utf-8")   # nbdev drops the number
    assert "<math" in page and 'class="math' not in page                  # all MathML, no raw TeX left
    assert ">hello" in page and "<td>42</td>" in page and "1 + 1" not in page
    img = re.search(r'<img src="(guide_files/[^"]+\.png)"', page)
    assert img and (proj / "_docs" / "tutorials" / img.group(1)).exists()
    index = (proj / "_docs" / "index.html").read_text(encoding="utf-8")
    assert 'href="tutorials/guide.html"' in index                          # .ipynb link became the page
    readme = (proj / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# Mini\n") and "tutorials/guide.html" in readme   # hosted link, like nbdev's filter


def test_failing_notebook_fails_the_build(tmp_path):
    "A notebook that breaks nbdev's docs processing makes the builder exit 1, naming notebook and error."
    proj = mini_project(tmp_path, {"api/00_broken.ipynb": [
        ("markdown", "# broken\n> A notebook whose docs processing fails."),
        ("code", '#| export\ndef twice(x): "Double `x`."; return 2 * x'),
        ("code", "import os\nprint(name_defined_nowhere)")]})
    r = subprocess.run([sys.executable, "tools/build_docs.py", "--readme", ""], cwd=proj,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "nbs/api/00_broken.ipynb" in r.stderr and "NameError" in r.stderr and "name_defined_nowhere" in r.stderr


# ------------------------------------------------------------------------------------------------------------
# in the browser

@needs_chromium
def test_index_in_browser(index_dom):
    d = index_dom
    assert d.title.strip() == nb_title("index.ipynb")
    got = [(text.strip(), posixpath_dir(href)) for href, text in d.sidebar]
    assert got == expected_sidebar(), "sidebar does not list every notebook in notebook order"
    for href, _ in d.sidebar: assert (DOCS / href).exists(), f"sidebar link {href} leads nowhere"
    assert {"sidebar", "content", "TOC"} <= d.ids
    assert len(d.content()) > 200
    screenshot(DOCS / "index.html", DOCS / "screenshot_index.png")


@needs_chromium
def test_api_page_in_browser(built):
    page = page_for("api/01_contracts.ipynb")
    d = dom(page)
    title = nb_title("api/01_contracts.ipynb")
    assert d.title.strip().startswith(title) and d.title.strip() != title   # 'contracts – spectramind'
    text = d.content()
    assert "def CalFrames(" in text and "instrument:str" in text       # show_doc signature
    assert "validate" in text                                           # the contracts' check method, in examples
    assert "calframes" in d.ids and "rawobs" in d.ids                   # headings link like nbdev/Quarto anchors
    assert [t.strip() for _, t in d.sidebar] == [t for t, _ in expected_sidebar()]
    active = re.search(r'<a href="contracts.html" class="active"', page.read_text(encoding="utf-8"))
    assert active, "the current page is not marked in the sidebar"
    screenshot(page, DOCS / "screenshot_api.png")


@needs_chromium
def test_core_page_signature_in_browser(built):
    text = dom(page_for("api/00_core.ipynb")).content()
    assert "def frame_shape(" in text and "instrument:str" in text and "Detector frame shape" in text
