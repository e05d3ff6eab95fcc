"""The input boundary: units, YAML with line numbers, error aggregation, overrides."""

from __future__ import annotations

import math
import textwrap
from typing import Annotated, Literal, Union

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import Field, ValidationError

from twin.scenario.errors import Problem, ScenarioError, problems_from_pydantic
from twin.scenario.fields import (
    Fraction,
    PositiveArea,
    PositivePower,
    PositiveTime,
    Quantity,
    StrictModel,
    Temperature,
    ThermalConductance,
    quantity_spec,
)
from twin.scenario.yamlio import apply_override, load_yaml, load_yaml_text, parse_scalar
from twin.units import UnitError, format_quantity, parse_quantity

# ---------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("text", "dimension", "si"),
    [
        ("450 degC", "temperature", 723.15),
        ("723.15 K", "temperature", 723.15),
        ("-40 degF", "temperature", 233.15),
        ("20 t", "mass", 20000.0),
        ("25 kW/K", "thermal_conductance", 25000.0),
        ("1 kWh", "energy", 3.6e6),
        ("2 MWh", "energy", 7.2e9),
        ("5 min", "time", 300.0),
        ("72 h", "time", 259200.0),
        ("1 d", "time", 86400.0),
        ("3 bar", "pressure", 3e5),
        ("300 mm", "length", 0.3),
        ("10 K", "temperature_difference", 10.0),
        ("10 delta_degC", "temperature_difference", 10.0),
        ("0.2 kg/kWh", "emission_factor", 0.2 / 3.6e6),
        ("3.6 t/h", "mass_flow", 1.0),
        # offset units inside compound units are read as their delta unit (pint's rule)
        ("25 W/m^2/degC", "heat_transfer_coefficient", 25.0),
        ("2 kJ/kg/degC", "specific_heat", 2000.0),
        ("1 W/m^2/degF", "heat_transfer_coefficient", 1.8),
        ("80 %", "fraction", 0.8),
        ("0.8", "dimensionless", 0.8),
        (0.8, "fraction", 0.8),
        (3, "dimensionless", 3.0),
    ],
)
def test_conversions(text, dimension, si):
    assert parse_quantity(text, dimension) == pytest.approx(si, rel=1e-15)


def test_equal_inputs_give_bitwise_equal_floats():
    assert parse_quantity("450 degC", "temperature") == parse_quantity("723.15 K", "temperature")
    # plain float addition is off by one ulp here; the exact rational path is not
    assert 134.66 + 273.15 != 407.81
    assert parse_quantity("134.66 degC", "temperature") == 407.81
    assert parse_quantity("300 mm", "length") == parse_quantity("0.3 m", "length")
    assert parse_quantity("1.5 kWh", "energy") == parse_quantity("5.4 MJ", "energy")


@pytest.mark.parametrize(
    ("text", "dimension", "fragment"),
    [
        (4, "power", "bare number 4 for a power: write it with a unit, e.g. '4 MW'"),
        ("4", "power", "bare number '4' for a power"),
        ("12 kW", "area", "'12 kW' is a power, not an area (expected units like 'm^2')"),
        ("4 mw", "power", "unknown unit 'mw'; did you mean 'MW' or 'mW'?"),
        ("1 kwh", "energy", "did you mean 'kWh'?"),
        ("250 m2", "area", "did you mean 'm^2'"),
        ("1 kilowat", "power", "did you mean 'kilowatt'"),
        ("5 EUR", "power", "unknown unit 'EUR'"),
        ("20 ton", "mass", "write 't' for the tonne"),
        ("0 K", "temperature", "at or below absolute zero"),
        ("-300 degC", "temperature", "at or below absolute zero"),
        ("10 degC", "temperature_difference", "ambiguous"),
        ("10 delta_degC", "temperature", "is a temperature difference, not a temperature"),
        ("hot", "temperature", "does not start with a number"),
        (True, "power", "is a boolean"),
        (None, "power", "is empty"),
        (float("nan"), "fraction", "finite"),
        ("4 MW", "fraction", "is a power, not a fraction"),
        ("1e999 W", "power", "out of range"),
    ],
)
def test_unit_errors(text, dimension, fragment):
    with pytest.raises(UnitError) as info:
        parse_quantity(text, dimension)
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError)


def test_unit_error_accepted_text_omits_the_given_value():
    with pytest.raises(UnitError) as info:
        parse_quantity("12 kW", "area")
    assert info.value.accepted == "is a power, not an area (expected units like 'm^2')"


def test_format_quantity():
    assert format_quantity(4e6, "power") == "4.00 MW"
    assert format_quantity(723.15, "temperature") == "450 degC"
    assert format_quantity(0.8, "fraction") == "80.0 %"
    assert format_quantity(300.0, "time") == "5.00 min"
    assert format_quantity(25e3, "thermal_conductance") == "25.0 kW/K"
    assert format_quantity(999.7, "power") == "1.00 kW"
    assert format_quantity(3.6e9, "energy", unit="MWh") == "1.00 MWh"


_RANGES = {
    "power": (1e-3, 1e10), "energy": (1.0, 1e13), "time": (1e-3, 1e8), "mass": (1e-3, 1e7),
    "temperature": (1.0, 5000.0), "fraction": (0.0, 1.0), "thermal_conductance": (1.0, 1e8),
    "pressure": (1.0, 1e8),
}


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(_RANGES)), st.data())
def test_format_parse_round_trip(dimension, data):
    lo, hi = _RANGES[dimension]
    x = data.draw(st.floats(lo, hi))
    back = parse_quantity(format_quantity(x, dimension, digits=8), dimension)
    # digits count in the display unit: degC values near -273 keep less relative precision
    assert math.isclose(back, x, rel_tol=1e-7, abs_tol=1e-3 if dimension == "temperature" else 0)


# ---------------------------------------------------------------- YAML


def _load(text: str):
    return load_yaml_text(textwrap.dedent(text).lstrip("\n"), "s.yaml")


def test_yaml_1_2_scalars():
    data, _ = _load("a: NO\nb: on\nc: yes\nd: 1e3\ne: 012\nf: 0o12\ng: 12:30\nh: true\n")
    assert data == {"a": "NO", "b": "on", "c": "yes", "d": 1000.0, "e": 12, "f": 10,
                    "g": "12:30", "h": True}
    assert type(data["d"]) is float and type(data["e"]) is int and type(data["h"]) is bool


def test_duplicate_key_reports_line():
    with pytest.raises(ScenarioError) as info:
        _load("a: 1\nb:\n  c: 2\n  c: 3\n")
    assert str(info.value).startswith("s.yaml:4: duplicate key 'c'")


def test_syntax_error_and_tags_and_top_level_report_lines():
    with pytest.raises(ScenarioError, match=r"^s.yaml:2: YAML syntax error"):
        _load("a: [1, 2\nb: 3\n")
    with pytest.raises(ScenarioError, match=r"s.yaml:2: b: '!x 3', custom YAML tags"):
        _load("a: 1\nb: !x 3\n")
    with pytest.raises(ScenarioError, match="top level is a list"):
        _load("- 1\n")


def test_line_numbers(tmp_path):
    path = tmp_path / "plant.yaml"
    path.write_text("name: x\ncomponents:\n  furnace: {type: furnace,\n    firing_rate: 4 MW}\n"
                    "  pcm_bank:\n    type: pcm_bank\n    mass: 20 t\nconnections:\n"
                    "  - [furnace.exhaust, pcm_bank.in]\n  - [a,\n     b]\n")
    data, lines = load_yaml(path)
    assert data["components"]["pcm_bank"] == {"type": "pcm_bank", "mass": "20 t"}
    assert lines.line(("components", "pcm_bank", "mass")) == 7
    assert lines.line(("components", "furnace", "firing_rate")) == 4
    assert lines.line(("connections", 1, 1)) == 11
    assert lines.line(("components", "pcm_bank", "volume")) == 5  # missing: parent's line
    assert lines.line(()) == 1


# ---------------------------------------------------------------- errors


class _Furnace(StrictModel):
    type: Literal["furnace"]
    fuel: Literal["natural_gas", "hydrogen"]
    firing_rate: PositivePower
    wall_area: PositiveArea = 100.0


class _Exchanger(StrictModel):
    type: Literal["counterflow_exchanger"]
    cells: int = Field(20, gt=0)
    UA: ThermalConductance


class _Scenario(StrictModel):
    name: str
    duration: PositiveTime
    ambient: Temperature = 288.15
    components: dict[str, Annotated[Union[_Furnace, _Exchanger], Field(discriminator="type")]]
    connections: list[tuple[str, str]] = []


def _problems(text: str) -> tuple[list[Problem], str]:
    data, lines = _load(text)
    with pytest.raises(ValidationError) as info:
        _Scenario.model_validate(data)
    problems = problems_from_pydantic(info.value, "s.yaml", lines, data, _Scenario)
    return problems, str(ScenarioError(problems))


def test_three_mistakes_reported_at_once():
    _, report = _problems("""
        name: demo
        duration: 72
        components:
          furnace: {type: furnace, fuel: natural_gas, firing_rate: 4 MW, wall_area: 12 kW}
          recuperator:
            type: counterflow_exchanger
            UAA: 25 kW/K
        """)
    assert report.splitlines() == [
        "s.yaml:2: duration: 72, bare number for a time: write it with a unit, e.g. '72 h'",
        "s.yaml:4: components.furnace.wall_area: '12 kW', is a power, not an area "
        "(expected units like 'm^2')",
        "s.yaml:5: components.recuperator.UA: required field missing",
        "s.yaml:7: components.recuperator.UAA: '25 kW/K', unknown key 'UAA'; did you mean "
        "'UA'? accepted keys: UA, cells, type",
    ]


def test_union_tags_literals_bounds_and_sequences():
    problems, report = _problems("""
        name: demo
        duration: 0 s
        components:
          a: {type: furnace, fuel: natural_gaz, firing_rate: -4 MW}
          b: {type: furnac}
          c: {cells: 3}
          d: {type: counterflow_exchanger, cells: 0, UA: 1 kW/K}
        connections:
          - [a.out, b.in]
          - [a.out]
        """)
    assert [p.path for p in problems] == [
        "duration", "components.a.firing_rate", "components.a.fuel", "components.b.type",
        "components.c.type", "components.d.cells", "connections.1.1",
    ]
    assert "s.yaml:2: duration: '0 s', must be > 0 s" in report
    assert "components.a.firing_rate: '-4 MW', must be > 0 W" in report
    assert "'natural_gaz', did you mean 'natural_gas'? accepted: natural_gas, hydrogen" in report
    assert "s.yaml:5: components.b.type: 'furnac', did you mean 'furnace'?" in report
    assert "components.c.type: required field 'type' missing; accepted: furnace," in report
    assert "s.yaml:7: components.d.cells: 0, must be > 0" in report
    assert "s.yaml:10: connections.1.1: required field missing" in report


# ---------------------------------------------------------------- fields


def test_fields_bounds_context_and_json_round_trip():
    class M(StrictModel):
        t: Temperature
        f: Fraction = 1.0
        hot: Quantity("temperature", lt="2000 degC") = 300.0

    m = M.model_validate({"t": "450 degC", "f": "80 %"})
    assert (m.t, m.f) == (723.15, 0.8)
    assert M.model_validate_json(m.model_dump_json()) == m
    assert m.model_dump_json().startswith('{"t":"723.15 K"')
    assert M.model_validate({"t": 723.15}, context={"si": True}).t == 723.15
    with pytest.raises(ValidationError, match=r"must be between 0 and 1 \(0 % to 100 %\)"):
        M.model_validate({"t": "300 K", "f": 1.5})
    with pytest.raises(ValidationError, match=r"must be < 2273.15 K \(2000.0 degC\)"):
        M.model_validate({"t": "300 K", "hot": "2500 degC"})
    assert quantity_spec(M.model_fields["hot"]).dimension == "temperature"
    with pytest.raises(ValidationError):
        m.t = 1.0  # frozen


# ---------------------------------------------------------------- overrides

_PLANT = """
    name: demo
    duration: 72 h
    components:
      recuperator: {type: counterflow_exchanger, UA: 25 kW/K}
    connections:
      - [a.out, b.in]
    """


def test_overrides():
    data, lines = _load(_PLANT)
    new = apply_override(data, "recuperator.UA", "30 kW/K", linemap=lines)
    assert new["components"]["recuperator"]["UA"] == "30 kW/K"
    assert data["components"]["recuperator"]["UA"] == "25 kW/K"  # not modified
    assert apply_override(data, "duration", "48 h")["duration"] == "48 h"
    assert apply_override(data, "recuperator.cells", "12")["components"]["recuperator"][
        "cells"] == 12
    assert apply_override(data, "connections.0.1", "c.in")["connections"][0] == ["a.out", "c.in"]
    solver = apply_override(data, "solver.rtol", "1e-8", top_level_keys=["solver"])
    assert solver["solver"] == {"rtol": 1e-8}
    assert _Scenario.model_validate(new).components["recuperator"].UA == 30000.0
    assert lines.locate(("components", "recuperator", "UA")) == ("--set", None)
    assert parse_scalar("NO") == "NO" and parse_scalar("[a, b]") == ["a", "b"]


def test_override_errors():
    data, _ = _load(_PLANT)
    with pytest.raises(ScenarioError, match="did you mean 'recuperator'.*components: recuperator"):
        apply_override(data, "recuperatr.UA", "30 kW/K")
    with pytest.raises(ScenarioError, match="top-level keys: components, connections"):
        apply_override(data, "solver.rtol", "1e-8")
    with pytest.raises(ScenarioError, match="cannot set a field inside"):
        apply_override(data, "duration.x", "1")
    with pytest.raises(ScenarioError, match="--set: '\\[a', YAML syntax error"):
        apply_override(data, "duration", "[a")
