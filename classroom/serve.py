"""Serve a built course pack or deck folder on this machine, as lesson 08's live sampler needs.

    python -m classroom.serve build/site     # then open the printed URL; Ctrl-C stops it

A page opened as a file (``file://``) cannot read the model file beside it (browsers forbid it), so the sampler
needs a web server. Any static server works (``python -m http.server``, a school's web space, GitHub Pages);
the sampler then runs on one thread. This one also sends the two headers that make a page cross-origin
isolated (``Cross-Origin-Opener-Policy`` and ``Cross-Origin-Embedder-Policy``): only then may ONNX Runtime Web
run on several threads (benchmarks/browser_sampler.py measures the difference). Every file the pages load is in
the folder, so nothing is fetched from elsewhere.
"""

import argparse
import functools
import http.server
from pathlib import Path


class CoursePackHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files like ``http.server``, with the cross-origin isolation headers on every response."""

    def end_headers(self):
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        super().end_headers()


def course_server(folder: Path, port: int = 0, host: str = "127.0.0.1",
                  handler: type[CoursePackHandler] = CoursePackHandler) -> http.server.ThreadingHTTPServer:
    """A server for ``folder`` on ``host:port`` (port 0: any free one); call ``serve_forever`` on it."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"folder={str(folder)!r}: no such folder; build it first (`make site` or `make slides`) "
                         "and pass build/site or build/slides.")
    return http.server.ThreadingHTTPServer((host, port), functools.partial(handler, directory=str(folder)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="build/site or build/slides")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to serve a classroom's network")
    args = parser.parse_args(argv)
    server = course_server(args.folder, args.port, args.host)
    print(f"Serving {args.folder} on http://{args.host}:{server.server_port}/index.html (Ctrl-C stops it)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
