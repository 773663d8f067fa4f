"""IPv6 literals keep their brackets through normalisation, so a redirect to ``[::1]`` is
refused for the right reason (a private address), not as a malformed URL."""

from __future__ import annotations

import pytest
from fakesite import FakeSite, Response, serve_fake_site

from policylens.crawler.fetch import Fetcher, new_session
from policylens.crawler.models import CrawlSettings
from policylens.crawler.urls import UnsafeURL, absolute_url, canonical_url, check_url, host_key


@pytest.mark.parametrize("url, canonical", [
    ("http://[::1]:8080/a", "http://[::1]:8080/a"),
    ("http://[::1]/a", "http://[::1]/a"),
    ("http://[::1]:80/a", "http://[::1]/a"),  # the default port goes, the brackets stay
    ("https://[2001:DB8::1]:443/x?b=1&a=2#f", "https://[2001:db8::1]/x?a=2&b=1"),
    ("http://user:pw@[2001:db8::2]:8443", "http://[2001:db8::2]:8443/"),
])
def test_canonical_url_keeps_ipv6_brackets(url, canonical):
    assert canonical_url(url) == canonical
    assert canonical_url(canonical) == canonical


def test_relative_links_and_host_keys_on_an_ipv6_host():
    assert absolute_url("http://[::1]:8080/list/", "../a.pdf") == "http://[::1]:8080/a.pdf"
    assert absolute_url("http://x.gov.cn/", "http://[::1]:8080/b?x=1") == "http://[::1]:8080/b?x=1"
    assert host_key("http://[::1]:8080/a") == "[::1]:8080"


def test_check_url_names_the_private_address():
    loopback = [(10, 1, 6, "", ("::1", 8080, 0, 0))]
    with pytest.raises(UnsafeURL) as caught:
        check_url("http://[::1]:8080/a", ("::1",), resolver=lambda *a, **k: loopback)
    assert (caught.value.kind, caught.value.message) == (
        "private_address", "::1 resolves to non-public address ::1")


def test_a_redirect_to_ipv6_loopback_is_refused_as_private_address():
    site = FakeSite()
    site.add("/a/go.shtml", Response(302, b"", etag=False,
                                     headers={"Location": "http://[::1]:9/a/ok.shtml"}))
    with serve_fake_site(site) as server:
        settings = CrawlSettings(max_retries=0, private_hosts=("127.0.0.1",))
        fetcher = Fetcher(new_session("test"), settings, ("127.0.0.1", "::1"))
        result = fetcher.fetch(f"{server.base_url}/a/go.shtml", max_bytes=100_000)
    assert (result.error, result.redirects) == ("private_address", 1)
    assert result.message == "http://[::1]:9/a/ok.shtml: ::1 resolves to non-public address ::1"
    assert site.hits["/a/go.shtml"] == 1
