"""Computing values: figures read from statistical bulletins and the indicators derived from them."""

from __future__ import annotations

from policylens.indicators.model import RAW_UNITS, Value
from policylens.nlp.bulletin import extract_figures
from policylens.weights import INDICATORS

__all__ = ["bulletin_values", "derive"]

_DERIVED = {
    # index indicator: (numerator figure, scale) over population_10k
    "patents_per_10k": ("patents_granted", 1.0),
    "g5_density": ("g5_base_stations", 1.0),
    "broadband_penetration": ("broadband_users_10k", 100.0),
    "mobile_internet_penetration": ("mobile_internet_users_10k", 100.0),
}

# --- bulletins and derived values ---------------------------------------------------------


def bulletin_values(own, region, year, config, notes) -> dict[str, Value]:
    bulletins = [d for d in own if d.doc_type in config.bulletin_doc_types and d.year == year]
    values: dict[str, Value] = {}
    if not bulletins:
        note = f"no statistical bulletin of {region.name} for {year} in the corpus"
        notes.append(note)
        for name, unit in RAW_UNITS.items():
            values[name] = Value(None, "missing", unit, [], note)
        return values
    for name, unit in RAW_UNITS.items():
        for doc in bulletins:
            figure = extract_figures(doc.text or "", [name], method=getattr(doc, "method", None) or "").get(name)
            if figure is not None:
                values[name] = Value(
                    figure.value, "extracted", unit,
                    [{"document_id": doc.id, "title": doc.title, "sentence": figure.sentence,
                      "matched": figure.matched, "method": figure.method, "ocr": figure.ocr}],
                    "read by OCR: check against the original" if figure.ocr else "",
                )
                break
        else:
            titles = "; ".join(d.title or str(d.id) for d in bulletins)
            values[name] = Value(None, "missing", unit, [], f"not stated in the bulletin ({titles})")
    lacking = [n for n in ("patents_granted", "population_10k") if values[n].value is None]
    if lacking:
        notes.append(f"bulletin of {year} does not state {', '.join(lacking)}")
    return values


def derive(values: dict[str, Value], notes: list[str]) -> None:
    population = values.get("population_10k")
    for target, (numerator, scale) in _DERIVED.items():
        if target in values and values[target].status == "supplied":
            continue
        top = values.get(numerator)
        unit = INDICATORS[target].unit
        if top is None or top.value is None:
            values[target] = Value(None, "missing", unit, [], f"{numerator} not available")
            continue
        if population is None or population.value in (None, 0):
            values[target] = Value(None, "missing", unit, [], "population_10k not available")
            continue
        values[target] = Value(
            top.value / population.value * scale,
            "computed",
            unit,
            [*top.provenance, *population.provenance],
            f"{numerator} / population_10k" + (f" × {scale:g}" if scale != 1 else ""),
        )
    if values.get("mobile_internet_users_10k", Value(None, "missing")).value is None:
        phone = values.get("mobile_phone_users_10k")
        if phone is not None and phone.value is not None:
            notes.append(
                "mobile_internet_penetration: the bulletin states mobile phone users "
                f"({phone.value:g} 万户) but not mobile internet users; supply "
                "mobile_internet_users_10k if you accept phone users as a proxy"
            )
    for target in ("digital_economy_share_gdp", "ecommerce_share_tertiary", "online_retail_share"):
        if target not in values:
            values[target] = Value(None, "missing", "%", [], "only available from --supply CSV")
