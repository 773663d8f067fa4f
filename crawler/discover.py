"""Link discovery on list pages and article pages (pure: bytes in, records out).

Handles the layouts met on Chinese government portals: static ``_N.shtml`` / ``index_N.html``
pages, the JavaScript ``createPageHTML(total, current, prefix, ext)`` call (0- and 1-based),
"下一页" links, JSON list APIs, UCAP article pages with ``<meta name="ArticleTitle">`` etc.
Body text is not extracted here: that is ``policylens.corpus.extract``'s job.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from policylens.corpus.extract.dates import parse_date
from policylens.corpus.extract.decode import decode_html
from policylens.corpus.extract.detect import attachment_kind, container_of, detect_kind
from policylens.crawler.urls import absolute_url

__all__ = [
    "Link",
    "PageInfo",
    "ARTICLE_URL",
    "parse_html",
    "list_links",
    "json_list_links",
    "attachment_kind",
    "image_kind",
    "sniff_type",
]

# Article URL shapes met on government CMSs (UCAP, TRS, VSB, Epoint, plain ids).
ARTICLE_URL = re.compile(
    r"/\d{6}/[0-9a-f]{32}\.s?html?$"          # UCAP: /c123456/202401/<32 hex>.shtml
    r"|/t\d{8}_\d+\.s?html?$"                  # TRS: /202401/t20240101_123.html
    r"|/content_\d+(?:\.s?html?)?$"            # /content_44689
    r"|/art_\d+_\d+\.html$"                    # /art/2024/1/1/art_1_2.html
    r"|/info/\d+/\d+\.htm$"                    # VSB: /info/1084/325767.htm
    r"|/content/post_\d+\.html$"               # gkmlpt
    r"|/\d{4}/\d{1,2}/\d{1,2}/[\w-]+\.s?html?$"  # /2026/2/10/<id>.shtml
    r"|/\d{6,}\.s?html?$|/\d{6,}\.jhtml$",      # /10017864.jhtml
    re.I,
)
NEXT_PAGE_TEXT = re.compile(r"^\s*(下一页|下页|后页|next\s*page|next)\s*[>›»]*\s*$", re.I)
_CREATE_PAGE = re.compile(r"createPageHTML\s*\(([^)]*)\)")
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*>")
_URL_MONTH = re.compile(r"/((?:19|20)\d\d)(0[1-9]|1[0-2])/")
# Images worth OCR (a bulletin published as pictures); GIFs are animations and decoration.
IMAGE_LINK_KINDS = {"png": "png", "jpg": "jpg", "jpeg": "jpg", "tif": "tiff", "tiff": "tiff",
                    "bmp": "bmp", "webp": "webp"}
# Page chrome that may hold images (logos, QR codes, share buttons), by element name or class/id.
_CHROME_TAGS = frozenset({"header", "nav", "footer", "aside"})
_CHROME = re.compile(r"nav|menu|footer|header|banner|logo|share|sidebar|side-bar|copyright|"
                     r"qrcode|ewm|toolbar|breadcrumb|friend-?link|yqlj|related|xgwz", re.I)
# Names of decoration, as whole words: "bullet.gif" is one, "bulletin.png" is not.
_DECORATION = re.compile(r"(?<![a-z])(?:icons?|ico|logo|banner|button|btn|qrcode|ewm|share|arrow|"
                         r"bullet|spacer)(?![a-z])", re.I)
# Images declared smaller than this (width or height, pixels) are icons, not pages of text.
MIN_IMAGE_SIDE = 200
# Under OCR "auto", a body with at least this many Chinese characters is a text page: its
# images are charts and photos, not the document (the extractor uses the same rule).
IMAGE_PAGE_MAX_CJK = 50
_CJK = re.compile(r"[\u4e00-\u9fff]")
_META_NAMES = {"articletitle": "title", "pubdate": "pub_date", "contentsource": "source",
               "sitename": "site_name", "columnname": "column_name", "firstimage": None}


@dataclass(frozen=True)
class Link:
    """A URL found on a page, with what the crawler should do with it.

    ``kind`` is ``list`` (another list page), ``article`` or ``attachment``; ``page_no`` is the
    list page number (1 = the column page); ``probe`` marks a guessed ``_N.shtml`` page whose
    404 ends the list quietly.
    """

    url: str
    kind: str
    text: str = ""
    page_no: int = 0
    probe: bool = False
    pub_date: str | None = None


@dataclass
class PageInfo:
    """What a parsed HTML page offers: metadata and anchors (absolute, canonical URLs)."""

    url: str
    encoding: str
    charset_guessed: bool
    title: str = ""
    meta: dict[str, str] = field(default_factory=dict)
    anchors: list[tuple[str, str]] = field(default_factory=list)  # (url, text)
    create_page: tuple[int, int, str, str] | None = None  # total, current, prefix, ext
    date_text: str | None = None
    # The parsed tree and base URL, kept for body_images(): only article pages need them.
    root: object = field(default=None, repr=False, compare=False)
    base: str = ""

    @property
    def pub_date(self) -> str | None:
        """The publication date: meta PubDate, else a date in the URL, else in the page text."""
        for value in (self.meta.get("pub_date"), self.date_text):
            date = parse_date(value, month=True)
            if date:
                return date
        match = _URL_MONTH.search(urlsplit(self.url).path)
        if match:
            return f"{match.group(1)}-{match.group(2)}"
        return None

    def attachments(self, images: bool | str = False) -> list[Link]:
        """Links to downloadable documents (pdf, doc(x), wps, xls(x), archives).

        Args:
            images: also the article body's images and its links to image files (a
                bulletin published as pictures), for OCR; page chrome and icons are left out.
                ``"auto"`` (or True) only when the body holds fewer than
                ``IMAGE_PAGE_MAX_CJK`` Chinese characters, ``"always"`` whatever the body
                holds, False or ``"never"`` not at all.
        """
        found = []
        for url, text in self.anchors:
            if attachment_kind(url):
                found.append(Link(url=url, kind="attachment", text=text))
        if images and images != "never":
            seen = {link.url for link in found}
            limit = None if images == "always" else IMAGE_PAGE_MAX_CJK
            for url, text in self.body_images(limit):
                if url not in seen:
                    seen.add(url)
                    found.append(Link(url=url, kind="attachment", text=text))
        return found

    def body_images(self, max_cjk: int | None = None) -> list[tuple[str, str]]:
        """``(url, alt text)`` of the images in the article body worth OCR (see ``_body_images``);
        none when ``max_cjk`` is given and the body holds at least that many Chinese characters."""
        if self.root is None:
            return []
        return _body_images(self.root, self.base or self.url, max_cjk)


def parse_html(content: bytes, url: str, content_type: str = "") -> PageInfo:
    """Parse an HTML page into metadata and anchors.

    Args:
        content: the raw bytes as served.
        url: the page's final URL (relative links resolve against it or ``<base href>``).
        content_type: the Content-Type header (its charset wins).
    """
    import lxml.html

    decoded = decode_html(content, content_type)
    if decoded is None:  # no encoding fits: a page without links
        return PageInfo(url=url, encoding="", charset_guessed=True)
    text = decoded.text
    info = PageInfo(url=url, encoding=decoded.encoding, charset_guessed=decoded.guessed)
    text = _XML_DECL.sub("", text, count=1)
    if not text.strip():
        return info
    try:
        root = lxml.html.document_fromstring(text)
    except (ValueError, lxml.etree.ParserError):
        return info
    base = url
    xpath = _xpaths()
    for href in xpath["base"](root)[:1]:
        base = absolute_url(url, href) or url
    titles = xpath["title"](root)
    info.title = " ".join(titles[0].split()) if titles else ""
    for node in xpath["meta"](root):
        key = _META_NAMES.get(node.get("name", "").strip().lower())
        if key:
            value = " ".join(node.get("content", "").split())
            if value and "<" not in value:  # templates leak placeholders like <PUBLISHTIME>
                info.meta.setdefault(key, value)  # the first wins: later ones are widgets
    if "title" not in info.meta and info.title:
        info.meta["title"] = info.title
    for node in xpath["a"](root):
        target = _absolute(base, node.get("href"))
        if target:
            label = " ".join((node.text_content() or "").split())
            title_attr = " ".join((node.get("title") or "").split())
            if title_attr and len(title_attr) > len(label):
                label = title_attr  # lists truncate the visible text; the title holds it all
            info.anchors.append((target, label))
    for script in xpath["script"](root):
        if "createPageHTML" in script:
            info.create_page = _parse_create_page(script)
            if info.create_page:
                break
    if "pub_date" not in info.meta:
        body_text = " ".join(xpath["dates"](root)[:20])
        info.date_text = body_text or None
    info.root, info.base = root, base
    return info


def _absolute(base: str, href: str) -> str | None:
    """``absolute_url(base, href)``, remembered: a portal repeats the same hundred navigation
    links on every page, and canonicalising them cost more than parsing the page.

    A link with its own host, or a path from the root, resolves the same against any page of
    the site, so those are remembered per origin, the others per page.
    """
    key = base
    parts = base.split("/", 3)
    if len(parts) >= 3 and href[:8].lower().startswith(("/", "http://", "https://")):
        key = "/".join(parts[:3]) + "/"
    return _resolve(key, href)


@functools.lru_cache(maxsize=8192)
def _resolve(base: str, href: str) -> str | None:
    return absolute_url(base, href)


@functools.cache
def _xpaths() -> dict:
    """The XPath expressions of ``parse_html``, compiled once (not on every page)."""
    from lxml.etree import XPath

    return {name: XPath(expression) for name, expression in {
        "base": "//base/@href", "title": "//title/text()", "meta": "//meta[@name][@content]",
        "a": "//a[@href]", "script": "//script/text()",
        "dates": "//body//text()[contains(., '发布') or contains(., '日期') or contains(., '时间')]",
    }.items()}


def image_kind(url: str) -> str | None:
    """The image kind (``png``, ``jpg``, ``tiff`` ...) when ``url`` names an image file, else None."""
    name = urlsplit(url).path.rsplit("/", 1)[-1].lower()
    return IMAGE_LINK_KINDS.get(name.rpartition(".")[2]) if "." in name else None


def _selector_xpath(selector: str) -> str | None:
    """XPath of a content selector of the simple forms ``#id``, ``.class`` and ``[id^=x]``."""
    if re.fullmatch(r"#[\w-]+", selector):
        return f"//*[@id='{selector[1:]}']"
    if re.fullmatch(r"\.[\w-]+", selector):
        return f"//*[contains(concat(' ', normalize-space(@class), ' '), ' {selector[1:]} ')]"
    match = re.fullmatch(r"\[id\^=([\w-]+)\]", selector)
    return f"//*[starts-with(@id, '{match.group(1)}')]" if match else None


@functools.cache
def _container_xpaths() -> tuple:
    """The extractor's content selectors as compiled XPath, most specific first, then body."""
    from lxml.etree import XPath

    from policylens.corpus.extract.html import CONTENT_SELECTORS

    found = [_selector_xpath(selector) for selector in CONTENT_SELECTORS]
    return tuple(XPath(x) for x in found if x) + (XPath("//body"),)


def _content_root(root):
    """The article body: the first content container the extractor knows, else ``<body>``."""
    for xpath in _container_xpaths():
        found = xpath(root)
        if found:
            return found[0]
    return None


def _in_chrome(node, stop) -> bool:
    """True when ``node`` sits in page chrome (header, navigation, footer ...) below ``stop``."""
    while node is not None and node is not stop:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag.lower() in _CHROME_TAGS:
            return True
        if _CHROME.search(f"{node.get('class') or ''} {node.get('id') or ''}"):
            return True
        node = node.getparent()
    return False


def _declared_side(img) -> int | None:
    """The smaller of the width and height an ``<img>`` declares (attributes or style), if any."""
    sides = []
    style = img.get("style") or ""
    for name in ("width", "height"):
        match = re.match(r"\s*(\d+)\s*(?:px)?\s*$", img.get(name) or "") or re.search(
            rf"(?:^|;)\s*{name}\s*:\s*(\d+)\s*px", style, re.I)
        if match:
            sides.append(int(match.group(1)))
    return min(sides) if sides else None


def _body_images(root, base: str, max_cjk: int | None = None) -> list[tuple[str, str]]:
    """Images in the article body worth OCR: ``<img>`` and links to image files.

    Left out: images in page chrome, ``data:`` URIs (the extractor reads those itself),
    names of decoration (icon, logo, button, QR code) and images declared smaller than
    ``MIN_IMAGE_SIDE`` pixels; the crawler skips small files by their size too.
    """
    container = _content_root(root)
    if container is None:
        return []
    if max_cjk is not None and len(_CJK.findall(container.text_content())) >= max_cjk:
        return []  # a text page: its images are illustrations
    found = []
    for node in container.iter("img", "a"):
        src = node.get("src") if node.tag == "img" else node.get("href")
        target = _absolute(base, src) if src and not src.strip().startswith("data:") else None
        if not target or not image_kind(target) or _DECORATION.search(urlsplit(target).path):
            continue
        if node.tag == "img":
            side = _declared_side(node)
            if side is not None and side < MIN_IMAGE_SIDE:
                continue
        if _in_chrome(node, container):
            continue
        label = node.get("alt") or node.get("title") or (node.text_content() if node.tag == "a" else "")
        found.append((target, " ".join((label or "").split())))
    return found


def _parse_create_page(script: str) -> tuple[int, int, str, str] | None:
    """Read ``createPageHTML(total, current, "prefix", "ext")`` (extra arguments ignored)."""
    for match in _CREATE_PAGE.finditer(script):
        args = [a.strip().strip("'\"") for a in match.group(1).split(",")]
        numbers = [int(a) for a in args if a.isdigit()]
        strings = [a for a in args if a and not a.isdigit()]
        exts = [s for s in strings if s.lower() in ("html", "shtml", "htm", "jhtml")]
        names = [s for s in strings if s not in exts and re.fullmatch(r"[\w.-]+", s)]
        if len(numbers) >= 2 and exts:
            prefix = names[-1] if names else "index"
            return numbers[0], numbers[1], prefix, exts[0]
    return None


def _matches(pattern: str | None, value: str) -> bool:
    return pattern is None or re.search(pattern, value) is not None


def _page_number(url: str, seed: str) -> int | None:
    """The page number of ``url`` if it is a ``_N`` sibling of the column page ``seed``."""
    seed_path = urlsplit(seed).path
    path = urlsplit(url).path
    folder, _, name = seed_path.rpartition("/")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    if not stem:
        stem = "index"
    pattern = re.escape(f"{folder}/{stem}_") + r"(\d+)" + (re.escape("." + ext) if ext else "")
    match = re.fullmatch(pattern, path)
    if match:
        n = int(match.group(1))
        return n + 1 if stem == "index" else n  # TRS index_1.html is the 2nd page
    if stem != "index":
        match = re.fullmatch(re.escape(folder) + r"/index_(\d+)\.s?html?", path)
        if match:
            return int(match.group(1)) + 1
    return None


def list_links(page: PageInfo, *, seed: str, page_no: int, max_pages: int,
               link_pattern: str | None, title_pattern: str | None,
               article_pattern: re.Pattern | None = ARTICLE_URL,
               probing: bool | None = None) -> list[Link]:
    """Links to follow from one HTML list page of a column.

    Args:
        page: the parsed list page.
        seed: the column's first list page URL (pagination siblings are derived from it).
        page_no: this page's number (1 for the column page).
        max_pages: list pages to walk at most.
        link_pattern: regex the article URL must match (None: any).
        title_pattern: regex the anchor text must match (None: any).
        article_pattern: URL shape an article must have when no pattern is given
            (used for policy columns, which take every article).
        probing: guess the next ``_N.shtml`` page when no pagination is visible (default: on
            the column page only; the engine passes True for pages that were guesses too).
    """
    if probing is None:
        probing = page_no == 1
    links: list[Link] = []
    seen: set[str] = {page.url, seed}
    pagination_found = False

    def add_list(url: str, number: int, probe: bool = False) -> None:
        nonlocal pagination_found
        pagination_found = True
        if url not in seen and 1 < number <= max_pages:
            seen.add(url)
            links.append(Link(url=url, kind="list", page_no=number, probe=probe))

    if page.create_page and page_no == 1:
        total, current, prefix, ext = page.create_page
        folder = page.url.rsplit("/", 1)[0]
        first = 1 if current == 0 else 2  # 0-based: page i -> prefix_i; 1-based starts at _2
        last = total - 1 if current == 0 else total
        for i in range(first, last + 1):
            add_list(f"{folder}/{prefix}_{i}.{ext}", i + 1 if current == 0 else i)
    for url, text in page.anchors:
        if url in seen:
            continue
        number = _page_number(url, seed)
        if number is not None:
            add_list(url, number)
            continue
        if NEXT_PAGE_TEXT.match(text or ""):
            add_list(url, page_no + 1)
            continue
        if not _matches(title_pattern, text) or not _matches(link_pattern, url):
            continue
        kind = "attachment" if attachment_kind(url) else "article"
        if (kind == "article" and link_pattern is None and title_pattern is None
                and article_pattern is not None and not article_pattern.search(urlsplit(url).path)):
            continue  # a policy column takes every article, but not the navigation
        seen.add(url)
        month = _URL_MONTH.search(urlsplit(url).path)
        links.append(Link(url=url, kind=kind, text=text,
                          pub_date=f"{month.group(1)}-{month.group(2)}" if month else None))
    if probing and not pagination_found and page.url.endswith(".shtml") and page_no < max_pages:
        # UCAP lists paginate with JavaScript: guess the next page; its 404 ends the list.
        if any(link.kind != "list" for link in links):
            parts = urlsplit(seed)
            folder, _, name = parts.path.rpartition("/")
            stem = name.rsplit(".", 1)[0]
            url = f"{parts.scheme}://{parts.netloc}{folder}/{stem}_{page_no + 1}.shtml"
            if url not in seen:
                links.append(Link(url=url, kind="list", page_no=page_no + 1, probe=True))
    return links


_JSON_URL_KEYS = ("url", "link", "linkurl", "href", "infourl", "docpuburl", "pageurl",
                  "puburl", "docurl", "articleurl", "detailurl")
_JSON_TITLE_KEYS = ("title", "doctitle", "infotitle", "name", "articletitle", "subject")
_JSON_DATE_KEYS = ("pubdate", "publishdate", "infodate", "docreltime", "date", "time",
                   "publishtime", "createtime", "releasedate")


def _json_items(node, depth: int = 0) -> list[dict] | None:
    """Find the first list of objects that carry a URL-like field (breadth-first-ish)."""
    if depth > 6:
        return None
    if isinstance(node, list) and node and all(isinstance(i, dict) for i in node):
        keys = {k.lower() for k in node[0]}
        if keys & set(_JSON_URL_KEYS):
            return node
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    for child in children:
        if isinstance(child, (dict, list)):
            found = _json_items(child, depth + 1)
            if found is not None:
                return found
    return None


def json_list_links(content: bytes, url: str, *, link_pattern: str | None,
                    title_pattern: str | None) -> tuple[list[Link], int]:
    """Article links from a JSON list API page.

    Returns:
        ``(links, items)``: the links that pass the patterns and how many items the page held
        (0 ends the pagination).

    Raises:
        ValueError: the body is not JSON.
    """
    data = json.loads(content.decode("utf-8-sig", errors="replace"))
    items = _json_items(data) or []
    links = []
    for item in items:
        lowered = {k.lower(): v for k, v in item.items()}
        href = next((lowered[k] for k in _JSON_URL_KEYS if isinstance(lowered.get(k), str)), None)
        target = absolute_url(url, href) if href else None
        if not target:
            continue
        title = next((lowered[k] for k in _JSON_TITLE_KEYS if isinstance(lowered.get(k), str)), "")
        title = re.sub(r"<[^>]+>", "", title).strip()  # search APIs highlight with <em>
        if not _matches(title_pattern, title) or not _matches(link_pattern, target):
            continue
        date = next((str(lowered[k]) for k in _JSON_DATE_KEYS if lowered.get(k)), None)
        kind = "attachment" if attachment_kind(target) else "article"
        links.append(Link(url=target, kind=kind, text=title, pub_date=parse_date(date, month=True)))
    return links, len(items)


def sniff_type(content: bytes) -> str:
    """What the bytes are, by magic number (``policylens.corpus.extract.detect_kind``): pdf,
    ole (doc/xls/wps), zip (docx/xlsx/ofd), rar, 7z, html or unknown."""
    return container_of(detect_kind(content))


# Which sniffed types an extension may hold (a .doc that is really a .docx is fine).
EXPECTED_TYPES = {
    "pdf": {"pdf"}, "doc": {"ole", "zip"}, "docx": {"zip", "ole"}, "wps": {"ole", "zip"},
    "xls": {"ole", "zip"}, "xlsx": {"zip", "ole"}, "et": {"ole", "zip"}, "ofd": {"zip"},
    "zip": {"zip"}, "rar": {"rar"}, "7z": {"7z"},
}
