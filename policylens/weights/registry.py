"""The nine indicators of the seed report's Table 3 and their three sub-indices.

Every indicator is positive (正向): more is better. Ids are what weights files, ``--supply``
CSVs and JSON output use; labels and units are what reports show.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Indicator", "INDICATORS", "SUBINDICES", "SUBINDEX_LABELS", "indicators_of"]


@dataclass(frozen=True)
class Indicator:
    """One index indicator.

    Attributes:
        id: machine name, e.g. ``"patents_per_10k"``.
        label: the Chinese name from Table 3.
        unit: the unit from Table 3 (``""`` when dimensionless).
        subindex: the sub-index id it belongs to.
    """

    id: str
    label: str
    unit: str
    subindex: str


SUBINDEX_LABELS = {
    "infrastructure": "基础设施",
    "environment": "发展环境",
    "outcomes": "发展成效",
}
SUBINDICES = tuple(SUBINDEX_LABELS)

INDICATORS: dict[str, Indicator] = {
    ind.id: ind
    for ind in (
        Indicator("g5_density", "5G基站密度", "个/万人", "infrastructure"),
        Indicator("broadband_penetration", "固定宽带接入用户普及率", "部/百人", "infrastructure"),
        Indicator("mobile_internet_penetration", "移动互联网用户普及率", "部/百人", "infrastructure"),
        Indicator("technology_emphasis", "数字技术重视度", "", "environment"),
        Indicator("policy_count", "数字经济政策发布数", "条", "environment"),
        Indicator("patents_per_10k", "人均专利授权数", "件/万人", "environment"),
        Indicator("digital_economy_share_gdp", "数字经济规模占GDP比重", "%", "outcomes"),
        Indicator("ecommerce_share_tertiary", "电子商务交易额占第三产业增加值比重", "%", "outcomes"),
        Indicator("online_retail_share", "网络零售交易额占社会零售消费品比重", "%", "outcomes"),
    )
}


def indicators_of(subindex: str) -> tuple[str, ...]:
    """Return the indicator ids of one sub-index, in Table 3 order."""
    return tuple(i.id for i in INDICATORS.values() if i.subindex == subindex)
