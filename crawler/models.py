"""Records passed between crawler stages: what was fetched, how the run is configured, the report.

All records are frozen dataclasses so a stage can hand them on without fear of mutation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "FetchedResource",
    "CrawlSettings",
    "CrawlConfig",
    "CrawlReport",
    "ProgressEvent",
    "EXIT_OK",
    "EXIT_FAILURES",
    "EXIT_USAGE",
    "EXIT_LOCKED",
    "EXIT_STOPPED",
    "EXIT_STORAGE",
]

@dataclass(frozen=True)
class FetchedResource:
    """One fetched article page or attachment, with its provenance.

    ``content`` holds the decoded (gunzipped) bytes exactly as served and ``sha256`` their hash.
    ``final_url`` is where the bytes came from after redirects. ``filename`` is a safe
    basename (never a path) derived from Content-Disposition or the URL. ``kind`` is
    ``"article"`` or ``"attachment"``; an attachment's ``referer`` is the article page that
    linked it. ``change`` is ``"new"`` or ``"changed"``. ``fetched_at`` is UTC ISO 8601
    (``policylens.timeutil.utc_now``). ``policylens.crawl_pipeline.resource_meta`` turns it into
    the corpus's ``DocumentMeta`` without dropping any of this provenance.
    """

    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    content: bytes
    content_type: str
    fetched_at: str
    source_id: str
    region: str
    doc_type: str
    referer: str | None
    etag: str | None
    last_modified: str | None
    sha256: str
    kind: str = "article"
    filename: str | None = None
    title: str | None = None
    pub_date: str | None = None
    change: str = "new"


@dataclass(frozen=True)
class CrawlSettings:
    """Politeness, safety and limits. Defaults here; a ``[settings]`` table and flags override.

    Every field can be set in the sources file's ``[settings]`` table under the same name.
    """

    user_agent: str = ""  # empty: policylens.settings.USER_AGENT
    min_delay: float = 1.0  # floor for the per-host delay (seconds)
    jitter: float = 0.2  # the delay is multiplied by a random factor in [1, 1 + jitter]
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    request_deadline: float = 120.0  # overall time for one response body
    max_retries: int = 3
    backoff_base: float = 2.0  # seconds; doubled at each retry
    max_backoff: float = 120.0  # a Retry-After longer than this gives up
    max_redirects: int = 5
    max_html_bytes: int = 10 * 1024 * 1024
    max_attachment_bytes: int = 200 * 1024 * 1024
    max_url_length: int = 2083
    max_fetches_per_host: int = 20000  # per run: a guard against crawler traps
    max_links_per_page: int = 2000
    max_parallel_hosts: int = 64  # requests in flight at once (one per host); see the scheduler
    max_open_connections: int = 512  # idle keep-alive connections kept across hosts (file descriptors)
    host_failure_limit: int = 5  # consecutive failed URLs that park a host for the run
    host_retry_after_cap: float = 60.0  # a longer Retry-After parks the host for the run
    block_cooldown: float = 6 * 3600.0  # a host that answered with a bot challenge rests this long
    allow_private_network: bool = False
    private_hosts: tuple[str, ...] = ()  # hosts allowed on private addresses (intranet mirrors)
    insecure_hosts: tuple[str, ...] = ()  # hosts whose TLS certificate is not verified (logged)
    revisit_documents: bool = True  # re-check known articles/attachments with conditional GETs
    obey_robots: bool = True
    lock_stale_after: float = 1800.0  # a crawl without progress this long loses its lock (0: never)
    # --db (shared frontier): a held host's lease, renewed while held; a request extends it to
    # at least request_deadline + delay, so a dead process's hosts return after that
    lease_seconds: float = 30.0
    # Fetch article-body images for OCR: "auto" (pages that are their images), "always",
    # false; None follows the crawl's --ocr mode when the OCR engine is installed.
    image_links: bool | str | None = None
    min_image_bytes: int = 10_000  # smaller image files are icons: skipped, not stored

    def __post_init__(self) -> None:
        from policylens.errors import ConfigError

        for name in ("min_delay", "jitter", "connect_timeout", "read_timeout", "request_deadline",
                     "backoff_base", "max_backoff", "block_cooldown", "host_retry_after_cap",
                     "lock_stale_after", "lease_seconds"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"settings.{name} must be a number >= 0, got {value!r}")
        for name in ("max_retries", "max_redirects", "max_html_bytes", "max_attachment_bytes",
                     "max_url_length", "max_fetches_per_host", "max_links_per_page",
                     "max_parallel_hosts", "max_open_connections", "host_failure_limit",
                     "min_image_bytes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"settings.{name} must be an integer >= 0, got {value!r}")
        if self.image_links not in (None, True, False, "auto", "always", "never"):
            raise ConfigError(f"settings.image_links must be auto, always or false, "
                              f"got {self.image_links!r}")
        for name in ("max_parallel_hosts", "host_failure_limit"):
            if getattr(self, name) < 1:
                raise ConfigError(f"settings.{name} must be at least 1")
        if self.lease_seconds < 1:
            raise ConfigError(f"settings.lease_seconds must be at least 1, got {self.lease_seconds}")


@dataclass(frozen=True)
class CrawlConfig:
    """One crawl: which sources, where the state lives, and the settings.

    Args:
        data_dir: the data directory; the state lives in ``<data_dir>/corpus.sqlite``.
        sources: the selected ``Source`` records (see ``policylens.crawler.sources``).
        settings: politeness, safety and limits.
        since: ISO date ``YYYY-MM-DD``; older articles are skipped.
        max_pages: overrides every column's ``max_pages`` (list pages walked) when set.
        max_time: seconds the whole crawl may take; then it stops (resumable) like Ctrl-C.
        db: a ``postgresql://`` URL: the frontier lives there, shared by every crawl process
            pointed at it (``crawler.shared_frontier``); None keeps it in the data directory.
    """

    data_dir: Path
    sources: tuple = ()
    settings: CrawlSettings = field(default_factory=CrawlSettings)
    since: str | None = None
    max_pages: int | None = None
    max_time: float | None = None
    db: str | None = None


@dataclass(frozen=True)
class ProgressEvent:
    """Sent to the ``progress`` callback after every fetch."""

    done: int
    pending: int
    url: str
    outcome: str


EXIT_OK, EXIT_FAILURES, EXIT_USAGE, EXIT_LOCKED, EXIT_STOPPED, EXIT_STORAGE = 0, 1, 2, 3, 4, 5


@dataclass(frozen=True)
class CrawlReport:
    """What one crawl run did; ``exit_code`` sums it up for cron (see ``exit_code``)."""

    run_id: int
    started_at: str
    finished_at: str
    duration_s: float
    resumed: bool
    sources: tuple[str, ...]
    pages_fetched: int
    list_pages: int
    documents: dict[str, int]  # new / changed / unchanged / duplicate (no row: same content)
    attachments: dict[str, int]  # new / changed / unchanged / duplicate
    skipped: dict[str, int]  # robots / since / challenge-host ...
    errors: dict[str, int]  # kind -> count
    warnings: dict[str, int]
    hosts_blocked: tuple[str, ...]
    pending: int  # URLs left for the next run (blocked hosts, caps)
    failures: tuple[tuple[str, str, str], ...] = ()  # (url, kind, message), first 100
    robots: dict[str, str] = field(default_factory=dict)  # host -> what its robots.txt said
    stopped: str | None = None  # max_time | interrupted | storage: why the run stopped early
    stop_message: str = ""

    @property
    def exit_code(self) -> int:
        """5 storage failure, 4 stopped early (--max-time, signal; rerun resumes), 1 some
        fetches failed or a host blocked us or its robots.txt was unavailable, else 0.

        (2 is a usage/configuration error and 3 another crawl running: raised, no report.)
        """
        if self.stopped == "storage":
            return EXIT_STORAGE
        if self.stopped:
            return EXIT_STOPPED
        return EXIT_FAILURES if (self.errors or self.hosts_blocked) else EXIT_OK

    def to_dict(self) -> dict:
        """Return a JSON-serialisable dict (the run record)."""
        from dataclasses import asdict

        data = asdict(self)
        data["failures"] = [list(f) for f in self.failures]
        data["exit_code"] = self.exit_code
        return data
