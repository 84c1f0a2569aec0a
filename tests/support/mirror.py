"""A local download mirror: tiny gzipped IDX files under MNIST's names, served on 127.0.0.1."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import replace
from http.server import BaseHTTPRequestHandler

from mnist_tui.datasets import MNIST, DataFile
from tests.support.data import idx_bytes, tiny_arrays


def tiny_files() -> tuple[tuple[DataFile, ...], dict[str, bytes]]:
    """Four tiny gzipped IDX files under MNIST's names, and specs whose checksums match them."""
    payloads, specs = {}, []
    for spec, array in zip(MNIST.files, tiny_arrays()):
        body = gzip.compress(idx_bytes(array))
        payloads[spec.gz_name] = body
        specs.append(replace(spec, md5=hashlib.md5(body).hexdigest(), size=len(body)))
    return tuple(specs), payloads


FILES, PAYLOADS = tiny_files()


class Handler(BaseHTTPRequestHandler):
    """``/good/NAME`` serves the file; ``/bad/`` a corrupted copy; ``/500/``, ``/404/``; ``/stall/`` hangs mid-body."""

    def do_GET(self):
        mode, _, name = self.path.strip("/").partition("/")
        self.server.hits.append(self.path)
        body = PAYLOADS.get(name)
        if body is None or mode == "404":
            self.send_error(404, "Not Found")
            return
        if mode == "500":
            self.send_error(500, "Internal Server Error")
            return
        if mode == "bad":
            body = body[:-1] + bytes([body[-1] ^ 0xFF])
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "stall":
            self.wfile.write(body[:10])
            self.wfile.flush()
            self.server.release.wait(5)
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass
