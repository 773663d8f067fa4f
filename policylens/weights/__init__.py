"""Index weights: the Table 3 indicator registry and the TOML weights loader."""

from policylens.weights.loader import (
    DEFAULT_WEIGHTS,
    SubIndexWeights,
    WeightSpec,
    load_weights,
    parse_weights,
)
from policylens.weights.registry import (
    INDICATORS,
    SUBINDEX_LABELS,
    SUBINDICES,
    Indicator,
    indicators_of,
)

__all__ = [
    "DEFAULT_WEIGHTS",
    "INDICATORS",
    "SUBINDEX_LABELS",
    "SUBINDICES",
    "Indicator",
    "SubIndexWeights",
    "WeightSpec",
    "indicators_of",
    "load_weights",
    "parse_weights",
]
