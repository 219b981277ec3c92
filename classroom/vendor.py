"""The JavaScript the slides and the course pack need, fetched once from the npm registry.

A classroom may have no internet, so every script a page loads is a local copy: reveal.js for the decks,
require.js (nbconvert's pages load modules with it), jQuery (nbconvert's deck template uses it), the
Jupyter widgets HTML manager (draws ipywidgets from their stored state), MathJax 2 (the lessons'
formulas) and ONNX Runtime Web (runs the course model in lesson 08's live sampler). plotly.js is not fetched: the plotly Python package ships it.

Each package is pinned to an exact version and to the sha512 ``integrity`` the registry publishes for its
tarball (``https://registry.npmjs.org/NAME/VERSION`` -> ``dist.integrity``); a download that does not match
is refused. Tarballs are cached, so only the first build needs the registry.
"""

import base64
import fnmatch
import hashlib
import importlib.resources
import io
import shutil
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"


@dataclass(frozen=True)
class NpmPackage:
    """One pinned npm package and the files of its tarball that a page loads.

    * `name` - the npm name, e.g. ``"@jupyter-widgets/html-manager"``
    * `version` - an exact version
    * `integrity` - the registry's ``dist.integrity`` of that version: ``"sha512-<base64 digest>"``
    * `files` - glob patterns of paths inside the tarball's ``package/`` folder to copy
    * `folder` - where the files go, relative to the static folder
    """

    name: str
    version: str
    integrity: str
    files: tuple[str, ...]
    folder: str

    @property
    def tarball_url(self) -> str:
        # Scoped packages keep the scope in the path but not in the file name.
        return f"{REGISTRY}/{self.name}/-/{self.name.split('/')[-1]}-{self.version}.tgz"

    @property
    def cache_name(self) -> str:
        return f"{self.name.replace('/', '__')}-{self.version}.tgz"


PACKAGES = (
    NpmPackage("reveal.js", "5.2.1",
               "sha512-r7//6mIM5p34hFiDMvYfXgyjXqGRta+/psd9YtytsgRlrpRzFv4RbH76TXd2qD+7ZPZEbpBDhdRhJaFgfQ7zNQ==",
               ("LICENSE", "dist/reveal.js", "dist/reveal.css", "dist/theme/white.css",
                "dist/theme/fonts/source-sans-pro/*", "plugin/notes/notes.js"),
               "reveal.js"),
    NpmPackage("requirejs", "2.3.7",
               "sha512-DouTG8T1WanGok6Qjg2SXuCMzszOo0eHeH9hDZ5Y4x8Je+9JB38HdTLT4/VA8OaUhBa0JPVHJ0pyBkM1z+pDsw==",
               ("README.md", "require.js"), "requirejs"),
    NpmPackage("jquery", "3.7.1",
               "sha512-m4avr8yL8kmFN8psrbFFFmB/If14iN5o9nw/NgnnM+kybDJpRsAynV2BsfpTYrTRysYUdADVD7CkUUizgkpLfg==",
               ("LICENSE.txt", "dist/jquery.min.js"), "jquery"),
    # libembed-amd.js defines the manager and the standard widgets without rendering; our
    # course-widgets.js renders with it. The fonts are Font Awesome's (widget icons).
    NpmPackage("@jupyter-widgets/html-manager", "1.0.15",
               "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
               ("dist/libembed-amd.js", "dist/*.woff2", "dist/*.woff", "dist/embed.js.LICENSE.txt"),
               "html-manager"),
    # MathJax 2 (nbconvert's templates call its v2 API): the TeX input, the CommonHTML output and its fonts.
    NpmPackage("mathjax", "2.7.9",
               "sha512-NOGEDTIM9+MrsqnjPEjVGNx4q0GQxqm61yQwSK+/5S59i26wId5IC5gNu9/bu8+CCVl5p9G2IHcAl/wJa+5+BQ==",
               ("LICENSE", "MathJax.js", "config/TeX-AMS_CHTML-full.js", "config/Safe.js", "config/local/*", "extensions/*",
                "jax/input/TeX/*", "jax/element/*", "jax/output/CommonHTML/*", "jax/output/PreviewHTML/*",
                "localization/en/*", "fonts/HTML-CSS/TeX/woff/*"),
               "mathjax"),
    # The live sampler's runtime (classroom/static/course-sampler.js): the wasm-only build and its SIMD,
    # threaded WebAssembly. The package ships no LICENSE file; its package.json says MIT.
    NpmPackage("onnxruntime-web", "1.31.1",
               "sha512-5GeH+bWQ+HxM10z7erGlsWqryrwMbSvm/1tkIsKTT48g0fI19VXVVC435t4t7VsPdSQeS7NmuZPXrQ73k82URw==",
               ("package.json", "dist/ort.wasm.min.js", "dist/ort-wasm-simd-threaded.mjs",
                "dist/ort-wasm-simd-threaded.wasm"),
               "onnxruntime-web"),
)

# The accessibility audit of the browser tests (tests/browser/test_accessibility.py): fetched and checked the
# same way, but loaded by the tests only, never copied into a page.
AXE_CORE = NpmPackage("axe-core", "4.14.1",
                      "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",
                      ("LICENSE", "axe.min.js"), "axe-core")


def check_integrity(data: bytes, integrity: str) -> None:
    """Raise ``ValueError`` unless ``data`` has the sha512 digest written in ``integrity``.

    * `data` - the downloaded tarball
    * `integrity` - a subresource-integrity string, ``"sha512-<base64 digest>"``
    """
    algorithm, _, expected = integrity.partition("-")
    if algorithm != "sha512" or not expected:
        raise ValueError(f"integrity {integrity!r}: expected 'sha512-<base64 digest>' as the registry gives it")
    actual = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if actual != expected:
        raise ValueError(f"integrity mismatch: expected sha512-{expected}, got sha512-{actual}; "
                         "the download is corrupt or not the pinned version (delete the cached file to retry)")


def fetch_tarball(package: NpmPackage, cache: Path) -> bytes:
    """The package's tarball, from ``cache`` if it is there, else from the registry (then cached).

    Either way its integrity is checked against the pin.
    """
    cached = cache / package.cache_name
    if cached.exists():
        data = cached.read_bytes()
    else:
        print(f"fetching {package.tarball_url}")
        with urllib.request.urlopen(package.tarball_url, timeout=120) as response:
            data = response.read()
    check_integrity(data, package.integrity)
    if not cached.exists():
        cache.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(data)
    return data


def extract_files(data: bytes, patterns: tuple[str, ...], destination: Path) -> list[Path]:
    """Copy the tarball members matching ``patterns`` (paths under ``package/``) into ``destination``.

    Returns the written paths. Raises ``ValueError`` if a pattern matches nothing, so a renamed file in a
    new version fails the build instead of a page at view time.
    """
    written, unmatched = [], set(patterns)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive.getmembers():
            relative = member.name.removeprefix("package/")
            matched = [p for p in patterns if fnmatch.fnmatch(relative, p)]
            if not member.isfile() or not matched or ".." in Path(relative).parts:
                continue
            unmatched.difference_update(matched)
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.extractfile(member).read())
            written.append(target)
    if unmatched:
        raise ValueError(f"no file in the tarball matches {sorted(unmatched)}; update the package's patterns")
    return written


def plotly_js_path() -> Path:
    """plotly.min.js as shipped inside the installed plotly Python package (same version the lessons use)."""
    return Path(str(importlib.resources.files("plotly") / "package_data" / "plotly.min.js"))


def install_static(static: Path, cache: Path, packages: tuple[NpmPackage, ...] = PACKAGES) -> None:
    """Fill ``static`` with every pinned package's files and plotly.min.js: one copy per site or deck folder.

    * `static` - the output folder, e.g. ``build/site/_static``
    * `cache` - where downloaded tarballs are kept between builds
    """
    for package in packages:
        extract_files(fetch_tarball(package, cache), package.files, static / package.folder)
    shutil.copyfile(plotly_js_path(), static / "plotly.min.js")
