"""PDF rendering with WeasyPrint: plain data in, bytes out, and no network access.

WeasyPrint is imported on first use: it takes about half a second to import, and most processes
(workers that never render a PDF, the CLI, each test process) do not need it.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template

_fetcher_class = None


def _local_only_fetcher_class():
    global _fetcher_class
    if _fetcher_class is None:
        from weasyprint.urls import URLFetcher

        class LocalOnlyFetcher(URLFetcher):
            """Fetch only data: URLs and files inside the app's static folder; refuse everything else."""

            def __init__(self, static_root: str | Path):
                super().__init__(allowed_protocols=("data", "file"), allow_redirects=False, timeout=2)
                self.static_root = Path(static_root).resolve()

            def fetch(self, url, headers=None):
                if url.startswith("file:"):
                    path = Path(unquote(urlsplit(url).path)).resolve()
                    if not path.is_relative_to(self.static_root) or not path.is_file():
                        raise ValueError("only local static files may be loaded into a PDF")
                elif not url.startswith("data:"):
                    raise ValueError("only data: URLs and local static files may be loaded into a PDF")
                return super().fetch(url, headers)

        _fetcher_class = LocalOnlyFetcher
    return _fetcher_class


def LocalOnlyFetcher(static_root: str | Path):  # noqa: N802 - builds the class above on first use
    """A WeasyPrint URL fetcher that loads only data: URLs and files inside ``static_root``."""
    return _local_only_fetcher_class()(static_root)


def render_pdf(template: str, **context) -> bytes:
    """Render a template from templates/pdf/ to PDF; ``context`` must be plain data."""
    from weasyprint import HTML

    html = render_template(template, **context)
    static_root = Path(current_app.static_folder)
    fetcher = LocalOnlyFetcher(static_root)
    return HTML(string=html, base_url=static_root.as_uri() + "/", url_fetcher=fetcher).write_pdf()
