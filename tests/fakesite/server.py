"""A threaded ``http.server`` on 127.0.0.1 that plays a Xinjiang government portal.

    from fakesite import government_site, serve_fake_site, sources_toml
    with serve_fake_site(government_site()) as server:
        path.write_text(sources_toml(server.base_url), encoding="utf-8")
        crawl_into_corpus(data_dir, sources_file=path, allow_private_network=True)

``government_site()`` reproduces the structures of the real sites (UCAP article URLs with
``<meta name="ArticleTitle|PubDate|...">``, ``zfxxgk_list.shtml`` + ``_2.shtml`` pages found by
probing, a ``createPageHTML`` list, "下一页" links, GB2312 pages with and without a declared
charset, a JSON list API, PDF and DOCX attachments, robots.txt with a Disallow and a
Crawl-delay). ``site.expected`` lists what a full crawl must store.
"""

from __future__ import annotations

import hashlib
import io
import socket
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

__all__ = ["Response", "FakeSite", "FakeServer", "serve_fake_site", "government_site",
           "sources_toml", "pdf_bytes", "docx_bytes", "article_html", "hexid"]


@dataclass
class Response:
    """A canned response. ``etag=True`` answers conditional requests with 304."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/html; charset=utf-8"
    etag: bool = True


# A route is a Response or a function (handler, hits) -> Response | None (None: it wrote itself).
Route = Response | Callable[["_Handler", int], "Response | None"]


class FakeSite:
    """Routes by path (or path?query) plus a log of requests."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: dict[str, int] = {}
        self.log: list[tuple[float, str, dict[str, str]]] = []
        self.expected: dict[str, list[str]] = {"articles": [], "attachments": []}
        self.delay = 0.0  # seconds added to every response (to slow a crawl down)
        # Requests for expected documents past the first ``hold_docs_after`` wait for
        # ``released``: a test can stop a crawl midway without racing it.
        self.hold_docs_after: int | None = None
        self.released = threading.Event()
        self.lock = threading.Lock()

    def add(self, path: str, route: Route) -> None:
        self.routes[path] = route

    def html(self, path: str, text: str, encoding: str = "utf-8", declare: bool = True) -> None:
        """Serve ``text`` encoded as ``encoding``; ``declare=False`` sends no charset at all."""
        ctype = f"text/html; charset={encoding}" if declare else "text/html"
        self.routes[path] = Response(body=text.encode(encoding), content_type=ctype)

    def served_docs(self, key: str) -> int:
        """How many expected documents were requested so far (0 when ``key`` is not one)."""
        documents = set(self.expected["articles"]) | set(self.expected["attachments"])
        if key not in documents:
            return 0
        with self.lock:
            return sum(1 for _, path, _ in self.log if unquote(urlsplit(path).path) in documents)

    def requests_for(self, path: str) -> list[tuple[float, str, dict[str, str]]]:
        return [entry for entry in self.log if entry[1] == path]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeGov/1.0"
    site: FakeSite

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def setup(self) -> None:
        super().setup()
        # headers and body go out in two writes; without this, Nagle + delayed ACK add 40 ms
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        site = self.site
        parts = urlsplit(self.path)
        key = self.path if self.path in site.routes else unquote(parts.path)
        with site.lock:
            site.hits[key] = site.hits.get(key, 0) + 1
            hits = site.hits[key]
            site.log.append((time.monotonic(), self.path, dict(self.headers.items())))
        if site.delay:
            time.sleep(site.delay)
        if site.hold_docs_after is not None and site.served_docs(key) > site.hold_docs_after:
            site.released.wait(60)
        route = site.routes.get(key)
        if route is None:
            self.send(Response(404, b"<html><body>404 Not Found</body></html>"))
            return
        response = route(self, hits) if callable(route) else route
        if response is not None:
            self.send(response)

    def send(self, response: Response) -> None:
        body = response.body
        tag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if response.etag and response.status == 200 and self.headers.get("If-None-Match") == tag:
            self.send_response(304)
            self.send_header("ETag", tag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(body)))
        if response.etag and response.status == 200:
            self.send_header("ETag", tag)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


@dataclass
class FakeServer:
    """A running fake site: ``base_url`` is ``http://127.0.0.1:<port>``."""

    base_url: str
    host: str
    port: int
    site: FakeSite


@contextmanager
def serve_fake_site(site: FakeSite | None = None):
    """Serve ``site`` (default: ``government_site()``) on 127.0.0.1 in background threads.

    Yields:
        A ``FakeServer``; the server stops when the block ends.
    """
    site = site or government_site()
    handler = type("Handler", (_Handler,), {"site": site})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    port = httpd.server_address[1]
    try:
        yield FakeServer(base_url=f"http://127.0.0.1:{port}", host=f"127.0.0.1:{port}",
                         port=port, site=site)
    finally:
        httpd.shutdown()
        httpd.server_close()


# ---------------------------------------------------------------------------------- content


def hexid(name: str) -> str:
    """A stable 32-hex article id, as UCAP uses."""
    return hashlib.md5(name.encode()).hexdigest()


def pdf_bytes(text: str = "Digital economy report") -> bytes:
    """A minimal valid one-page PDF showing ``text`` (ASCII) in Helvetica."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + obj + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, xref))
    return out.getvalue()


def docx_bytes(paragraphs: list[str]) -> bytes:
    """A DOCX file with these paragraphs (python-docx)."""
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def article_html(title: str, body: str, *, pub_date: str = "2024-01-15 10:00",
                 site_name: str = "乌鲁木齐市人民政府", column: str = "政府文件",
                 source: str = "乌鲁木齐市人民政府办公室", attachments: list[tuple[str, str]] = (),
                 charset: str | None = "utf-8") -> str:
    """A UCAP-style article page with the meta tags the real sites carry."""
    links = "".join(f'<p><a href="{href}">{text}</a></p>' for href, text in attachments)
    meta_charset = f'<meta charset="{charset}">' if charset else ""
    return f"""<!DOCTYPE html><html><head>{meta_charset}
<meta name="SiteName" content="{site_name}">
<meta name="ColumnName" content="{column}">
<meta name="ArticleTitle" content="{title}">
<meta name="PubDate" content="{pub_date}">
<meta name="ContentSource" content="{source}">
<title>{title}_{site_name}</title></head>
<body><div class="nav"><a href="/wlmqs/index.shtml">首页</a> <a href="/wlmqs/about.shtml">关于我们</a></div>
<h1>{title}</h1><div class="pages_content"><p>{body}</p>{links}</div>
<div class="footer">主办：{site_name}</div></body></html>"""


def _list_html(title: str, items: list[tuple[str, str]], extra: str = "",
               charset: str | None = "utf-8") -> str:
    rows = "".join(f'<li><a href="{href}" title="{text}">{text[:12]}</a><span>2024-01-15</span></li>'
                   for href, text in items)
    meta_charset = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">' \
        if charset else ""
    return f"""<!DOCTYPE html><html><head>{meta_charset}<title>{title}</title></head>
<body><div class="nav"><a href="/wlmqs/index.shtml">首页</a><a href="/wlmqs/zwgk.shtml">政务公开</a></div>
<ul class="list">{rows}</ul>{extra}</body></html>"""


# Distinct paragraphs so the corpus does not link the fake articles as near-duplicates.
TOPICS = {
    "p1": "设立数字经济发展专项资金，对新建数据中心给予电价补贴，培育软件和信息技术服务企业。",
    "p2": "整合政务服务平台，推行一网通办，建设统一身份认证和电子证照库，实现跨部门数据共享。",
    "p3": "支持人工智能企业开展算法研发，建设智能计算中心，推动机器学习在农业和能源领域落地。",
    "p4": "规划建设算力枢纽节点，布局绿色数据中心集群，提升存储能力和网络传输带宽。",
    "p5": "推进制造业企业设备联网改造，建设标识解析二级节点，打造工业互联网平台示范项目。",
    "b1": "全市地区生产总值增长百分之六点二，规模以上工业增加值增长百分之七，居民收入稳步提高。",
    "b2": "全年粮食产量保持稳定，社会消费品零售总额增长，进出口总值创历史新高。",
    "b3": "年末常住人口保持增长，城镇新增就业人数超过目标，居民消费价格温和上涨。",
}
BODY = ("加快发展数字经济，推进大数据、人工智能、云计算和物联网应用，建设数字政府。"
        "推动5G网络覆盖和工业互联网发展，数字经济核心产业增加值持续增长。")


def government_site() -> FakeSite:
    """The fake 乌鲁木齐 portal. ``site.expected`` holds the paths a full crawl must store."""
    site = FakeSite()
    site.add("/robots.txt", Response(body=b"User-agent: *\nDisallow: /private/\nCrawl-delay: 0.01\n",
                                     content_type="text/plain"))

    def article(col: str, month: str, name: str, title: str, body: str | None = None,
                attachments: list[tuple[str, str, bytes]] = (), **kwargs) -> str:
        ident = hexid(name)
        body = body or f"{title}。{TOPICS[name]}{BODY}"
        path = f"/wlmqs/{col}/{month}/{ident}.shtml"
        links = []
        for filename, text, data in attachments:
            href = f"{ident}/files/{filename}"
            links.append((href, text))
            site.add(f"/wlmqs/{col}/{month}/{href}",
                     Response(body=data, content_type="application/octet-stream"))
            site.expected["attachments"].append(f"/wlmqs/{col}/{month}/{href}")
        site.html(path, article_html(title, body, attachments=links, **kwargs))
        site.expected["articles"].append(path)
        return path

    # Policy column (UCAP): page 1 and a _2 page reached by probing; _3 is a 404.
    p1 = article("c119064", "202401", "p1", "乌鲁木齐市人民政府关于加快数字经济发展的实施意见",
                 attachments=[("实施方案.pdf", "附件：实施方案", pdf_bytes("Implementation plan"))])
    p2 = article("c119064", "202402", "p2", "关于印发乌鲁木齐市数字政府建设方案的通知",
                 attachments=[("任务清单.docx", "附件：任务清单",
                               docx_bytes(["数字政府建设任务清单", "推进大数据中心建设。"]))])
    p3 = article("c119064", "202403", "p3", "乌鲁木齐市促进人工智能产业发展若干措施")
    p4 = article("c119064", "202311", "p4", "乌鲁木齐市算力基础设施建设行动计划",
                 pub_date="2023-11-02 09:30")
    p5 = article("c119064", "202310", "p5", "关于推进工业互联网发展的通知", pub_date="2023-10-08")
    hidden = "/private/c119064/202401/" + hexid("hidden") + ".shtml"
    site.html(hidden, article_html("内部文件", BODY))
    site.html("/wlmqs/c119064/zfxxgk_list.shtml", _list_html("政府文件", [
        (p1, "乌鲁木齐市人民政府关于加快数字经济发展的实施意见"),
        (p2, "关于印发乌鲁木齐市数字政府建设方案的通知"),
        (p3, "乌鲁木齐市促进人工智能产业发展若干措施"),
        (hidden, "内部文件"),
    ]))
    site.html("/wlmqs/c119064/zfxxgk_list_2.shtml", _list_html("政府文件", [
        (p4, "乌鲁木齐市算力基础设施建设行动计划"), (p5, "关于推进工业互联网发展的通知")]))

    # Statistical bulletins: a TRS-style createPageHTML(3, 0, ...) list (0-based).
    b1 = article("c119359", "202404", "b1", "乌鲁木齐市2023年国民经济和社会发展统计公报",
                 column="统计公报", pub_date="2024-04-20 18:05")
    b2 = article("c119359", "202304", "b2", "乌鲁木齐市2022年国民经济和社会发展统计公报",
                 column="统计公报", pub_date="2023-04-21")
    b3 = article("c119359", "202204", "b3", "乌鲁木齐市2021年国民经济和社会发展统计公报",
                 column="统计公报", pub_date="2022-04-22")
    noise = "/wlmqs/c119359/202405/" + hexid("noise") + ".shtml"
    site.html(noise, article_html("关于开展统计执法检查的通知", "无关内容"))
    script = '<script>createPageHTML(3, 0, "index", "shtml");</script>'
    site.html("/wlmqs/c119359/index.shtml", _list_html("统计公报", [
        (b1, "乌鲁木齐市2023年国民经济和社会发展统计公报"), (noise, "关于开展统计执法检查的通知")],
        script))
    site.html("/wlmqs/c119359/index_1.shtml", _list_html("统计公报", [
        (b2, "乌鲁木齐市2022年国民经济和社会发展统计公报")], script.replace("3, 0", "3, 1")))
    site.html("/wlmqs/c119359/index_2.shtml", _list_html("统计公报", [
        (b3, "乌鲁木齐市2021年国民经济和社会发展统计公报")], script.replace("3, 0", "3, 2")))

    # Work reports on an old GB2312 section: "下一页" pagination; the 2nd article has no charset.
    w1 = "/gb/info/1084/1001.htm"
    w2 = "/gb/info/1084/1002.htm"
    site.html(w1, article_html("2024年乌鲁木齐市政府工作报告",
                               "各位代表：过去一年，全市经济运行稳中向好。" + BODY,
                               pub_date="2024-01-10", charset="gb2312"), encoding="gb2312")
    site.html(w2, article_html("2023年乌鲁木齐市政府工作报告",
                               "各位代表：现在，我代表市人民政府向大会报告工作。今年主要预期目标是"
                               "地区生产总值增长百分之六以上。" + BODY * 2,
                               pub_date="2023-01-06", charset=None), encoding="gb2312",
              declare=False)
    site.html("/gb/zfgzbg.htm", _list_html("政府工作报告", [(w1, "2024年乌鲁木齐市政府工作报告")],
                                           '<a href="/gb/zfgzbg/2.htm">下一页</a>',
                                           charset="gb2312"), encoding="gb2312")
    site.html("/gb/zfgzbg/2.htm", _list_html("政府工作报告", [(w2, "2023年乌鲁木齐市政府工作报告")],
                                             charset="gb2312"), encoding="gb2312")
    site.expected["articles"] += [w1, w2]

    # Five-year plan outline behind a JSON list API (Epoint/klmy style).
    f1 = "/010/010005/20210315/" + hexid("f1") + ".html"
    site.html(f1, article_html("乌鲁木齐市国民经济和社会发展第十四个五年规划和2035年远景目标纲要",
                               "第一篇 开启全面建设社会主义现代化新征程。到二〇三五年基本实现"
                               "社会主义现代化远景目标。" + BODY, pub_date="2021-03-15"))
    f2 = "/010/010005/files/shisiwu_gangyao.pdf"
    site.add(f2, Response(body=pdf_bytes("14th five-year plan outline"),
                          content_type="application/pdf"))
    site.expected["articles"].append(f1)
    site.expected["attachments"].append(f2)
    import json

    records = [
        {"title": "乌鲁木齐市国民经济和社会发展<em>第十四个五年规划</em>和2035年远景目标纲要",
         "linkurl": f1, "pubdate": "2021-03-15"},
        {"title": "十四五规划纲要（全文PDF）", "linkurl": f2, "pubdate": "2021-03-16"},
        {"title": "关于召开会议的通知", "linkurl": "/010/010005/20210301/x.html",
         "pubdate": "2021-03-01"},
    ]

    def api(handler, hits):
        page = handler.path.split("page=")[1].split("&")[0]
        data = {"result": {"totalcount": 3, "records": records if page == "1" else []}}
        return Response(body=json.dumps(data, ensure_ascii=False).encode(),
                        content_type="application/json")

    site.add("/search/a1b2c3", api)
    return site


def one_source_toml(base_url: str, columns: list[dict], *, source_id: str, region: str,
                    settings: dict | None = None) -> str:
    """A sources file with one source on the local server; column ``url``s are paths;
    ``settings`` are added to (or replace) the fast, private-network defaults."""
    import tomli_w

    return tomli_w.dumps({
        "settings": {"min_delay": 0.0, "jitter": 0.0, "allow_private_network": True, **(settings or {})},
        "source": [{
            "id": source_id,
            "region": region,
            "domains": ["127.0.0.1"],
            "delay": 0.0,
            "column": [{**c, "url": base_url + c["url"]} for c in columns],
        }],
    })


def sources_toml(base_url: str, *, source_id: str = "fake-urumqi", region: str = "乌鲁木齐市",
                 settings: str = "min_delay = 0.0\njitter = 0.0\nbackoff_base = 0.01\n"
                                 "allow_private_network = true\n") -> str:
    """A sources file pointing every column of ``government_site()`` at ``base_url``."""
    return f"""# fake registry for tests (generated)
[settings]
{settings}
[[source]]
id = "{source_id}"
region = "{region}"
domains = ["127.0.0.1"]
delay = 0.0

[[source.column]]
url = "{base_url}/wlmqs/c119064/zfxxgk_list.shtml"
doc_type = "policy"
max_pages = 5

[[source.column]]
url = "{base_url}/wlmqs/c119359/index.shtml"
doc_type = "statistical_bulletin"

[[source.column]]
url = "{base_url}/gb/zfgzbg.htm"
doc_type = "work_report"

[[source.column]]
url = "{base_url}/search/a1b2c3?page={{page}}&_pageSize=100&_isJson=true"
doc_type = "five_year_plan"
list = "json"
"""
