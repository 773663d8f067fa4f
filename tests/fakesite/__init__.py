"""A local fake Xinjiang government site for crawler and end-to-end tests."""

from tests.fakesite.server import (
    FakeServer,
    FakeSite,
    Response,
    docx_bytes,
    government_site,
    pdf_bytes,
    serve_fake_site,
    sources_toml,
)

__all__ = [
    "FakeServer",
    "FakeSite",
    "Response",
    "docx_bytes",
    "government_site",
    "pdf_bytes",
    "serve_fake_site",
    "sources_toml",
]
