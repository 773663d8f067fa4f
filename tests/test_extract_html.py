"""HTML extraction: real Xinjiang bulletin pages (../shared) and built pages with bad charsets."""

from __future__ import annotations

import pytest

from policylens.corpus.extract import ExtractOptions, extract_bytes, extract_file
from policylens.corpus.extract.dates import parse_date

INLINE = ExtractOptions(isolate=False)

# file, method, pub_date, phrases verified by reading the page, nav/chrome strings of the page
REAL_PAGES = [
    (
        "xj_urumqi_2025_tjgb.html",
        "html:generic",
        "2026-04-21",
        ["全年获得专利授权总量5164件，其中发明1003件", "按常住人口计算，全市人均地区生产总值112485元"],
        ["乌鲁木齐人大", "微博分享", "打印本文", "政务服务", "无障碍"],
    ),
    (
        "xj_changji_2025_tjgb.html",
        "html:#bnr",
        "2026-05-08",
        ["全年获得专利授权1912件，其中获得发明专利授权103件", "全年实现地区生产总值（GDP）2637.67亿元"],
        ["地产数据", "入网指南", "免费试用", "关闭窗口", "用户登录"],
    ),
    (
        "xj_bazhou_2025_tjgb.html",
        "html:#bnr",
        "2026-05-28",
        ["全年专利授权量 920 件，拥有有效发明专利391件", "年末全州常住人口（不含铁门关市）146.68 万人"],
        ["地产数据", "入网指南", "免费试用", "关闭窗口"],
    ),
    (
        "xj_aksu_2025_tjgb.html",
        "html:#bnr",
        "2026-05-28",
        ["全年获得专利授权1199件；有效发明专利607件", "全年阿克苏地区生产总值(GDP)2042.98亿元"],
        ["地产数据", "入网指南", "免费试用", "关闭窗口"],
    ),
]


@pytest.mark.realdata
@pytest.mark.parametrize("name,method,pub_date,phrases,chrome", REAL_PAGES, ids=[p[0] for p in REAL_PAGES])
def test_real_bulletin_pages(shared, name, method, pub_date, phrases, chrome):
    ex = extract_file(shared("realdata", "html", name), INLINE)
    assert ex.method == method
    assert ex.meta["pub_date"] == pub_date
    assert ex.flags == ()
    for phrase in phrases:
        assert phrase in ex.text
    for junk in chrome:
        assert junk not in ex.text


@pytest.mark.realdata
def test_urumqi_metadata_and_encoding(shared):
    ex = extract_file(shared("realdata", "html", "xj_urumqi_2025_tjgb.html"), INLINE)
    assert ex.encoding == "utf-8"
    assert ex.title == "乌鲁木齐市2025年国民经济和社会发展统计公报"
    assert ex.meta["source"] == "乌鲁木齐市统计局"
    assert ex.meta["site_name"] == "乌鲁木齐市人民政府"
    assert ex.meta["column_name"] == "统计公报"
    assert ex.text.startswith("2025年是“十四五”规划收官之年")


@pytest.mark.realdata
@pytest.mark.parametrize("name", ["xj_changji_2025_tjgb.html", "xj_bazhou_2025_tjgb.html"])
def test_gb2312_pages_decode_as_gb18030(shared, name):
    ex = extract_file(shared("realdata", "html", name), INLINE)
    assert ex.encoding == "gb18030"
    assert "\ufffd" not in ex.text


@pytest.mark.realdata
def test_kizilsu_pubdate_wrapped_in_tags(shared):
    # <meta name="PubDate" content="<PUBLISHTIME>2026-06-02 18:47</PUBLISHTIME>"> plus a
    # template PubDate carrying the render time 2026-07-15: publication is the earlier one.
    ex = extract_file(shared("realdata", "html", "xj_kizilsu_2025_tjgb.html"), INLINE)
    assert ex.meta["pub_date"] == "2026-06-02"
    assert ex.title == "克孜勒苏柯尔克孜自治州2025年国民经济和社会发展统计公报"
    assert ex.text == ""
    assert ex.flags == ("short_text",)


@pytest.mark.realdata
def test_hotan_body_is_an_attachment(shared):
    path = shared("realdata", "html", "xj_hotan_2025_tjgb.html")
    url = "https://www.xjht.gov.cn/xjht/c128291/202603/ff9ab42d41b44c749fa720ed94692fd6.shtml"
    ex = extract_bytes(path.read_bytes(), filename=path.name, url=url, options=INLINE)
    assert [(a.url, a.kind) for a in ex.attachments] == [
        (
            "https://www.xjht.gov.cn/xjht/c128291/202603/ff9ab42d41b44c749fa720ed94692fd6/files/"
            "2025年和田地区国民经济和社会发展统计公报--3.30-20260331121149842.docx",
            "docx",
        )
    ]
    assert ex.flags == ("short_text",)
    assert "attachment" in ex.warnings[-1]
    assert ex.meta["pub_date"] == "2026-03-31"


@pytest.mark.realdata
def test_nfra_rendered_page_drops_nav(shared):
    ex = extract_file(shared("realdata", "html", "nfra_gov_cn_rendered_page.html"), INLINE)
    assert ex.method == "html:.wenzhang-content"
    assert ex.title == "国家金融监督管理总局行政处罚信息公开表(金罚决字〔2024〕36号)"
    assert ex.meta["doc_number"] == "金罚决字〔2024〕36号"
    assert ex.meta["pub_date"] == "2024-07-12"
    assert "对复星联合健康保险股份有限公司合计罚款158万元" in ex.text
    for nav in ("机构概况", "新闻资讯", "互动交流", "无障碍浏览", "李云泽", "网站地图"):
        assert nav not in ex.text


@pytest.mark.realdata
def test_karamay_epaper_attachment_is_absolute(shared):
    path = shared("realdata", "html", "xj_karamay_2025_tjgb_szb_page06.html")
    url = "https://szb.kelamayi.com.cn/html/2026-05/19/content_1516_343187.htm"
    ex = extract_bytes(path.read_bytes(), filename=path.name, url=url, options=INLINE)
    assert "https://szb.kelamayi.com.cn/resfile/2026-05-19/A06/klmyrb20260519A06.pdf" in [
        a.url for a in ex.attachments
    ]


PAGE = """<html><head><meta charset="{charset}"><title>关于推进数字经济发展的通知_政策文件_示例政府网</title>
<meta name="ArticleTitle" content="关于推进数字经济发展的通知">
<meta name="PubDate" content="2024-03-05 10:00">
<meta name="ContentSource" content="自治区发展改革委">
</head><body>
<div class="nav"><a href="/">首页</a><a href="/zwgk">政务公开</a><a href="/hdjl">互动交流</a></div>
<div class="main"><div id="zoom">
<p>【字号：大 中 小】</p>
<p>新发改规〔2024〕12号</p>
<p>各地州市人民政府：为加快数字经济发展，推动镕铸产业集群，现将有关事项通知如下。</p>
<p>一、加强算力基础设施建设，推进大数据中心和人工智能应用。</p>
<p><a href="files/附件1.pdf">附件1.pdf</a> <a href="/x/附件2.docx">附件2</a> <a href="list.shtml">更多</a></p>
</div>
<div class="share">分享到：微信 微博</div><p>打印</p><p>关闭窗口</p></div>
<div class="footer">版权所有 示例政府网 备案号</div>
<script>var a = "脚本里的字";</script>
</body></html>"""


def _page(charset: str, encoding: str) -> bytes:
    return PAGE.format(charset=charset).encode(encoding)


def test_cms_page_content_meta_and_attachments():
    ex = extract_bytes(
        _page("utf-8", "utf-8"), filename="t.shtml", url="https://example.gov.cn/a/b/t.shtml", options=INLINE
    )
    assert ex.method == "html:#zoom"
    assert ex.text == (
        "新发改规〔2024〕12号\n\n"
        "各地州市人民政府：为加快数字经济发展，推动镕铸产业集群，现将有关事项通知如下。\n\n"
        "一、加强算力基础设施建设，推进大数据中心和人工智能应用。\n\n"
        "附件1.pdf 附件2 更多"
    )
    assert ex.title == "关于推进数字经济发展的通知"
    assert ex.meta == {
        "title": "关于推进数字经济发展的通知",
        "pub_date": "2024-03-05",
        "source": "自治区发展改革委",
        "doc_number": "新发改规〔2024〕12号",
    }
    assert ex.attachments == (
        type(ex.attachments[0])("https://example.gov.cn/a/b/files/附件1.pdf", "附件1.pdf", "pdf"),
        type(ex.attachments[0])("https://example.gov.cn/x/附件2.docx", "附件2", "docx"),
    )
    assert ex.encoding == "utf-8"


def test_gb2312_declared_page_decodes_rong_as_gb18030():
    # 镕 is not in GB2312; pages that declare gb2312 but use GBK must still decode.
    ex = extract_bytes(_page("gb2312", "gbk"), filename="t.html", options=INLINE)
    assert ex.encoding == "gb18030"
    assert "推动镕铸产业集群" in ex.text
    assert ex.warnings == ()


def test_lying_charset_utf8_declared_but_gbk_bytes():
    ex = extract_bytes(_page("utf-8", "gbk"), filename="t.html", options=INLINE)
    assert ex.encoding == "gb18030"
    assert "为加快数字经济发展" in ex.text
    assert ex.warnings == ("page declares charset utf-8 but its bytes do not match; detected",)


def test_lying_charset_gbk_declared_but_utf8_bytes():
    ex = extract_bytes(_page("gbk", "utf-8"), filename="t.html", options=INLINE)
    assert ex.encoding == "utf-8"
    assert "为加快数字经济发展" in ex.text
    assert ex.warnings == ("page declares charset gb18030 but its bytes are UTF-8",)


def test_http_header_charset_wins_over_meta():
    data = _page("utf-8", "gbk")
    ex = extract_bytes(data, content_type="text/html; charset=GBK", options=INLINE)
    assert ex.encoding == "gb18030"
    assert ex.warnings == ()
    assert "一、加强算力基础设施建设" in ex.text


def test_generic_fallback_picks_densest_block():
    body = "".join(f"<p>第{i}段：推进数字政府建设，提升政务服务效能，加快数据要素市场化配置改革。</p>" for i in range(8))
    html = (
        "<html><body><ul class='x'>" + "".join(f"<li><a href='/{i}'>栏目{i}</a></li>" for i in range(30))
        + f"</ul><div class='wrap'><div class='text-box'>{body}</div></div>"
        "<div>联系我们 地址 电话</div></body></html>"
    )
    ex = extract_bytes(html.encode(), filename="x.html", options=INLINE)
    assert ex.method == "html:generic"
    assert ex.text.split("\n\n") == [
        f"第{i}段：推进数字政府建设，提升政务服务效能，加快数据要素市场化配置改革。" for i in range(8)
    ]


@pytest.mark.parametrize(
    "value,expected",
    [
        ("2024-03-05 10:00", "2024-03-05"),
        ("<PUBLISHTIME>2026-06-02 18:47</PUBLISHTIME>", "2026-06-02"),
        ("2023年1月9日", "2023-01-09"),
        ("2023/12/31", "2023-12-31"),
        ("not a date", None),
        ("2023-13-01", None),
    ],
)
def test_parse_date(value, expected):
    assert parse_date(value) == expected


def test_chrome_lines_stripped_but_body_kept():
    from policylens.corpus.extract.html import _strip_chrome_lines

    text = "默认情况下适用本办法。\n【字号：大 中 小】\n打印 | 关闭窗口\n默认 护眼\n分享到：\n【打印本页】\n正文"
    assert _strip_chrome_lines(text) == "默认情况下适用本办法。\n正文"
