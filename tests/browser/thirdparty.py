"""A stand-in third party for the browser tests: a loopback server that records requests."""

from __future__ import annotations

import http.server
import threading

from collabdocs.devservers import free_port


class Recorder:
    """A loopback HTTP server that records the paths it is asked for."""

    def __init__(self) -> None:
        self.port = free_port()
        self.paths: list[str] = []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                recorder.paths.append(self.path)
                body = b"window.__pwned = true;" if self.path.endswith(".js") else b"x"
                self.send_response(200)
                self.send_header(
                    "Content-Type",
                    "application/javascript" if self.path.endswith(".js") else "text/html",
                )
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def origin(self) -> str:
        """Return the server's origin, e.g. ``http://127.0.0.1:54321``."""
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        """Stop serving and free the port."""
        self.server.shutdown()
        self.server.server_close()
