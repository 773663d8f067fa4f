"""Index math (policylens/index.py) and weights files (policylens/weights), checked by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from policylens.errors import ConfigError, UsageError
from policylens.index import compute_index, entropy_weights, minmax
from policylens.weights import INDICATORS, indicators_of, load_weights, parse_weights

ENV_ONLY = """
name = "env"
[subindex.environment]
weight = 1
[subindex.environment.indicators]
technology_emphasis = 0.3333333333333333
policy_count = 0.3333333333333333
patents_per_10k = 0.3333333333333333
"""


def _three_regions() -> pd.DataFrame:
    # technology_emphasis 10/20/40 -> X = 0, 1/3, 1
    # policy_count 2/2/2           -> no spread -> 0, 0, 0 (reported)
    # patents_per_10k 5/1/3        -> X = 1, 0, 1/2
    return pd.DataFrame(
        {
            "technology_emphasis": [10.0, 20.0, 40.0],
            "policy_count": [2.0, 2.0, 2.0],
            "patents_per_10k": [5.0, 1.0, 3.0],
        },
        index=pd.Index(["A", "B", "C"], name="region"),
    )


def test_minmax_is_the_seed_formula():
    x, note = minmax(pd.Series([10.0, 20.0, 40.0], name="t"))
    assert note is None
    assert list(x) == [0.0, 1 / 3, 1.0]
    x, note = minmax(pd.Series([3.0, math.nan, 7.0], name="t"))
    assert list(x[[0, 2]]) == [0.0, 1.0] and math.isnan(x[1])


def test_minmax_without_spread_is_zero_and_reported():
    x, note = minmax(pd.Series([2.0, 2.0], name="policy_count"))
    assert list(x) == [0.0, 0.0]
    assert note.startswith("policy_count: no spread (every region with a value has 2)")
    x, note = minmax(pd.Series([5.0], name="one"))
    assert list(x) == [0.0] and "no spread" in note


def test_equal_weights_by_hand():
    # Sub-index = 100 × (X_tech + X_policy + X_patents) / 3
    #   A: 100/3 × (0 + 0 + 1)     = 33.333…
    #   B: 100/3 × (1/3 + 0 + 0)   = 11.111…
    #   C: 100/3 × (1 + 0 + 1/2)   = 50
    result = compute_index(_three_regions(), parse_weights(ENV_ONLY), method="minmax")
    env = result.scores["environment"]
    assert env["A"] == pytest.approx(100 / 3, abs=1e-9)
    assert env["B"] == pytest.approx(100 / 9, abs=1e-9)
    assert env["C"] == pytest.approx(50.0, abs=1e-9)
    assert list(result.scores.index) == ["C", "A", "B"]
    assert list(result.scores["rank"]) == [1, 2, 3]
    assert not result.has_full_index  # one sub-index: no separate full index
    assert any(n.startswith("policy_count: no spread") for n in result.notes)


def test_entropy_weights_by_hand():
    # Column tech: X = 0, 1/3, 1; ΣX = 4/3; p = 0, 1/4, 3/4
    #   e = −(¼ ln ¼ + ¾ ln ¾) / ln 3 = 0.5118595071429147, d = 0.4881404928570853
    # Column policy: all 0 -> no information, d = 0
    # Column patents: X = 1, 0, 1/2; ΣX = 3/2; p = 2/3, 0, 1/3
    #   e = −(⅔ ln ⅔ + ⅓ ln ⅓) / ln 3 = 0.5793801642856949, d = 0.4206198357143051
    # w = d / Σd: tech 0.5371498705543878, policy 0, patents 0.46285012944561216
    # Scores = 100 × Σ w X:  A = 100 × w_pat = 46.28501294456122
    #                        B = 100 × w_tech / 3 = 17.904995685146258
    #                        C = 100 × (w_tech + w_pat / 2) = 76.85749352771938
    result = compute_index(_three_regions(), parse_weights(ENV_ONLY), method="entropy")
    assert result.weights["technology_emphasis"] == pytest.approx(0.5371498705543878, abs=1e-9)
    assert result.weights["policy_count"] == 0.0
    assert result.weights["patents_per_10k"] == pytest.approx(0.46285012944561216, abs=1e-9)
    env = result.scores["environment"]
    assert env["A"] == pytest.approx(46.28501294456122, abs=1e-9)
    assert env["B"] == pytest.approx(17.904995685146258, abs=1e-9)
    assert env["C"] == pytest.approx(76.85749352771938, abs=1e-9)


def test_entropy_without_any_information_falls_back_to_equal():
    w, notes = entropy_weights(pd.DataFrame({"a": [0.0, 0.0], "b": [0.0, 0.0]}))
    assert list(w) == [0.5, 0.5]
    assert notes == ["entropy weights: no indicator varies across regions; equal weights used"]


def test_missing_value_is_never_zero():
    values = _three_regions()
    values.loc["B", "patents_per_10k"] = math.nan
    # patents: A 5, C 3 -> X = 1, 0; tech X = 0, 1/3, 1
    result = compute_index(values, parse_weights(ENV_ONLY))
    env = result.scores["environment"]
    assert math.isnan(env["B"])
    assert env["A"] == pytest.approx(100 / 3, abs=1e-9)
    assert env["C"] == pytest.approx(100 / 3, abs=1e-9)
    assert result.scores.loc["B", "missing"] == "patents_per_10k"
    assert "B: missing patents_per_10k; its scores are left empty, not zero" in result.notes
    assert result.scores.index[-1] == "B"


def test_full_index_needs_every_subindex():
    values = _three_regions()
    result = compute_index(values, load_weights())
    assert result.subindices == ["environment"]
    assert not result.has_full_index
    assert result.notes[0] == (
        "sub-index infrastructure (基础设施) not computed: no region has data for g5_density, "
        "broadband_penetration, mobile_internet_penetration"
    )
    assert result.skipped == {
        "infrastructure": ["g5_density", "broadband_penetration", "mobile_internet_penetration"],
        "outcomes": ["digital_economy_share_gdp", "ecommerce_share_tertiary", "online_retail_share"],
    }
    assert result.partial == {} and result.is_partial
    for column, data in {
        "g5_density": [1.0, 2.0, 3.0],
        "broadband_penetration": [10.0, 20.0, 30.0],
        "mobile_internet_penetration": [50.0, 60.0, 70.0],
        "digital_economy_share_gdp": [20.0, 30.0, 40.0],
        "ecommerce_share_tertiary": [1.0, 1.0, 2.0],
        "online_retail_share": [5.0, 6.0, 7.0],
    }.items():
        values[column] = data
    result = compute_index(values, load_weights())
    assert result.has_full_index
    # infrastructure: X all 0, ½, 1 -> A 0, B 50, C 100
    # outcomes: share 0, ½, 1; ecommerce 0, 0, 1; retail 0, ½, 1 -> A 0, B 100/3, C 100
    # index = (infra + env + outcomes) / 3
    assert result.scores.loc["B", "index"] == pytest.approx((50 + 100 / 9 + 100 / 3) / 3, abs=1e-9)
    assert result.scores.loc["C", "index"] == pytest.approx((100 + 50 + 100) / 3, abs=1e-9)


def test_partial_subindex_rescales_the_weights_of_what_has_data():
    values = _three_regions()
    values["policy_count"] = math.nan  # no region has a policy count
    # tech X = 0, 1/3, 1; patents X = 1, 0, 1/2; weights 1/3 + 1/3 rescaled to 1/2 each
    result = compute_index(values, parse_weights(ENV_ONLY))
    assert result.partial == {"environment": ["policy_count"]}
    assert result.missing_indicators() == ["policy_count"]
    assert result.weights == {"technology_emphasis": pytest.approx(0.5), "patents_per_10k": pytest.approx(0.5)}
    env = result.scores["environment"]
    assert env["A"] == pytest.approx(50.0)
    assert env["B"] == pytest.approx(100 / 6)
    assert env["C"] == pytest.approx(75.0)
    assert list(result.scores["rank"]) == [1, 2, 3]
    assert result.notes[0] == (
        "sub-index environment (发展环境) is PARTIAL: computed from technology_emphasis, "
        "patents_per_10k with their weights rescaled to sum to 1; no region has data for policy_count"
    )
    entropy = compute_index(values, parse_weights(ENV_ONLY), method="entropy")
    assert entropy.partial == {"environment": ["policy_count"]}
    assert sum(entropy.weights.values()) == pytest.approx(1.0)
    with pytest.raises(UsageError, match=r"--strict: no data for 1 indicator\(s\) of the weights: policy_count"):
        compute_index(values, parse_weights(ENV_ONLY), strict=True)


def test_a_single_indicator_makes_a_partial_subindex():
    values = pd.DataFrame({"technology_emphasis": [10.0, 30.0]}, index=["A", "B"])
    result = compute_index(values, load_weights(), method="entropy")
    assert result.subindices == ["environment"]
    assert result.partial == {"environment": ["policy_count", "patents_per_10k"]}
    assert result.scores["environment"].to_dict() == {"B": 100.0, "A": 0.0}


def test_compute_index_errors():
    with pytest.raises(UsageError, match="unknown index method 'pca'"):
        compute_index(_three_regions(), load_weights(), method="pca")
    with pytest.raises(UsageError, match="no sub-index can be computed"):
        compute_index(pd.DataFrame({"g5_density": [1.0]}, index=["A"]), parse_weights(ENV_ONLY))


def test_default_weights_are_equal_over_table3():
    spec = load_weights()
    assert spec.name == "equal"
    assert spec.indicator_ids() == tuple(INDICATORS)
    assert indicators_of("environment") == ("technology_emphasis", "policy_count", "patents_per_10k")
    for sub in spec.subindices.values():
        assert sub.weight == pytest.approx(1 / 3, abs=1e-12)
        assert sum(sub.indicators.values()) == pytest.approx(1.0, abs=1e-12)


def test_weights_file_errors(tmp_path):
    bad = tmp_path / "w.toml"
    bad.write_text(ENV_ONLY.replace("policy_count", "policy_cnt"), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_weights(bad)
    assert str(err.value) == (
        f"{bad} [subindex.environment]: unknown indicator 'policy_cnt' "
        "(indicators of environment: technology_emphasis, policy_count, patents_per_10k)"
    )
    unbalanced = ENV_ONLY.replace("policy_count = 0.3333333333333333", "policy_count = 0.5")
    with pytest.raises(ConfigError, match=r"weights sum to 1.16667, not 1 \(.*--normalize-weights"):
        parse_weights(unbalanced)
    spec = parse_weights(unbalanced, normalize=True)
    assert spec.subindices["environment"].indicators["policy_count"] == pytest.approx(
        0.5 / (0.5 + 2 / 3), abs=1e-12
    )
    assert spec.normalized == (
        "<weights> [subindex.environment] indicators: weights summed to 1.16667; rescaled to 1",
    )
    with pytest.raises(ConfigError, match="unknown sub-index 'misc'"):
        parse_weights("[subindex.misc.indicators]\na = 1\n")
    with pytest.raises(ConfigError, match="belongs to sub-index 'environment'"):
        parse_weights("[subindex.outcomes.indicators]\npolicy_count = 1\n")
    with pytest.raises(ConfigError, match="is negative"):
        parse_weights(ENV_ONLY.replace("policy_count = 0.3333333333333333", "policy_count = -1"))
    with pytest.raises(ConfigError, match="weights file not found"):
        load_weights(tmp_path / "absent.toml")
    with pytest.raises(ConfigError, match="invalid TOML"):
        parse_weights("[subindex")
