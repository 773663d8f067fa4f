"""Load and validate index weights from TOML (defaults ship as package data)."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from policylens.errors import ConfigError
from policylens.weights.registry import INDICATORS, SUBINDEX_LABELS, indicators_of

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["SubIndexWeights", "WeightSpec", "load_weights", "parse_weights", "DEFAULT_WEIGHTS"]

DEFAULT_WEIGHTS = "weights_default.toml"
# Weights written as 0.3333333333333333 three times sum to 1 within float rounding only.
_TOLERANCE = 1e-6


@dataclass(frozen=True)
class SubIndexWeights:
    """The weights of one sub-index.

    Attributes:
        id: sub-index id (``infrastructure``, ``environment``, ``outcomes``).
        label: its Chinese name.
        weight: its weight in the full index.
        indicators: indicator id -> weight within the sub-index (sums to 1).
    """

    id: str
    label: str
    weight: float
    indicators: dict[str, float]


@dataclass(frozen=True)
class WeightSpec:
    """A validated weights file.

    Attributes:
        name: the name given in the file.
        source: where it was read from.
        subindices: sub-index id -> :class:`SubIndexWeights`, in file order.
        normalized: notes on weights that were rescaled (only with ``normalize=True``).
    """

    name: str
    source: str
    subindices: dict[str, SubIndexWeights]
    normalized: tuple[str, ...] = field(default_factory=tuple)

    def indicator_ids(self) -> tuple[str, ...]:
        """Every indicator with a weight, sub-index by sub-index."""
        return tuple(i for s in self.subindices.values() for i in s.indicators)

    def to_dict(self) -> dict:
        """Plain data for JSON and reports."""
        return {
            "name": self.name,
            "source": self.source,
            "normalized": list(self.normalized),
            "subindices": {
                s.id: {"label": s.label, "weight": s.weight, "indicators": dict(s.indicators)}
                for s in self.subindices.values()
            },
        }


def load_weights(path: str | Path | None = None, *, normalize: bool = False) -> WeightSpec:
    """Load a weights TOML file; ``None`` loads the shipped equal weights.

    Args:
        path: the TOML file (see ``policylens/data/weights_default.toml`` for the layout).
        normalize: rescale weights that do not sum to 1 instead of refusing them.

    Returns:
        The validated :class:`WeightSpec`.

    Raises:
        ConfigError: the file is missing or malformed, names an unknown sub-index or
            indicator, has a negative weight, or weights that do not sum to 1.
    """
    if path is None:
        text = resources.files("policylens").joinpath("data", DEFAULT_WEIGHTS).read_text("utf-8")
        return parse_weights(text, where=f"policylens/data/{DEFAULT_WEIGHTS}", normalize=normalize)
    path = Path(path)
    if not path.is_file():
        raise ConfigError("weights file not found", where=str(path), hint="check --weights")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError("weights file is not UTF-8", where=str(path)) from None
    return parse_weights(text, where=str(path), normalize=normalize)


def parse_weights(text: str, *, where: str = "<weights>", normalize: bool = False) -> WeightSpec:
    """Parse weights TOML text (see :func:`load_weights`)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", where=where) from None
    tables = data.get("subindex")
    if not isinstance(tables, dict) or not tables:
        raise ConfigError(
            "no [subindex.<id>] tables", where=where, hint="see policylens/data/weights_default.toml"
        )
    notes: list[str] = []
    subindices: dict[str, SubIndexWeights] = {}
    for sid, table in tables.items():
        at = f"{where} [subindex.{sid}]"
        if sid not in SUBINDEX_LABELS:
            raise ConfigError(
                f"unknown sub-index {sid!r}", where=at, hint=f"use one of {', '.join(SUBINDEX_LABELS)}"
            )
        raw = table.get("indicators") if isinstance(table, dict) else None
        if not isinstance(raw, dict) or not raw:
            raise ConfigError("missing [.indicators] table", where=at)
        indicators = {}
        for iid, value in raw.items():
            if iid not in INDICATORS:
                raise ConfigError(
                    f"unknown indicator {iid!r}",
                    where=at,
                    hint=f"indicators of {sid}: {', '.join(indicators_of(sid))}",
                )
            if INDICATORS[iid].subindex != sid:
                raise ConfigError(
                    f"indicator {iid!r} belongs to sub-index {INDICATORS[iid].subindex!r}", where=at
                )
            indicators[iid] = _number(value, f"{at} {iid}")
        weight = _number(table.get("weight", 1.0 / len(tables)), f"{at} weight")
        indicators = _check_sum(indicators, f"{at} indicators", normalize, notes)
        subindices[sid] = SubIndexWeights(sid, SUBINDEX_LABELS[sid], weight, indicators)
    outer = _check_sum(
        {s: w.weight for s, w in subindices.items()}, f"{where} sub-index weights", normalize, notes
    )
    subindices = {
        s: SubIndexWeights(w.id, w.label, outer[s], w.indicators) for s, w in subindices.items()
    }
    return WeightSpec(
        name=str(data.get("name") or Path(where).stem),
        source=where,
        subindices=subindices,
        normalized=tuple(notes),
    )


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"weight {value!r} is not a number", where=where)
    if value < 0:
        raise ConfigError(f"weight {value} is negative", where=where, hint="weights must be >= 0")
    return float(value)


def _check_sum(weights: dict[str, float], where: str, normalize: bool, notes: list[str]) -> dict[str, float]:
    total = sum(weights.values())
    if total <= 0:
        raise ConfigError("weights sum to 0", where=where, hint="give at least one positive weight")
    if abs(total - 1.0) <= _TOLERANCE:
        return {k: v / total for k, v in weights.items()}  # remove float rounding only
    if not normalize:
        raise ConfigError(
            f"weights sum to {total:g}, not 1",
            where=where,
            hint="fix the numbers or pass --normalize-weights to rescale them",
        )
    notes.append(f"{where}: weights summed to {total:g}; rescaled to 1")
    return {k: v / total for k, v in weights.items()}
