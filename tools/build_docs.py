#!/usr/bin/env python
"""Build the documentation site `_docs/` and README.md from the notebooks, offline and without Quarto.

    python tools/build_docs.py [--out _docs] [--readme README.md] [--force]

Step 1 is nbdev's own docs processing, the one `nbdev-docs` does before it calls Quarto: each notebook under
nbs/ becomes `_proc/<same path>` with show_doc cells added and executed (with the import and export cells they
need), hidden and exported cells removed, links to documented names added and the title cell turned into
frontmatter. Step 2 turns each processed notebook into pandoc markdown and renders it with pandoc (from the
`pypandoc-binary` wheel, or `pandoc` on PATH) as HTML with MathML equations, a sidebar in notebook order (read
from nbs/sidebar.yml, whose `auto` globs pick up new notebooks) and a table of contents. README.md is rendered
from nbs/index.ipynb as GitHub-flavoured markdown. Nothing is fetched from the network.

Up-to-date notebooks are not processed again (nbdev's `_proc/` cache, keyed on file times); `--force` redoes all.
Exit status: 0 on success, 1 when a notebook fails to process or pandoc fails, 2 on a configuration problem.
"""
import argparse
import base64
import hashlib
import html
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
_SELF_HASH = hashlib.sha1(Path(__file__).read_bytes()).hexdigest()   # a changed builder renders every page again
IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}
_re_opt = re.compile(r"^#\|\s*([\w-]+)\s*:\s*(.*?)\s*$")
_re_ansi = re.compile(r"\x1B(?:[@-Z\\-_]|\[[0-?]*[ -/]*[@-~])")
_re_num = re.compile(r"^\d+[a-zA-Z0-9]*_")


class BuildError(Exception):
    "A failure the builder reports with a clear message and a non-zero exit status."

    def __init__(self, msg, code=1): super().__init__(msg); self.code = code


@dataclass
class Page:
    src: str            # notebook path relative to nbs/, posix, e.g. 'api/01_contracts.ipynb'
    out: str            # html path relative to the output folder, e.g. 'api/contracts.html'
    title: str = ""
    description: str = ""
    nb: dict = field(default_factory=dict, repr=False)


def write_atomic(path, data):
    "Write `data` (str or bytes) to `path` through a temporary file, so a reader never sees a half-written page."
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    os.replace(tmp, path)
    return path


# ---------------------------------------------------------------------------------------------------------
# Configuration and notebook discovery

def check_quarto_copies(root):
    "The root _quarto.yml and nbs/_quarto.yml must be identical (see the comment at the top of _quarto.yml)."
    a, b = root / "_quarto.yml", root / "nbs" / "_quarto.yml"
    if not b.exists(): raise BuildError(f"{b} is missing: run `cp _quarto.yml nbs/_quarto.yml`", 2)
    if a.exists() and a.read_bytes() != b.read_bytes():
        raise BuildError("_quarto.yml and nbs/_quarto.yml differ; edit the root copy, then run "
                         "`cp _quarto.yml nbs/_quarto.yml`", 2)


def find_notebooks(nbs):
    "Notebooks under `nbs` as posix paths relative to it, as nbdev finds them (no `_*`/`.*` files or folders)."
    from nbdev.doclinks import nbglob
    return sorted(Path(f).relative_to(nbs).as_posix() for f in nbglob(nbs, skip_folder_re=r"^[_.]"))


def _title_from_name(src):
    return _re_num.sub("", Path(src).stem)


def _out_name(src, fm):
    "Output html path like Quarto's: the frontmatter's `output-file` (nbdev sets it) in the notebook's folder."
    name = fm.get("output-file") or Path(src).with_suffix(".html").name
    return posixpath.join(posixpath.dirname(src), name)


def sidebar_items(sidebar_yml, notebooks):
    """Expand nbs/sidebar.yml (Quarto sidebar: paths, `auto` globs, sections) into a tree of notebook paths.
    Returns a list of str (notebook) and dicts {'section', 'href', 'contents'}; notebooks no entry matches are
    appended in an 'Other' section."""
    spec = yaml.safe_load(sidebar_yml.read_text()) if sidebar_yml.exists() else None
    contents = ((spec or {}).get("website") or {}).get("sidebar") or {}
    contents = contents.get("contents") if isinstance(contents, dict) else None
    if contents is None: contents = [{"auto": "*.ipynb"}, {"auto": "**"}]   # no sidebar.yml: folders in name order
    nbset, seen = set(notebooks), set()

    def take(paths):
        res = [p for p in paths if p in nbset and p not in seen]
        seen.update(res)
        return res

    def expand(entries):
        res = []
        for e in entries if isinstance(entries, list) else [entries]:
            if isinstance(e, str): res += take([posixpath.normpath(e)])
            elif not isinstance(e, dict): continue
            elif "auto" in e:
                pats = e["auto"] if isinstance(e["auto"], list) else [e["auto"]]
                for pat in pats:
                    pat = "**" if pat is True else str(pat).lstrip("/")
                    if not pat.endswith(".ipynb") and "*" not in pat.rsplit("/", 1)[-1]: pat = pat.rstrip("/") + "/*"
                    # Quarto's `*` stays inside one folder; `**` crosses folders
                    rx = re.escape(pat).replace(r"\*\*", ".*").replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
                    res += take([p for p in notebooks if re.fullmatch(rx, p)])
            elif "contents" in e or "section" in e:
                href = posixpath.normpath(e["href"]) if e.get("href") else None
                href = href if href in nbset and take([href]) else None
                res.append({"section": e.get("section") or e.get("text") or "", "href": href,
                            "contents": expand(e.get("contents") or [])})
            elif "href" in e: res += take([posixpath.normpath(e["href"])])
        return res

    items = expand(contents)
    rest = [p for p in notebooks if p not in seen]
    if rest: items.append({"section": "Other", "href": None, "contents": rest})
    return items, rest


def flatten(items):
    for it in items:
        if isinstance(it, str): yield it
        else:
            if it.get("href"): yield it["href"]
            yield from flatten(it["contents"])


# ---------------------------------------------------------------------------------------------------------
# Step 1: nbdev's processing into _proc/

def process_notebooks(cfg, notebooks, force):
    "Run nbdev's docs processing (`nbdev.serve.proc_nbs`) one notebook at a time; collect every failure."
    from nbdev.serve import proc_nbs
    failures, done, notes = [], [], []
    for i, src in enumerate(notebooks):
        t0 = time.time()
        proc = cfg.config_path / "_proc" / src
        old = proc.stat().st_mtime if proc.exists() else None
        try:
            with warnings.catch_warnings(record=True) as ws:
                warnings.simplefilter("always")
                # file_glob selects this notebook (other files are only copied when newer); in-process, serial:
                # the package is imported once for all notebooks, which is faster than spawning workers
                proc_nbs(str(cfg.nbs_path), n_workers=0, force=force and i == 0, file_glob=Path(src).name)
            notes += [(src, _warning_line(w)) for w in ws if issubclass(w.category, UserWarning)]
        except Exception as e:  # nbdev raises a plain Exception naming the cell
            failures.append((src, f"{type(e).__name__}: {e}"))
            continue
        finally:
            os.environ.pop("IN_TEST", None)   # nbdev sets it while processing; a failure leaves it set
        if not proc.exists(): failures.append((src, "nbdev wrote no processed notebook"))
        elif proc.stat().st_mtime != old: done.append((src, time.time() - t0))
    return done, failures, notes


def _warning_line(w):
    "One line for a warning nbdev raised while processing (its mixed-imports warning quotes the whole cell)."
    msg = str(w.message)
    m = re.search(r"Found cells containing imports and other code.*?\n---\n(.*?)\n", msg, flags=re.S)
    if m: return f"a cell mixing imports and other code is run by docs processing: `{m.group(1).strip()}` ..."
    return f"{w.category.__name__}: {msg.splitlines()[0] if msg else ''}"


def read_proc(cfg, src):
    nb = json.loads((cfg.config_path / "_proc" / src).read_text(encoding="utf-8"))
    fm = {}
    cells = nb.get("cells", [])
    if cells and cells[0]["cell_type"] == "raw":
        s = _src(cells[0]).strip()
        m = re.match(r"^---\s*\n(.*?)\n---\s*$", s, flags=re.S)
        if m:
            fm = yaml.safe_load(m.group(1)) or {}
            cells = cells[1:]
    nb["cells"] = cells
    return nb, fm


# ---------------------------------------------------------------------------------------------------------
# Step 2: processed notebook -> pandoc markdown

_re_fontsw = re.compile(r"\{\\(rm|bf|it|sf|tt|cal)\s+([^{}$]*)\}")


def tex_compat(md):
    "Old TeX font switches `{\\rm x}` become `\\mathrm{x}`, which pandoc's MathML writer understands."
    return _re_fontsw.sub(lambda m: f"\\math{m.group(1)}{{{m.group(2).strip()}}}", md)


def _src(c):
    s = c.get("source", "")
    return "".join(s) if isinstance(s, list) else (s or "")


def _text(v): return "".join(v) if isinstance(v, list) else str(v)


def fence(text, info=""):
    "A fenced code block longer than any backtick run inside `text`."
    n = max([3] + [len(m) + 1 for m in re.findall(r"`{3,}", text)])
    return f"{'`' * n}{info}\n{text.rstrip()}\n{'`' * n}"


def cell_options(src):
    "Quarto `#| key: value` options at the top of a code cell, and the code without them."
    lines, opts, i = src.splitlines(), {}, 0
    while i < len(lines) and lines[i].lstrip().startswith("#|"):
        m = _re_opt.match(lines[i].strip())
        if m: opts[m.group(1)] = m.group(2).strip("'\"").lower() if m.group(1) != "code-summary" else m.group(2).strip("'\"")
        i += 1
    return opts, "\n".join(lines[i:]).strip("\n")


class MdWriter:
    "Turns one processed notebook into pandoc markdown for `fmt` 'html' (site pages) or 'gfm' (README)."

    def __init__(self, fmt, files_dir):
        self.fmt, self.files_dir, self.files = fmt, files_dir, {}   # files: path relative to the page -> bytes

    def block(self, md, classes):
        if self.fmt == "gfm" or not classes: return md
        return f"::::::: {{{' '.join('.' + c for c in classes)}}}\n{md}\n:::::::"

    def code(self, text, lang="", classes=()):
        if self.fmt == "gfm": return fence(text, lang)
        cls = ([lang] if lang else []) + list(classes)
        return fence(text, " {" + " ".join("." + c for c in cls) + "}" if cls else "")

    def image(self, data, ext, ci, oi):
        rel = f"{self.files_dir}/figure-{'commonmark' if self.fmt == 'gfm' else 'html'}/cell-{ci}-output-{oi}{ext}"
        self.files[rel] = data
        return f"![]({rel})"

    def output(self, o, ci, oi, asis=False):
        t = o.get("output_type")
        if t == "stream":
            txt = _re_ansi.sub("", _text(o.get("text", "")))
            if not txt.strip(): return ""
            return self.block(self.code(txt, classes=["output"]), ["cell-output", f"cell-output-{o.get('name', 'stdout')}"])
        if t == "error":
            tb = _re_ansi.sub("", "\n".join(o.get("traceback") or [f"{o.get('ename')}: {o.get('evalue')}"]))
            return self.block(self.code(tb, classes=["output"]), ["cell-output", "cell-output-error"])
        d = o.get("data", {})
        if "text/markdown" in d:   # `output: asis` (show_doc) goes into the page as it is, like Quarto does
            return _text(d["text/markdown"]) if asis else self.block(_text(d["text/markdown"]), ["cell-output", "cell-output-markdown"])
        if "text/html" in d:
            return self.block(fence(_text(d["text/html"]), "{=html}"), ["cell-output", "cell-output-display"])
        if "image/svg+xml" in d: return self.block(self.image(_text(d["image/svg+xml"]).encode(), ".svg", ci, oi), ["cell-output", "cell-output-display"])
        for mime, ext in (("image/png", ".png"), ("image/jpeg", ".jpg"), ("image/gif", ".gif")):
            if mime in d:
                return self.block(self.image(base64.b64decode(_text(d[mime])), ext, ci, oi), ["cell-output", "cell-output-display"])
        if "text/latex" in d:
            s = _text(d["text/latex"]).strip()
            if not s.startswith("$"): s = f"$${s}$$"
            return self.block(s, ["cell-output", "cell-output-display"])
        if "text/plain" in d:
            return self.block(self.code(_text(d["text/plain"]), classes=["output"]), ["cell-output", "cell-output-display"])
        return ""

    def cell(self, c, ci):
        if c["cell_type"] == "markdown": return tex_compat(_src(c).strip())
        if c["cell_type"] == "raw": return _src(c).strip()
        opts, code = cell_options(_src(c))
        if opts.get("include") == "false": return ""
        parts = []
        if code.strip() and opts.get("echo") != "false":
            src = self.code(code, "python", ["cell-code"])
            if opts.get("code-fold") in ("true", "show") and self.fmt == "html":
                summary = html.escape(opts.get("code-summary") or "Code")
                src = (f"<details{' open' if opts['code-fold'] == 'show' else ''}>\n<summary>{summary}</summary>"
                       f"\n\n{src}\n\n</details>")
            parts.append(src)
        asis = opts.get("output") == "asis"
        if opts.get("output") != "false":
            parts += [m for oi, o in enumerate(c.get("outputs", [])) if (m := self.output(o, ci, oi, asis))]
        if not parts: return ""
        return self.block("\n\n".join(parts), ["cell", "doc"] if asis and opts.get("echo") == "false" else ["cell"])

    def notebook(self, nb):
        return "\n\n".join(m for ci, c in enumerate(nb["cells"]) if (m := self.cell(c, ci)))


# ---------------------------------------------------------------------------------------------------------
# Pandoc, page assembly, links

def pandoc_path():
    try:
        import pypandoc
        return pypandoc.get_pandoc_path()
    except Exception:
        p = shutil.which("pandoc")
        if p: return p
    raise BuildError("pandoc not found: install the `pypandoc-binary` wheel (`pip install pypandoc-binary`) "
                     "or a system pandoc", 2)


def run_pandoc(pandoc, args, text, what):
    r = subprocess.run([pandoc, *args], input=text, capture_output=True, text=True, encoding="utf-8")
    if r.returncode: raise BuildError(f"pandoc failed on {what} (exit {r.returncode}):\n{r.stderr.strip()}")
    for line in r.stderr.splitlines():
        if line.startswith("[WARNING]"): print(f"note: {what}: pandoc {line}")
    return r.stdout


TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="nbdev + pandoc (tools/build_docs.py)">
$if(description-meta)$<meta name="description" content="$description-meta$">$endif$
<title>$pagetitle$</title>
<link rel="stylesheet" href="$root$site.css">
$if(highlighting-css)$<style>
$highlighting-css$
</style>$endif$
</head>
<body>
<header class="site-header"><a class="site-title" href="$root$index.html">$sitetitle$</a></header>
<div class="page">
<nav id="sidebar" aria-label="Notebooks">
@@SIDEBAR@@
</nav>
<main id="content">
<header id="title-block-header">
<h1 class="title">$title$</h1>
$if(description)$<p class="description">$description$</p>$endif$
</header>
$body$
</main>
$if(toc)$<nav id="TOC" aria-label="On this page">
<h2 id="toc-title">On this page</h2>
$table-of-contents$
</nav>$endif$
</div>
</body>
</html>
"""

LAYOUT_CSS = """/* Layout of the offline site written by tools/build_docs.py; nbs/styles.css follows. */
:root { --fg: #212529; --muted: #6c757d; --accent: #2780e3; --border: #dee2e6; --code-bg: #f6f8fa; }
* { box-sizing: border-box; }
html { font-size: 16px; }
body { margin: 0; color: var(--fg); background: #fff; line-height: 1.55;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
.site-header { background: var(--accent); padding: .55rem 1.25rem; }
.site-header .site-title { color: #fff; font-weight: 600; font-size: 1.15rem; }
.page { display: grid; grid-template-columns: 15rem minmax(0, 1fr) 13rem; gap: 2rem; max-width: 90rem;
  margin: 0 auto; padding: 0 1.25rem; }
#sidebar { position: sticky; top: 0; align-self: start; max-height: 100vh; overflow-y: auto; padding: 1.25rem 0;
  font-size: .92rem; border-right: 1px solid var(--border); }
#sidebar ul { list-style: none; margin: 0; padding-left: 0; }
#sidebar ul ul { padding-left: .8rem; }
#sidebar li { margin: .1rem 0; }
#sidebar a { display: block; padding: .12rem .6rem; color: var(--fg); border-radius: .25rem; }
#sidebar a:hover { background: #eef4fc; text-decoration: none; }
#sidebar a.active { color: var(--accent); font-weight: 600; background: #eef4fc; }
#sidebar .section-title { display: block; margin-top: .8rem; padding: .1rem .6rem; font-weight: 600;
  color: var(--muted); text-transform: uppercase; font-size: .78rem; letter-spacing: .04em; }
main#content { min-width: 0; padding: 1.25rem 0 4rem; }
#title-block-header { margin-bottom: 1.5rem; }
h1.title { font-size: 2.2rem; margin: .2rem 0 .4rem; }
h2 { margin-top: 2rem; padding-bottom: .2rem; border-bottom: 1px solid var(--border); }
h3 { margin-top: 1.4rem; }
#TOC { position: sticky; top: 0; align-self: start; max-height: 100vh; overflow-y: auto; padding: 1.25rem 0;
  font-size: .85rem; }
#TOC h2 { font-size: .9rem; margin: 0 0 .4rem; border: 0; }
#TOC ul { list-style: none; margin: 0; padding-left: .7rem; border-left: 1px solid var(--border); }
#TOC ul ul { border-left: 0; }
#TOC a { color: var(--muted); }
pre, code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: .87rem; }
code { background: var(--code-bg); padding: .1rem .25rem; border-radius: .2rem; }
pre { background: var(--code-bg); padding: .65rem .8rem; border-radius: .3rem; overflow-x: auto; margin: .4rem 0; }
pre code { background: none; padding: 0; white-space: pre; }
div.sourceCode { margin: .4rem 0; }
.cell { margin-bottom: 1rem; }
.cell-output pre { background: #fff; border-left: 2px solid lightsalmon; border-radius: 0; padding: .3rem .8rem;
  margin-left: .8rem; }
.cell-output-error pre { border-left-color: #d9534f; }
.cell.doc { border: 1px solid var(--border); border-radius: .35rem; padding: .3rem 1rem .6rem; margin: 1.2rem 0;
  box-shadow: 0 1px 2px rgba(0,0,0,.05); }
.cell.doc hr { display: none; }
.cell.doc pre { background: var(--code-bg); border: 0; border-radius: .3rem; margin: .4rem 0; padding: .6rem .8rem; }
.cell.doc pre code { white-space: pre-wrap; }
.cell.doc a[target="_blank"] { font-size: .85rem; }
.cell.doc h3, .cell.doc h4 { margin-top: .5rem; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.cell.doc .cell-output-markdown > p:last-child em { color: #444; }
details > summary { cursor: pointer; color: var(--muted); font-size: .9rem; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .92rem; }
th, td { border: 1px solid var(--border); padding: .3rem .6rem; text-align: left; vertical-align: top; }
thead th { background: #f1f3f5; }
blockquote { margin: .8rem 0; padding: .2rem 1rem; border-left: 3px solid var(--border); color: var(--muted); }
img { max-width: 100%; }
math[display="block"] { margin: .8rem 0; padding: .25rem 0; overflow-x: auto; overflow-y: hidden; }
@media (max-width: 1100px) { .page { grid-template-columns: 13rem minmax(0, 1fr); } #TOC { display: none; } }
@media (max-width: 700px) { .page { display: block; } #sidebar { position: static; max-height: none; border: 0; } }
"""


def sidebar_html(items, pages, here):
    "Sidebar for the page at output path `here` (relative links, the current page marked active)."
    here_dir = posixpath.dirname(here)

    def link(src):
        p = pages[src]
        cls = ' class="active" aria-current="page"' if p.out == here else ""
        return f'<a href="{posixpath.relpath(p.out, here_dir or ".")}"{cls}>{html.escape(p.title)}</a>'

    def ul(items):
        out = []
        for it in items:
            if isinstance(it, str): out.append(f"<li>{link(it)}</li>")
            elif not it.get("href") and not any(flatten(it["contents"])): continue   # an empty folder
            else:
                head = (link(it["href"]).replace("<a ", '<a class="section-title" ', 1) if it.get("href")
                        else f'<span class="section-title">{html.escape(it["section"])}</span>')
                out.append(f'<li class="sidebar-section">{head}{ul(it["contents"]) if it["contents"] else ""}</li>')
        return "<ul>" + "".join(out) + "</ul>"

    return ul(items)


def fix_links(text, page, pages, doc_url):
    "Hosted doc URLs and links to notebooks become relative links to the local pages."
    by_src = {p.src: p.out for p in pages.values()}
    here_dir = posixpath.dirname(page.out) or "."
    src_dir = posixpath.dirname(page.src)

    def sub(m):
        attr, url = m.group(1), html.unescape(m.group(2))
        path, frag = (url.split("#", 1) + [""])[:2]
        if doc_url and path.startswith(doc_url):
            target = path[len(doc_url):].lstrip("/") or "index.html"
            if target.endswith(".html.md") or target.endswith(".md"): target = target[:-3] if target.endswith(".html.md") else target[:-3] + ".html"
            return f'{attr}="{html.escape(posixpath.relpath(target, here_dir) + ("#" + frag if frag else ""))}"'
        if not re.match(r"^[a-z][a-z0-9+.-]*:", path) and path.endswith(".ipynb"):
            tgt = posixpath.normpath(posixpath.join(src_dir, path))
            if tgt in by_src:
                return f'{attr}="{html.escape(posixpath.relpath(by_src[tgt], here_dir) + ("#" + frag if frag else ""))}"'
        return m.group(0)

    return re.sub(r'\b(href|src)="([^"]*)"', sub, text)


def render_page(pandoc, tmpl, page, items, pages, site_title, doc_url, out):
    w = MdWriter("html", Path(page.out).stem + "_files")
    meta = {"title": page.title, "pagetitle": page.title if page.src == "index.ipynb" else f"{page.title} – {site_title}"}
    if page.description: meta["description"] = page.description
    md = "---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---\n\n" + w.notebook(page.nb)
    root = posixpath.relpath(".", posixpath.dirname(page.out) or ".")
    args = ["-f", "markdown-implicit_figures", "-t", "html5", "--standalone", "--mathml",
            "--toc", "--toc-depth=3", "--syntax-highlighting=pygments", "-V", f"root={'' if root == '.' else root + '/'}",
            "-V", f"sitetitle={site_title}", "-M", f"description-meta={page.description}"]
    sidebar = sidebar_html(items, pages, page.out)
    dest = out / page.out
    for rel, data in w.files.items(): write_atomic(dest.parent / rel, data)
    # a page whose inputs are unchanged is not rendered again: the hash of everything that goes into it
    key = hashlib.sha1(json.dumps([md, args, sidebar, sorted((p.src, p.out) for p in pages.values()), doc_url,
                                   pandoc, TEMPLATE, _SELF_HASH]).encode()).hexdigest()
    stamp = f"<!-- build_docs {key} -->"
    if dest.exists():
        with open(dest, encoding="utf-8") as f:
            if stamp in f.read(300): return dest, False
    res = run_pandoc(pandoc, args + [f"--template={tmpl}"], md, f"nbs/{page.src}")
    res = res.replace("<!DOCTYPE html>", "<!DOCTYPE html>\n" + stamp, 1).replace("@@SIDEBAR@@", sidebar)
    res = fix_links(res, page, pages, doc_url)
    return write_atomic(dest, res), True


def render_readme(pandoc, cfg, page, dest):
    "README.md from the processed index notebook: GitHub markdown, links made absolute like nbdev's readme filter."
    from nbdev import readme_filter
    w = MdWriter("gfm", Path(page.src).stem + "_files")
    head = f"# {page.title}\n\n<!-- WARNING: THIS FILE WAS AUTOGENERATED! DO NOT EDIT! -->\n\n"
    if page.description: head += f"> {page.description}\n\n"
    body = w.notebook({"cells": [c for c in page.nb["cells"] if "DO NOT EDIT" not in _src(c)]})
    ast = json.loads(run_pandoc(pandoc, ["-f", "markdown-implicit_figures", "-t", "json"], head + body, "README"))
    if cfg.doc_url: readme_filter.rewrite_links(ast["blocks"], cfg.doc_url, posixpath.dirname(page.src) or ".")
    md = run_pandoc(pandoc, ["-f", "json", "-t", "gfm", "--wrap=preserve"], json.dumps(ast), "README")
    for rel, data in w.files.items(): write_atomic(dest.parent / rel, data)
    return [write_atomic(dest, md)] + [dest.parent / r for r in w.files]


# ---------------------------------------------------------------------------------------------------------

def build(out=None, readme="README.md", force=False, root=ROOT):
    t0 = time.time()
    os.chdir(root)                      # nbdev reads pyproject.toml from the working directory
    sys.path.insert(0, str(root))
    from nbdev.config import get_config
    from nbdev.quarto import refresh_quarto_yml
    cfg = get_config()
    check_quarto_copies(root)
    refresh_quarto_yml()                # nbs/nbdev.yml from pyproject.toml, as nbdev-docs does
    nbs = cfg.nbs_path
    out = Path(out) if out else cfg.doc_path
    if not out.is_absolute(): out = root / out
    site = yaml.safe_load((nbs / "nbdev.yml").read_text()).get("website", {})
    site_title = site.get("title") or cfg.lib_name
    pandoc = pandoc_path()

    notebooks = find_notebooks(nbs)
    if not notebooks: raise BuildError(f"no notebooks found under {nbs}", 2)
    items, unlisted = sidebar_items(nbs / "sidebar.yml", notebooks)
    for p in unlisted: print(f"note: nbs/{p} matches no entry of nbs/sidebar.yml; listed under 'Other'")
    order = list(flatten(items))

    done, failures, notes = process_notebooks(cfg, order, force)
    for src, secs in done: print(f"processed nbs/{src} ({secs:.1f} s)")
    for src, note in dict.fromkeys(notes): print(f"note: nbs/{src}: {note}")
    if failures:
        msg = "\n\n".join(f"nbs/{src}:\n  " + err.replace("\n", "\n  ") for src, err in failures)
        raise BuildError(f"{len(failures)} notebook(s) failed nbdev's docs processing:\n\n{msg}\n\n"
                         "Docs processing runs only import, export and show_doc cells (not tests or examples), "
                         "so a cell that mixes an import with other code runs without the cells before it. "
                         "Move the import lines of each cell shown above into the notebook's imports cell at the top.")
    t1 = time.time()

    pages = {}
    for src in order:
        nb, fm = read_proc(cfg, src)
        pages[src] = Page(src, _out_name(src, fm), str(fm.get("title") or _title_from_name(src)),
                          str(fm.get("description") or ""), nb)

    out.mkdir(parents=True, exist_ok=True)
    styles = nbs / "styles.css"
    write_atomic(out / "site.css", LAYOUT_CSS + "\n" + (styles.read_text() if styles.exists() else ""))
    for f in nbs.rglob("*"):                      # images referenced from markdown cells
        rel = f.relative_to(nbs)
        if f.suffix.lower() in IMAGE_EXTS and not any(s.startswith((".", "_")) for s in rel.parts):
            write_atomic(out / rel, f.read_bytes())
    written, unchanged = [out / "site.css"], 0
    with tempfile.TemporaryDirectory() as td:
        tmpl = Path(td) / "page.html"
        tmpl.write_text(TEMPLATE, encoding="utf-8")
        with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as ex:
            futs = [ex.submit(render_page, pandoc, tmpl, p, items, pages, site_title, cfg.doc_url, out)
                    for p in pages.values()]
            for f in futs:
                dest, new = f.result()
                if new: written.append(dest)
                else: unchanged += 1
    produced = {out / p.out for p in pages.values()}
    for f in sorted(out.rglob("*.html")):         # pages of notebooks that no longer exist
        if f not in produced and "<!-- build_docs " in f.read_text(encoding="utf-8", errors="replace")[:300]:
            f.unlink()
            print(f"removed {f.relative_to(root) if f.is_relative_to(root) else f} (its notebook is gone)")
    if readme:
        idx = pages.get(cfg.readme_nb)
        if idx is None: print(f"note: nbs/{cfg.readme_nb} not found; README not written")
        else:
            dest = Path(readme) if Path(readme).is_absolute() else root / readme
            written += render_readme(pandoc, cfg, idx, dest)
    for f in written:
        try: print(f"wrote {f.relative_to(root)}")
        except ValueError: print(f"wrote {f}")
    print(f"docs: {len(pages)} pages in {out}, {unchanged} of them unchanged (nbdev processing {t1 - t0:.1f} s, pandoc {time.time() - t1:.1f} s, "
          f"total {time.time() - t0:.1f} s)")
    return out, pages, items


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=None, help="output folder (default: doc_path of pyproject.toml, _docs)")
    ap.add_argument("--readme", default="README.md", help="README path to write from nbs/index.ipynb ('' to skip)")
    ap.add_argument("--force", action="store_true", help="process every notebook again, ignoring the _proc cache")
    a = ap.parse_args(argv)
    try: build(a.out, a.readme, a.force)
    except BuildError as e:
        print(f"build_docs: ERROR: {e}", file=sys.stderr)
        return e.code
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush(); sys.stderr.flush()
    # every file is written and closed; skip the ~2 s of atexit handlers of the IPython shells nbdev started
    os._exit(code)
