"""classroom/vendor.py: the pinned npm tarballs are checked and unpacked without the network."""

import base64
import hashlib
import io
import tarfile

import pytest

from classroom import vendor
from classroom.vendor import AXE_CORE, PACKAGES, NpmPackage, check_integrity, extract_files, fetch_tarball


def make_tarball(files: dict[str, bytes]) -> bytes:
    """An npm-style .tgz: every file under package/."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def integrity_of(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def test_integrity_accepts_the_right_digest_and_rejects_a_wrong_one():
    data = b"reveal.js tarball"
    check_integrity(data, integrity_of(data))
    with pytest.raises(ValueError, match="integrity mismatch"):
        check_integrity(data + b"tampered", integrity_of(data))


def test_integrity_rejects_a_digest_that_is_not_sha512():
    data = b"x"
    sha1 = "sha1-" + base64.b64encode(hashlib.sha1(data).digest()).decode()
    with pytest.raises(ValueError, match="sha512"):
        check_integrity(data, sha1)


def test_every_pin_is_an_exact_version_with_a_sha512_integrity():
    for package in (*PACKAGES, AXE_CORE):
        assert package.version.replace(".", "").isdigit(), package.name
        assert package.integrity.startswith("sha512-")
        # a sha512 digest is 64 bytes: 88 base64 characters
        assert len(package.integrity.removeprefix("sha512-")) == 88, package.name


def test_tarball_url_keeps_the_scope_in_the_path_only():
    package = NpmPackage("@jupyter-widgets/html-manager", "1.0.15", "sha512-", ("x",), "html-manager")
    assert package.tarball_url == \
        "https://registry.npmjs.org/@jupyter-widgets/html-manager/-/html-manager-1.0.15.tgz"


def test_extract_copies_only_the_matching_files(tmp_path):
    data = make_tarball({"dist/reveal.js": b"js", "dist/reveal.js.map": b"map", "README.md": b"doc"})
    written = extract_files(data, ("dist/*.js",), tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in written] == ["dist/reveal.js"]
    assert (tmp_path / "dist" / "reveal.js").read_bytes() == b"js"


def test_extract_fails_when_a_pattern_matches_nothing(tmp_path):
    data = make_tarball({"dist/reveal.js": b"js"})
    with pytest.raises(ValueError, match="plugin/notes/notes.js"):
        extract_files(data, ("dist/reveal.js", "plugin/notes/notes.js"), tmp_path)


def test_a_cached_tarball_is_used_without_the_network(tmp_path, monkeypatch):
    data = make_tarball({"require.js": b"define"})
    package = NpmPackage("requirejs", "2.3.7", integrity_of(data), ("require.js",), "requirejs")
    (tmp_path / package.cache_name).write_bytes(data)

    def no_network(*args, **kwargs):
        raise AssertionError("the registry was contacted although the tarball is cached")

    monkeypatch.setattr(vendor.urllib.request, "urlopen", no_network)
    assert fetch_tarball(package, tmp_path) == data


def test_a_corrupt_cached_tarball_is_refused(tmp_path):
    data = make_tarball({"require.js": b"define"})
    package = NpmPackage("requirejs", "2.3.7", integrity_of(data), ("require.js",), "requirejs")
    (tmp_path / package.cache_name).write_bytes(data[:-10])
    with pytest.raises(ValueError, match="integrity mismatch"):
        fetch_tarball(package, tmp_path)


def test_plotly_js_is_the_installed_plotly_packages_copy():
    path = vendor.plotly_js_path()
    assert path.name == "plotly.min.js" and path.stat().st_size > 1_000_000
