"""A local fake Xinjiang government site for crawler and end-to-end tests.

Import it as ``from fakesite import serve_fake_site`` (pytest puts ``tests/`` on the path).
"""

from .server import (
    FakeServer,
    FakeSite,
    Response,
    article_html,
    docx_bytes,
    government_site,
    hexid,
    one_source_toml,
    pdf_bytes,
    serve_fake_site,
    sources_toml,
)

__all__ = [
    "FakeServer",
    "FakeSite",
    "Response",
    "article_html",
    "docx_bytes",
    "government_site",
    "hexid",
    "one_source_toml",
    "pdf_bytes",
    "serve_fake_site",
    "sources_toml",
]
