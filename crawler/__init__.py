"""crawler: fetch government portals politely and hand raw documents on.

    from policylens.crawler import CrawlConfig, load_sources, run_crawl
    registry = load_sources()                      # the packaged Xinjiang registry
    report = run_crawl(CrawlConfig(data_dir=Path("data"), sources=registry.sources,
                                   settings=registry.settings), sink=print)

The crawler never imports ``nlp``; ``policylens.crawl_pipeline`` connects it to the corpus.
"""

from policylens.crawler.engine import Sink, run_crawl
from policylens.crawler.models import (
    CrawlConfig,
    CrawlReport,
    CrawlSettings,
    FetchedResource,
    ProgressEvent,
)
from policylens.crawler.sources import Column, Registry, Source, load_sources, select_sources

__all__ = [
    "Column",
    "CrawlConfig",
    "CrawlReport",
    "CrawlSettings",
    "FetchedResource",
    "ProgressEvent",
    "Registry",
    "Sink",
    "Source",
    "load_sources",
    "run_crawl",
    "select_sources",
]
