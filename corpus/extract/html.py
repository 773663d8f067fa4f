"""HTML pages: decode bytes, keep the main content, read CMS metadata and attachment links."""

from __future__ import annotations

import logging
import re
from urllib.parse import urljoin, urlsplit

from .cleanup import cjk_count, normalize_spacing
from .damage import check_decoding, salvage
from .dates import parse_date
from .decode import decode_html
from .detect import attachment_kind
from .model import Attachment, Extraction, ExtractOptions, failed

__all__ = ["extract_html", "CONTENT_SELECTORS"]

log = logging.getLogger(__name__)

# Main-content containers of common Chinese government CMSs, most specific first.
CONTENT_SELECTORS = (
    "#zoom",
    ".TRS_Editor",
    "#UCAPCONTENT",
    ".UCAPCONTENT",
    ".pages_content",
    ".xxgk_content",
    ".article-content",
    ".detail-content",
    ".gknbxq_detail",
    ".wenzhang-content",
    "#articleContent",
    "[id^=vsb_content]",
    ".v_news_content",
    ".view",
    ".article",
    "#content",
    "#bnr",
)
_DROP_TAGS = (
    "script", "style", "noscript", "iframe", "template", "svg", "canvas", "select",
    "input", "button", "textarea", "nav", "header", "footer", "aside", "form", "link", "object",
)
_CHROME_NAME = re.compile(
    r"nav|menu|footer|header|breadcrumb|crumb|share|toolbar|sidebar|side-bar|copyright|dropdown"
    r"|search|login|topbar|banner|ewm|qrcode|print|close|fontsize|zihao|weizhi|location|position"
    r"|friend-?link|yqlj|related|xgwz|pagination",
    re.IGNORECASE,
)
# Page chrome that sits inside content containers: font-size switches, print/close buttons.
_CHROME_LINE = re.compile(
    r"^[\s【\[]*(?:下载|打印(?:本页)?|全屏|收藏|关闭(?:窗口|本页)?|分享(?:到)?[:：]?|扫一扫.*|"
    r"字号[:：]?\s*(?:大\s*中\s*小|加大\s*还原\s*减小|[大中小]\s*)*|【?\s*大\s*中\s*小\s*】?|"
    r"[大中小]|返回顶部|责任编辑[:：].*|视力保护色.*|默认\s*护眼|阅读次数[:：]?\s*\d*|浏览次数[:：]?\s*\d*)"
    r"[\s】\]|/]*$"
)
_CHROME_TOKENS = re.compile(r"下载|打印|全屏|收藏|关闭窗口|分享到|字号|大\s*中\s*小|加大|减小|还原|扫一扫|【|】|\||/|\s")
_BLOCK_TAGS = frozenset(
    "p div br tr li h1 h2 h3 h4 h5 h6 table tbody thead section article ul ol dl dt dd "
    "blockquote pre center hr".split()
)
_INLINE_TAGS = frozenset("span font strong b em i a u sup sub small big label ins".split())
_META_KEYS = {
    "articletitle": "title",
    "contentsource": "source",
    "sitename": "site_name",
    "columnname": "column_name",
    "keywords": "keywords",
    "description": "description",
}
_DATE_KEYS = ("pubdate", "publishdate", "firstpublishedtime", "published_time", "article:published_time")
_DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,12}[〔\[［(（]\d{4}[〕\]］)）]\s*\d{1,4}\s*号")


def _classes(el) -> str:
    cls = el.get("class") or []
    return " ".join(cls) + " " + (el.get("id") or "") if isinstance(cls, list) else str(cls)


def _link_density(el) -> float:
    text = len(el.get_text(" ", strip=True)) or 1
    links = sum(len(a.get_text(" ", strip=True)) for a in el.find_all("a"))
    return links / text


def _drop_chrome(soup) -> None:
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for el in soup.find_all(True):
        if el.decomposed or el.name in ("html", "body"):
            continue
        if el.attrs is None:
            continue
        name = _classes(el)
        if name.strip() and _CHROME_NAME.search(name):
            text = el.get_text(" ", strip=True)
            if cjk_count(text) < 200 or _link_density(el) > 0.5:
                el.decompose()


def block_text(el) -> str:
    """Text of an element with line breaks at block elements and tabs between table cells."""
    from bs4 import NavigableString, Tag
    from bs4.element import Comment

    parts: list[str] = []

    def walk(node) -> None:
        for child in node.children:
            if isinstance(child, Comment):
                continue
            if isinstance(child, NavigableString):
                parts.append(re.sub(r"[\r\n\t]+", " ", str(child)))
            elif isinstance(child, Tag):
                if child.name in ("td", "th"):
                    parts.append("\t")
                    walk(child)
                elif child.name in _BLOCK_TAGS:
                    parts.append("\n")
                    walk(child)
                    parts.append("\n")
                else:
                    walk(child)

    walk(el)
    lines = []
    for line in "".join(parts).split("\n"):
        cells = [c.strip() for c in line.split("\t") if c.strip()]
        lines.append("\t".join(cells))
    return "\n".join(lines)


def _densest(soup):
    """Element holding the most non-link Chinese text directly in its paragraphs."""
    from bs4 import NavigableString

    scores: dict[int, float] = {}
    elements = {}
    for string in soup.find_all(string=True):
        if not isinstance(string, NavigableString) or string.find_parent("a"):
            continue
        weight = cjk_count(str(string))
        if weight < 5:
            continue
        parent = string.parent
        factor = 1.0
        credited = 0
        # Credit the paragraph, its container and the container's parent; inline tags
        # (span, font, strong ...) are skipped without using up a level.
        while parent is not None and parent.name not in ("html", "[document]") and credited < 3:
            if parent.name not in _INLINE_TAGS:
                scores[id(parent)] = scores.get(id(parent), 0.0) + weight * factor
                elements[id(parent)] = parent
                factor /= 2
                credited += 1
            parent = parent.parent
    if not scores:
        return None
    best = max(scores, key=lambda k: scores[k] * (1 - min(0.9, _link_density(elements[k]))))
    return elements[best]


def _main_content(soup) -> tuple[object, str]:
    for selector in CONTENT_SELECTORS:
        found = [el for el in soup.select(selector) if cjk_count(el.get_text(" ", strip=True)) >= 10]
        if found:
            best = max(found, key=lambda el: cjk_count(el.get_text(" ", strip=True)))
            return best, f"html:{selector}"
    el = _densest(soup)
    return (el, "html:generic") if el is not None else (soup.body or soup, "html:generic")


def _strip_chrome_lines(text: str) -> str:
    kept = []
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped and (_CHROME_LINE.match(stripped) or not _CHROME_TOKENS.sub("", stripped)):
            continue
        kept.append(line)
    return "\n".join(kept)


def _metadata(soup) -> dict[str, str]:
    meta: dict[str, str] = {}
    dates: list[str] = []
    for tag in soup.find_all("meta"):
        name = (tag.get("name") or tag.get("property") or "").strip().lower()
        content = (tag.get("content") or "").strip()
        if not name or not content:
            continue
        if name in _DATE_KEYS:
            date = parse_date(content)
            if date:
                dates.append(date)
        elif name in _META_KEYS and _META_KEYS[name] not in meta:
            meta[_META_KEYS[name]] = re.sub(r"<[^>]+>", "", content).strip()
    if dates:
        # Some CMS templates repeat PubDate with the page's render time; publication is earliest.
        meta["pub_date"] = min(dates)
    return {k: v for k, v in meta.items() if v}


_DATE_NAME = re.compile(r"date|time|rqq?$|fbrq|fbsj|pubtime|publish", re.IGNORECASE)
_DATE_LABEL = re.compile(r"(?:发布|发文|成文|印发)?(?:时间|日期)\s*[:：]\s*(\d{4}\s*[-年/.]\s*\d{1,2}\s*[-月/.]\s*\d{1,2})")


def _visible_date(soup) -> str | None:
    """Publication date shown on the page when the CMS wrote no PubDate meta tag."""
    for el in soup.find_all(True, id=_DATE_NAME) + soup.find_all(True, class_=_DATE_NAME):
        date = parse_date(el.get_text(" ", strip=True)[:40])
        if date:
            return date
    body = soup.body.get_text(" ", strip=True) if soup.body else ""
    match = _DATE_LABEL.search(body)
    return parse_date(match.group(1)) if match else None


def _attachments(soup, url: str | None) -> tuple[Attachment, ...]:
    found: dict[str, Attachment] = {}
    for a in soup.find_all("a", href=True):
        href = str(a["href"]).strip()
        if not href or href.startswith(("javascript:", "mailto:", "#")):
            continue
        try:  # a malformed link (``http://[bad/x.pdf``) is skipped, never loses the page
            ext = attachment_kind(href)
            if ext is None:
                continue
            path = urlsplit(href).path
            absolute = urljoin(url, href) if url else href
        except ValueError:
            continue
        if absolute not in found:
            text = a.get_text(" ", strip=True) or a.get("title", "") or path.rsplit("/", 1)[-1]
            found[absolute] = Attachment(url=absolute, text=text, kind=ext)
    return tuple(found.values())


def _title(soup, meta: dict[str, str]) -> str | None:
    if meta.get("title"):
        return meta["title"]
    for tag in soup.find_all(["h1", "h2"]):
        text = tag.get_text(" ", strip=True)
        if cjk_count(text) >= 4:
            return text
    if soup.title and soup.title.get_text(strip=True):
        # "正文标题_栏目_网站" / "标题 - 网站": keep the first part.
        return re.split(r"\s*(?:_|\s-\s|\|)\s*", soup.title.get_text(strip=True))[0] or None
    return None


def _body_images(container, body, attachments, url, method, options, progress, flags, warnings, meta):
    """Read a body that is (mostly) images by OCR; list linked body images as attachments."""
    from . import ocr

    mode = options.ocr if options is not None else "auto"
    sources = ocr.image_sources(container)
    if mode == "never" or not sources or (mode == "auto" and cjk_count(body) >= 50):
        return body, attachments, method
    linked = []
    for src in sources:
        kind = urlsplit(src).path.rsplit(".", 1)[-1].lower()
        if not src.startswith("data:") and kind in ocr.IMAGE_EXTENSIONS:
            absolute = urljoin(url, src) if url else src
            if all(a.url != absolute for a in attachments):
                linked.append(Attachment(url=absolute, text="", kind=ocr.IMAGE_EXTENSIONS[kind]))
    result = ocr.read_html_images(sources, options or ExtractOptions(isolate=False), progress)
    if result is None or not result.texts:
        return body, attachments + tuple(linked), method
    from .pdf import pages_to_text

    read = pages_to_text(result.texts)
    body = normalize_spacing(f"{body}\n{read}" if body else read)
    flags.append("ocr")
    scores, low = ocr.confidence_note(result.confidences, options.ocr_min_confidence)
    if low:
        flags.append("ocr_low_confidence")
        warnings.append(low)
    warnings.extend(result.warnings)
    meta.update({"ocr_engine": result.engine, "ocr_confidence": scores})
    return body, attachments + tuple(linked), f"{method}+ocr:{result.engine}"


def extract_html(
    data: bytes, *, content_type: str | None = None, url: str | None = None, options=None, progress=None
) -> Extraction:
    """Extract the main text, metadata and attachment links of an HTML page.

    Args:
        data: the page bytes as fetched.
        content_type: the HTTP ``Content-Type`` (its charset is tried first).
        url: the page URL, to make attachment links absolute.
        options: ``ExtractOptions``; its ``ocr`` mode decides whether images in the body
            are read (``auto``: when the body has almost no text).
        progress: called as ``progress(done, total)`` per image read by OCR.

    Returns:
        An Extraction with method ``html:<selector>`` or ``html:generic`` (``+ocr:...`` when
        body images were read).
    """
    decoded = decode_html(data, content_type)
    if decoded is None:
        rescued = salvage(data)  # UTF-8 with a few damaged bytes is still the page
        if rescued is None:
            return failed("undecodable", "page is in no known encoding; save it as UTF-8",
                          method="html")
        text, encoding, warnings = rescued.text, rescued.encoding, [rescued.warning]
    else:
        text, encoding, warnings = decoded.text, decoded.encoding, list(decoded.warnings)
    check = check_decoding(data, text, encoding)  # mojibake is refused, not stored
    if check.flag:
        return failed(check.flag, check.warning, method="html", encoding=encoding)
    text, encoding = check.text, check.encoding
    warnings = warnings + ([check.warning] if check.warning else [])
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "lxml")
    meta = _metadata(soup)
    if "pub_date" not in meta:
        date = _visible_date(soup)
        if date:
            meta["pub_date"] = date
    attachments = _attachments(soup, url)
    title = _title(soup, meta)
    _drop_chrome(soup)
    container, method = _main_content(soup)
    body = normalize_spacing(_strip_chrome_lines(block_text(container)))
    # Drop the repeated title line at the top of the body (it is in `title`).
    lines = body.split("\n")
    if title and lines and re.sub(r"\s", "", lines[0]) == re.sub(r"\s", "", title):
        body = "\n".join(lines[1:]).strip()
    flags: list[str] = []
    # A body that is only images has no text for the content finder: look in the whole body.
    holder = container if container.find("img") is not None else (soup.body or soup)
    body, attachments, method = _body_images(holder, body, attachments, url, method, options, progress,
                                             flags, warnings, meta)
    doc_number = _DOC_NUMBER.search(body[:2000])
    if doc_number:
        meta["doc_number"] = doc_number.group(0)
    if cjk_count(body) < 50:
        flags.append("short_text")
        hint = (
            f"the body is a link to {len(attachments)} attachment(s); extract those"
            if attachments
            else "the page may show its text as images or load it with JavaScript"
        )
        warnings.append(f"page body has only {cjk_count(body)} Chinese characters; {hint}")
    return Extraction(
        text=body,
        title=title,
        method=method,
        flags=tuple(flags),
        warnings=tuple(warnings),
        meta=meta,
        attachments=attachments,
        encoding=encoding,
    )
