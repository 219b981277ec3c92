"""Build the classroom outputs of the lessons: reveal.js slide decks and the offline course pack.

    python -m classroom.build slides   # build/slides/: one deck per lesson, index.html
    python -m classroom.build site     # build/site/: one page per lesson, index.html

Both convert the committed notebooks with their stored outputs (nothing is executed) with nbconvert and
the templates in ``classroom/templates``. Every script a page loads is in the folder's ``_static/``
(fetched once by ``classroom.vendor``), so the folder works with no internet: copy it to a USB stick and
open ``index.html`` through any web server (``python -m http.server``), or open the files directly.
"""

import argparse
import html
import re
import shutil
import time
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter, SlidesExporter
from nbconvert.filters.markdown_mistune import markdown2html_mistune
from traitlets.config import Config

from classroom.browser_model import export_course_model
from classroom.precomputed import precomputed_scripts
from classroom.vendor import install_static

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = Path(__file__).parent / "templates"
COURSE_STATIC = Path(__file__).parent / "static"
NPM_CACHE = ROOT / "build" / "npm-cache"
PLOTLY_MIME = "application/vnd.plotly.v1+json"
LESSON_GLOB = "[0-9][0-9]_*.ipynb"
# A relative link from one lesson to another, e.g. (02_time_embedding.ipynb) or (04_assembly.ipynb#skips).
LESSON_LINK = re.compile(r'href="(\d\d_[A-Za-z0-9_]+)\.ipynb(#[^"]*)?"')


def lesson_paths(notebooks: Path) -> list[Path]:
    """The lesson notebooks (``NN_name.ipynb``) in ``notebooks``, in lesson order."""
    return sorted(notebooks.glob(LESSON_GLOB))


def lesson_summary(notebook: nbformat.NotebookNode) -> tuple[str, str]:
    """The lesson's title and a one-line description, read from its first markdown cell.

    The title is the cell's ``# `` heading; the description is the first sentence of the paragraph that
    follows it (markdown, may hold inline math).
    """
    first = next(cell for cell in notebook.cells if cell.cell_type == "markdown")
    heading, _, rest = first.source.strip().partition("\n")
    if not heading.startswith("# "):
        raise ValueError(f"the first markdown cell must start with a '# ' title, found {heading[:60]!r}")
    paragraph = " ".join(rest.strip().split("\n\n")[0].split())
    description = re.split(r"(?<=[.!?])\s", paragraph, maxsplit=1)[0]
    return heading[2:].strip(), description


def exporter_config(template: str) -> Config:
    """nbconvert settings shared by pages and decks: our template, and every script from ``_static/``."""
    config = Config()
    config.TemplateExporter.extra_template_basedirs = [str(TEMPLATES)]
    config.TemplateExporter.extra_template_paths = [str(TEMPLATES)]  # for the shared figure macros
    config.HTMLExporter.template_name = template
    # Plotly's own mimetype first: our templates draw it; nbconvert alone would print nothing.
    config.NbConvertBase.display_data_priority = [
        PLOTLY_MIME, *HTMLExporter().default_config.NbConvertBase.display_data_priority]
    config.HTMLExporter.require_js_url = "_static/requirejs/require.js"
    config.HTMLExporter.jquery_url = "_static/jquery/dist/jquery.min.js"
    config.HTMLExporter.mathjax_url = "_static/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"
    config.HTMLExporter.widget_renderer_url = "_static/course-widgets.js"
    # A deck is designed for a 1280x720 projector; every slide fits it (tests/browser/test_classroom_offline.py).
    config.SlidesExporter.reveal_url_prefix = "_static/reveal.js"
    config.SlidesExporter.reveal_theme = "white"  # its fonts ship with reveal.js; "simple" loads Google Fonts
    config.SlidesExporter.reveal_width = "1280"
    config.SlidesExporter.reveal_height = "720"
    config.SlidesExporter.reveal_number = "c/t"
    return config


def convert_lessons(exporter: HTMLExporter, notebooks: Path, out: Path, suffix: str, course_model: dict) -> list[dict]:
    """Convert every lesson with ``exporter`` into ``out/NN_name{suffix}``; links between lessons follow.

    ``course_model`` is the browser model's manifest (the live sampler's controls are built from it). The
    explorers listed in ``classroom.precomputed`` get their figures for every setting.
    Returns one entry per lesson: file name, title, description.
    """
    entries = []
    for path in lesson_paths(notebooks):
        notebook = nbformat.read(path, as_version=4)
        title, description = lesson_summary(notebook)
        precomputed = precomputed_scripts(path.stem, notebook)  # before the export: it sets sliders' stops
        body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": title},
                                                                   "course_model": course_model})
        head, end, tail = body.rpartition("</body>")
        body = head + precomputed + end + tail
        body = LESSON_LINK.sub(lambda match: f'href="{match[1]}{suffix}{match[2] or ""}"', body)
        (out / f"{path.stem}{suffix}").write_text(body, encoding="utf-8")
        entries.append({"file": f"{path.stem}{suffix}", "title": title, "description": description})
    return entries


def write_index(out: Path, entries: list[dict], heading: str, note: str) -> Path:
    """``out/index.html``: the lesson list, each title linked, with its one-line description."""
    items = "\n".join(
        f'<li><a href="{html.escape(e["file"])}">{html.escape(e["title"])}</a>'
        f'{markdown2html_mistune(e["description"])}</li>' for e in entries)
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{html.escape(heading)}</title>
<script src="_static/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"></script>
<script type="text/x-mathjax-config">
MathJax.Hub.Config({{tex2jax: {{inlineMath: [["$", "$"], ["\\\\(", "\\\\)"]], processEscapes: true}}}});
</script>
<link rel="stylesheet" href="_static/course-index.css">
</head>
<body>
<main>
<h1>{html.escape(heading)}</h1>
<p>{note}</p>
<ol class="lessons">
{items}
</ol>
</main>
</body>
</html>
"""
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def prepare_folder(out: Path, cache: Path) -> dict:
    """Empty ``out`` and fill ``out/_static`` with the fetched packages, plotly.js, our scripts and the course
    model exported for the browser (``_static/course-model/``, from the shipped weights). Returns the model's
    manifest."""
    if out.exists():
        shutil.rmtree(out)
    (out / "_static").mkdir(parents=True)
    install_static(out / "_static", cache)
    for path in COURSE_STATIC.iterdir():
        shutil.copyfile(path, out / "_static" / path.name)
    return export_course_model(out / "_static" / "course-model")


def build_site(notebooks: Path, out: Path, cache: Path = NPM_CACHE) -> list[dict]:
    """The offline course pack: a static page per lesson with its stored outputs, and an index."""
    course_model = prepare_folder(out, cache)
    entries = convert_lessons(HTMLExporter(config=exporter_config("course_html")), notebooks, out, ".html",
                              course_model)
    write_index(out, entries, "unet_lessons: the U-Net inside a diffusion model",
                "Every lesson with its stored outputs: figures and explorers work offline. Nothing runs but "
                "lesson 08's live sampler, which runs the course model in your browser; to change another "
                "explorer's control and see the model respond, open the notebooks in JupyterLab.")
    return entries


def build_slides(notebooks: Path, out: Path, cache: Path = NPM_CACHE) -> list[dict]:
    """A reveal.js deck per lesson (cells' ``slideshow.slide_type`` decides the slides), and an index."""
    course_model = prepare_folder(out, cache)
    entries = convert_lessons(SlidesExporter(config=exporter_config("course_slides")), notebooks, out,
                              ".slides.html", course_model)
    write_index(out, entries, "unet_lessons: slides",
                "One deck per lesson. Arrow keys move between slides; <kbd>S</kbd> opens the speaker notes; "
                "<kbd>Esc</kbd> shows the overview.")
    return entries


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["site", "slides"])
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks")
    parser.add_argument("--out", type=Path, help="default: build/site or build/slides")
    args = parser.parse_args(argv)
    out = args.out or ROOT / "build" / args.what
    start = time.perf_counter()
    build = build_site if args.what == "site" else build_slides
    entries = build(args.notebooks, out)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"{len(entries)} lessons -> {out} ({size / 2**20:.1f} MiB) in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
