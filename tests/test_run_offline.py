"""A run without network: it says so in one line, exits 1 and still writes run.json.

No traffic leaves the machine: the "portals" are names under ``.invalid`` (whose lookup is
answered in-process as failed, as a resolver would) and a closed port on 127.0.0.1.
"""

from __future__ import annotations

import json
import socket

import pytest
from typer.testing import CliRunner

from policylens.cli import app
from policylens.crawler.fetch import connection_kind
from policylens.network import unreachable_summary

OFFLINE = ("To work offline: policylens run --no-crawl --ingest FOLDER")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed on exit: connecting is refused


@pytest.fixture
def no_dns(monkeypatch):
    """Names under .invalid fail to resolve, as on a machine without network."""
    real = socket.getaddrinfo

    def lookup(host, *args, **kwargs):
        if str(host).endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)


def _sources(path, portals: list[tuple[str, str]]) -> str:
    lines = ["[settings]", "min_delay = 0.0", "jitter = 0.0", "backoff_base = 0.01",
             "max_retries = 1", "allow_private_network = true", ""]
    for number, (region, origin) in enumerate(portals):
        host = origin.split("//", 1)[1].split(":")[0]
        lines += ["[[source]]", f'id = "portal-{number}"', f'region = "{region}"',
                  f'domains = ["{host}"]', "delay = 0.0", "", "[[source.column]]",
                  f'url = "{origin}/zfxxgk/list.shtml"', 'doc_type = "policy"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return str(path)


def test_offline_run_says_so_in_one_line_exits_1_and_writes_run_json(tmp_path, no_dns):
    data = tmp_path / "fresh"
    sources = _sources(tmp_path / "sources.toml", [
        ("乌鲁木齐市", "http://www.wlmq.invalid"),
        ("哈密市", "http://www.hami.invalid"),
        ("克拉玛依市", f"http://127.0.0.1:{_closed_port()}"),
    ])
    result = CliRunner().invoke(app, ["run", "--data-dir", str(data), "--sources", sources,
                                      "--allow-private-network", "--quiet"])
    assert result.exit_code == 1, result.output
    first = result.output.splitlines()[0]
    assert first == ("problem: no portal could be reached: 3 of 3 (2 failed DNS lookup, 1 "
                     f"refused the connection) — is this machine online? {OFFLINE}")
    (folder,) = (data / "runs").iterdir()
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert run["exit_code"] == 1 and run["step"] == "indicators"
    assert run["stopped"].startswith("indicators: ")
    assert "the corpus has no work report, bulletin or policy with a year" in run["stopped"]
    assert run["problems"][0] == first.removeprefix("problem: ")
    crawl = run["crawl"]
    assert crawl["errors"] == {"dns": 2, "refused": 1}
    assert crawl["skipped"] == {} and crawl["exit_code"] == 1
    kinds = {url.split("/")[2]: kind for url, kind, _ in crawl["failures"]}
    assert kinds == {"www.wlmq.invalid": "dns", "www.hami.invalid": "dns",
                     next(k for k in kinds if k.startswith("127.0.0.1")): "refused"}


def test_connection_failures_are_told_apart():
    import requests

    session = requests.Session()
    with pytest.raises(requests.exceptions.ConnectionError) as refused:
        session.get(f"http://127.0.0.1:{_closed_port()}/", timeout=5)
    assert connection_kind(refused.value) == "refused"
    error = requests.exceptions.ConnectionError(socket.gaierror(-2, "Name or service not known"))
    assert connection_kind(error) == "dns"
    assert connection_kind(requests.exceptions.ConnectionError("reset by peer")) == "connection"


def test_unreachable_summary_wording():
    hosts = {f"www.h{n}.gov.cn" for n in range(17)}
    dns = [(f"https://{h}/a.html", "dns", "cannot resolve") for h in sorted(hosts)]
    assert unreachable_summary(dns, hosts) == (
        "no portal could be reached: 17 of 17 failed DNS lookup — is this machine online? "
        f"{OFFLINE}")
    assert unreachable_summary(dns[:9], hosts) == (
        f"9 of 17 portals could not be reached: 9 of 17 failed DNS lookup. {OFFLINE}")
    assert unreachable_summary(dns[:8], hosts) is None  # most portals were reached
    http = [(f"https://{h}/a.html", "http_404", "") for h in sorted(hosts)]
    assert unreachable_summary(http, hosts) is None  # reached: the pages were missing


def test_run_on_empty_corpus_stops_clearly_and_writes_run_json(tmp_path):
    result = CliRunner().invoke(app, ["run", "--no-crawl", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "stopped: indicators: " in result.output
    assert ("the corpus has no work report, bulletin or policy with a year (ingest documents "
            "first (policylens ingest FOLDER) or pass --year)") in result.output
    (folder,) = (tmp_path / "runs").iterdir()
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert run["crawl"] is None and run["step"] == "indicators" and run["exit_code"] == 1
