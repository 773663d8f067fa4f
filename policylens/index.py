"""The composite index: min–max normalisation, weights, sub-indices and the full index.

The seed report normalises every (positive) indicator across the regions with
``X = (x − min) / (max − min)`` and combines them with expert weights. Here:

* ``method="minmax"`` — weights from the :class:`~policylens.weights.WeightSpec` (TOML);
  a sub-index is ``100 × Σ wᵢ Xᵢ`` over its indicators, the full index ``Σ W_s × S_s``.
* ``method="entropy"`` — the entropy-weight method (熵值法) derives indicator weights from the
  normalised data of all indicators used: ``pᵢⱼ = Xᵢⱼ / Σᵢ Xᵢⱼ``,
  ``eⱼ = −(1/ln n) Σᵢ pᵢⱼ ln pᵢⱼ`` (with 0·ln 0 = 0), ``dⱼ = 1 − eⱼ``, ``wⱼ = dⱼ / Σ d``.
  A sub-index uses its members' weights rescaled to sum to 1; the full index uses ``wⱼ``
  directly (so a sub-index's weight is the sum of its members' weights).

A sub-index whose indicators have data only in part is computed from those that have data,
their weights rescaled to sum to 1, and marked partial (``IndexResult.partial``); a sub-index
with no data at all is left out. ``strict=True`` refuses both instead.

A column with no spread (max = min, or a single region) is normalised to 0 for every region
and reported in ``notes`` — never a division by zero. A missing value is never treated as 0:
the region's sub-index (and full index) is NaN and the region is listed with what is missing.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import pandas as pd

from policylens.errors import UsageError
from policylens.weights import INDICATORS, SUBINDEX_LABELS, WeightSpec

__all__ = ["IndexResult", "compute_index", "minmax", "entropy_weights", "describe_indicator", "METHODS"]

log = logging.getLogger(__name__)
METHODS = ("minmax", "entropy")


@dataclass
class IndexResult:
    """What :func:`compute_index` returns.

    Attributes:
        scores: one row per region (index = region) with a column per computed sub-index
            (0–100), ``index`` (the full index, when every sub-index of the weights could be
            computed), ``rank`` (by the full index, else by the first sub-index) and
            ``missing`` (comma-separated indicator ids the region lacks).
        normalized: the min–max normalised values (0–1), region × indicator.
        raw: the raw values used, region × indicator.
        weights: indicator id -> effective weight within its sub-index.
        subindex_weights: sub-index id -> effective weight in the full index.
        subindices: the sub-indices computed, in order.
        method: ``"minmax"`` or ``"entropy"``.
        notes: plain-language remarks (no-spread columns, skipped sub-indices, ...).
        spec: the weights used.
        partial: sub-index id -> the indicator ids it lacks (computed from the others).
        skipped: sub-index id -> its indicator ids, for sub-indices with no data at all.
    """

    scores: pd.DataFrame
    normalized: pd.DataFrame
    raw: pd.DataFrame
    weights: dict[str, float]
    subindex_weights: dict[str, float]
    subindices: list[str]
    method: str
    spec: WeightSpec
    notes: list[str] = field(default_factory=list)
    partial: dict[str, list[str]] = field(default_factory=dict)
    skipped: dict[str, list[str]] = field(default_factory=dict)

    @property
    def has_full_index(self) -> bool:
        """Whether the full index (all sub-indices of the weights) was computed."""
        return "index" in self.scores.columns

    @property
    def is_partial(self) -> bool:
        """Whether some indicator of the weights had no data (see ``partial``/``skipped``)."""
        return bool(self.partial or self.skipped)

    def missing_indicators(self) -> list[str]:
        """Indicator ids of the weights that no region has data for."""
        return [i for ids in (*self.partial.values(), *self.skipped.values()) for i in ids]


def minmax(values: pd.Series) -> tuple[pd.Series, str | None]:
    """Min–max normalise one indicator across regions: ``(x − min) / (max − min)``.

    Args:
        values: one value per region; NaN means missing and stays NaN.

    Returns:
        ``(normalised, note)``; ``note`` explains a column with no spread (all present
        values equal, or fewer than two present), which is normalised to 0, else ``None``.
    """
    present = values.dropna()
    if present.empty:
        return values.astype(float) * math.nan, f"{values.name}: no region has a value"
    low, high = float(present.min()), float(present.max())
    if high == low:
        note = (
            f"{values.name}: no spread (every region with a value has {low:g}); "
            "normalised to 0, so it does not discriminate between regions"
        )
        return values.where(values.isna(), 0.0).astype(float), note
    return (values.astype(float) - low) / (high - low), None


def entropy_weights(normalized: pd.DataFrame) -> tuple[pd.Series, list[str]]:
    """Entropy-weight method (熵值法) over min–max normalised columns.

    Args:
        normalized: region × indicator, values in [0, 1]; NaN cells are left out of their
            column (``n`` is the count of present values in that column).

    Returns:
        ``(weights, notes)``: weights sum to 1. Columns without information (all zero, fewer
        than two values) get weight 0; when no column has information the weights are equal
        and a note says so.
    """
    notes: list[str] = []
    divergence = {}
    for column in normalized.columns:
        x = normalized[column].dropna()
        total = float(x.sum())
        if len(x) < 2 or total == 0.0:
            divergence[column] = 0.0
            continue
        p = x / total
        entropy = -sum(v * math.log(v) for v in p if v > 0) / math.log(len(x))
        divergence[column] = 1.0 - entropy
    d = pd.Series(divergence, dtype=float)
    if d.sum() <= 0:
        notes.append("entropy weights: no indicator varies across regions; equal weights used")
        return pd.Series(1.0 / len(d), index=d.index), notes
    return d / d.sum(), notes


def compute_index(
    values: pd.DataFrame,
    spec: WeightSpec,
    *,
    method: str = "minmax",
    strict: bool = False,
) -> IndexResult:
    """Normalise, weight and combine indicators into sub-indices and the full index.

    Args:
        values: region × indicator ids (raw values; NaN = missing). Columns not in the
            weights are ignored.
        spec: the weights (:func:`policylens.weights.load_weights`).
        method: ``"minmax"`` (weights from ``spec``) or ``"entropy"`` (熵值法).
        strict: refuse to compute when any indicator of the weights has no data, instead of
            computing partial sub-indices.

    Returns:
        The :class:`IndexResult`.

    Raises:
        UsageError: unknown method, no regions, no sub-index has any data, or (``strict``)
            an indicator has no data.
    """
    if method not in METHODS:
        raise UsageError(f"unknown index method {method!r}", hint=f"use one of {', '.join(METHODS)}")
    if values.empty:
        raise UsageError("no regions to index", hint="compute indicators first or supply a CSV")
    notes: list[str] = []
    computed: list[str] = []
    members: dict[str, list[str]] = {}
    partial: dict[str, list[str]] = {}
    skipped: dict[str, list[str]] = {}
    for sid, sub in spec.subindices.items():
        have = [i for i in sub.indicators if i in values.columns and values[i].notna().any()]
        lacking = [i for i in sub.indicators if i not in have]
        if not have:
            skipped[sid] = lacking
            notes.append(f"sub-index {sid} ({SUBINDEX_LABELS[sid]}) not computed: no region has "
                         f"data for {', '.join(lacking)}")
            continue
        if lacking:
            partial[sid] = lacking
            notes.append(
                f"sub-index {sid} ({SUBINDEX_LABELS[sid]}) is PARTIAL: computed from "
                f"{', '.join(have)} with their weights rescaled to sum to 1; no region has data "
                f"for {', '.join(lacking)}"
            )
        computed.append(sid)
        members[sid] = have
    if strict and (partial or skipped):
        lacking = [i for ids in (*partial.values(), *skipped.values()) for i in ids]
        raise UsageError(
            f"--strict: no data for {len(lacking)} indicator(s) of the weights: {', '.join(lacking)}",
            hint="supply them (see the notes of the same command without --strict), or leave "
                 "out --strict to compute partial sub-indices",
        )
    if not computed:
        raise UsageError(
            "no sub-index can be computed: no region has data for any indicator of the weights "
            f"({', '.join(i for ids in skipped.values() for i in ids)})",
            hint="run `policylens indicators` to see what is missing and why; ingest documents "
                 "(policylens ingest FOLDER) or supply values (--supply values.csv)",
        )
    used = [i for sid in computed for i in members[sid]]
    raw = values.reindex(columns=used).astype(float)
    normalized = pd.DataFrame(index=raw.index)
    for column in used:
        normalized[column], note = minmax(raw[column])
        if note:
            notes.append(note)

    if method == "entropy":
        global_w, entropy_notes = entropy_weights(normalized)
        notes.extend(entropy_notes)
        weights, sub_w = {}, {}
        for sid in computed:
            mass = float(global_w[members[sid]].sum())
            sub_w[sid] = mass
            for i in members[sid]:
                weights[i] = float(global_w[i]) / mass if mass > 0 else 1.0 / len(members[sid])
        total = sum(sub_w.values())
        sub_w = {s: (w / total if total > 0 else 1.0 / len(sub_w)) for s, w in sub_w.items()}
    else:
        weights = {}
        for sid in computed:  # rescaled over the indicators with data (a partial sub-index)
            present = {i: spec.subindices[sid].indicators[i] for i in members[sid]}
            mass = sum(present.values())
            weights.update({i: w / mass for i, w in present.items()})
        total = sum(spec.subindices[s].weight for s in computed)
        sub_w = {s: spec.subindices[s].weight / total for s in computed}

    scores = pd.DataFrame(index=raw.index)
    for sid in computed:
        part = sum(normalized[i] * weights[i] for i in members[sid])
        scores[sid] = 100.0 * part  # NaN when any member is missing: never silently zero
    # A full index needs two or more sub-indices; with one, it would only repeat it.
    if len(spec.subindices) > 1 and len(computed) == len(spec.subindices):
        scores["index"] = sum(scores[s] * sub_w[s] for s in computed)
    rank_by = "index" if "index" in scores.columns else computed[0]
    scores["rank"] = scores[rank_by].rank(ascending=False, method="min").astype("Int64")
    scores["missing"] = [
        ",".join(i for i in used if pd.isna(raw.at[region, i])) for region in raw.index
    ]
    for region, lacking in scores["missing"].items():
        if lacking:
            notes.append(f"{region}: missing {lacking}; its scores are left empty, not zero")
    scores = scores.sort_values(["rank", rank_by], na_position="last")
    log.info("index: %d regions, sub-indices %s, method %s", len(scores), computed, method)
    return IndexResult(
        scores=scores,
        normalized=normalized,
        raw=raw,
        weights=weights,
        subindex_weights=sub_w,
        subindices=computed,
        method=method,
        spec=spec,
        notes=notes,
        partial=partial,
        skipped=skipped,
    )


def describe_indicator(indicator_id: str) -> str:
    """``"人均专利授权数 (件/万人)"`` for reports."""
    ind = INDICATORS[indicator_id]
    return f"{ind.label} ({ind.unit})" if ind.unit else ind.label
