"""Scenario files -> validated model -> Plant: building, all problems at once, overrides.

Fast: nothing is solved; plants are only built.
"""
# ruff: noqa: E501  (scenario text keeps one component per line, so lines are easy to state)

from __future__ import annotations

import re
import textwrap

import numpy as np
import pytest

from twin.scenario.build import Scenario, check_scenario, load_scenario
from twin.scenario.errors import Problem, ScenarioError
from twin.scenario.schema import ScenarioModel, ScheduleSpec

# One component per line (flow style), so that a mistake's line is easy to state.
BASE = """\
schema_version: 1
name: glass-furnace-mould-preheat
description: flagship-like plant
duration: 72 h
output_interval: 5 min
ambient: {temperature: 15 degC}
solver: {method: tsit5, rtol: 1.0e-6, atol: 1.0e-6, max_steps: 200000}
schedules:
  production: {kind: step, period: 24 h, times: [0 h, 6 h, 22 h], values: [1.0, 1.0, 0.5]}
  firing: {kind: step, period: 24 h, times: [0 h, 6 h, 22 h], values: [1.0, 1.0, 0.8]}
components:
  furnace:
    type: furnace
    fuel: natural_gas
    firing_rate: 4 MW
    firing: firing
    excess_air: 0.10
    load: {material: soda_lime_glass, area: 60 m^2, inventory: 150 t, initial_temperature: 1450 degC, charge_rate: 0.46 kg/s, production: production}
    wall:
      area: 250 m^2
      h_outer: 12 W/m^2/K
      initial_inner_temperature: 1800 K
      layers:
        - {thickness: 300 mm, conductivity: 1.8 W/m/K, density: 1900 kg/m^3, specific_heat: 1000 J/kg/K}
        - {thickness: 100 mm, conductivity: 0.25 W/m/K, density: 600 kg/m^3, specific_heat: 900 J/kg/K}
    heat_transfer: {eps_gas_load: 0.35, eps_gas_wall: 0.35, eps_wall_load: 0.7, h_conv: 10 W/m^2/K}
  recuperator: {type: counterflow_exchanger, cells: 20, UA: 0.6 kW/K, hA_ratio: 0.2, wall_heat_capacity: 2 MJ/K, cold_fluid: therminol66, hot_holdup: 1 kg, cold_holdup: 500 kg, initial_temperature: 540 K}
  pcm_bank: {type: pcm_bank, material: NaNO3, mass: 30 t, thickness: 30 mm, h_conv: 300 W/m^2/K, fluid: therminol66, fluid_holdup: 2 t, UA_loss: 50 W/K, channels: 10, nodes: 4, initial_temperature: 570 K}
  pump: {type: pump, fluid: therminol66, mass_flow: 4 kg/s, pressure_rise: 2 bar, efficiency: 0.7}
  moulds: {type: mould_preheater, fluid: therminol66, UA: 5 kW/K, mould_mass: 8 t, mould_rate: 1.5 kg/s, schedule: production, UA_loss: 40 W/K, target_temperature: 250 degC, initial_temperature: 450 K}
  stack: {type: stack}
connections:
  - [furnace.exhaust, recuperator.hot_in]
  - [recuperator.hot_out, stack.inlet]
  - [pump.outlet, recuperator.cold_in]
  - [recuperator.cold_out, pcm_bank.inlet]
  - [pcm_bank.outlet, moulds.supply]
  - [moulds.return, pump.inlet]
checks:
  - {kpi: energy_closure, max: 1.0e-6}
"""


def _line(text: str, fragment: str) -> int:
    """1-based line of the first line of ``text`` containing ``fragment``."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


def _write(tmp_path, text: str, name: str = "plant.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _problems(tmp_path, text: str, overrides=()) -> list[Problem]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(_write(tmp_path, text), overrides)
    return info.value.problems


def _edit(old: str, new: str, text: str = BASE) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


# ---------------------------------------------------------------- valid files


def test_minimal_scenario_builds_plant(tmp_path):
    text = textwrap.dedent("""\
        name: minimal
        duration: 2 h
        components:
          supply: {type: source, fluid: water, mass_flow: 2 kg/s, temperature: 80 degC}
          user: {type: heat_demand, fluid: water, demand: 50 kW, fluid_holdup: 100 kg, min_temperature: 40 degC, initial_temperature: 60 degC}
          drain: {type: stack}
        connections:
          - [supply.outlet, user.supply]
          - [user.return, drain.inlet]
        """)
    path = _write(tmp_path, text)
    sc = load_scenario(path)
    assert isinstance(sc, Scenario)
    assert sc.name == "minimal" and sc.path == path and sc.text == text
    assert len(sc.sha256) == 64 and sc.overrides == ()
    assert (sc.duration, sc.output_interval) == (7200.0, 60.0)
    plant = sc.plant
    assert set(plant.components) == {"supply", "user", "drain"}
    assert dict(plant.wiring.source_of) == {("user", "supply"): ("supply", "outlet"),
                                            ("drain", "inlet"): ("user", "return")}
    assert plant.components["drain"].fluid.name == "water"  # inferred from its source
    user = plant.components["user"]
    assert float(user.Q_demand(0.0)) == 50e3 and float(user.T_min) == 313.15
    assert float(plant.T_ambient(0.0)) == 288.15  # default ambient 15 degC
    assert sc.solver.method == "tsit5" and sc.solver.max_steps == 200_000
    assert check_scenario(path).sha256 == sc.sha256
    y0 = plant.initial_state()
    assert float(y0["components"]["user"]) == pytest.approx(4184.0 * (333.15 - 298.15))


def test_flagship_plant_builds_with_si_parameters(tmp_path):
    sc = load_scenario(_write(tmp_path, BASE))
    c = sc.plant.components
    assert set(c) == {"furnace", "recuperator", "pcm_bank", "pump", "moulds", "stack"}
    f = c["furnace"]
    assert float(f.firing_rate) == 4e6 and f.control == "schedule" and f.fuel.name == "natural_gas"
    assert float(f.M_charge_initial) == 1.5e5 and float(f.T_charge_initial) == 1723.15
    np.testing.assert_array_equal(f.layer_thickness, [0.3, 0.1])
    np.testing.assert_array_equal(f.layer_k, [1.8, 0.25])
    assert float(f.firing_schedule(23 * 3600.0)) == 0.8  # after 22 h, within the 24 h period
    assert float(f.pull(23 * 3600.0)) == 0.5  # pull defaults to production
    r = c["recuperator"]
    assert (float(r.UA), float(r.C_wall), r.n_cells) == (600.0, 2e6, 20)
    assert r.hot_fluid.name == "flue_gas" and r.cold_fluid.name == "therminol66"
    assert float(c["pump"].pressure_rise) == 2e5 and float(c["pcm_bank"].mass) == 3e4
    assert c["stack"].fluid.name == "flue_gas"
    assert sc.duration == 72 * 3600.0 and sc.output_interval == 300.0
    assert sc.checks[0].kpi == "energy_closure" and sc.checks[0].max == 1e-6
    assert sc.parameters["recuperator.UA"].field == "UA"
    ref = sc.parameters["furnace.wall.layers.1.conductivity"]
    assert (ref.component, ref.field, ref.index) == ("furnace", "layer_k", 1)


def test_schedule_forms(tmp_path):
    text = _edit("  firing: {kind: step", "  outdoor: {kind: linear, period: 24 h, times: [0 h, 12 h], "
                 "values: [5 degC, 25 degC]}\n  firing: {kind: step")
    text = _edit("ambient: {temperature: 15 degC}", "ambient: {temperature: outdoor}", text)
    text = _edit("  stack: {type: stack}", "  stack: {type: stack}\n"
                 "  user: {type: heat_demand, fluid: water, demand: {nominal: 300 kW, schedule: production}, "
                 "fluid_holdup: 50 kg, min_temperature: 40 degC, initial_temperature: 60 degC}\n"
                 "  supply: {type: source, fluid: water, mass_flow: {times: [0 h, 1 h], values: "
                 "[1 kg/s, 2 kg/s]}, temperature: 90 degC}\n"
                 "  drain: {type: stack, fluid: water}", text)
    text += "  - [supply.outlet, user.supply]\n  - [user.return, drain.inlet]\n"
    text = _edit("checks:\n", "", text)
    text = _edit("  - {kpi: energy_closure, max: 1.0e-6}\n", "", text)
    text += "checks: []\n"
    sc = load_scenario(_write(tmp_path, text))
    plant = sc.plant
    assert float(plant.T_ambient(6 * 3600.0)) == pytest.approx(288.15)
    user = plant.components["user"]
    assert float(user.Q_demand(23 * 3600.0)) == 150e3
    assert float(plant.components["supply"].m_flow(2 * 3600.0)) == 2.0  # last value held
    spec = sc.model.components["user"].demand
    assert isinstance(spec, ScheduleSpec) and spec.name == "production"


def test_model_json_round_trip(tmp_path):
    model = load_scenario(_write(tmp_path, BASE)).model
    assert ScenarioModel.model_validate_json(model.model_dump_json()) == model


def test_unknown_check_kpi_is_a_problem(tmp_path):
    text = _edit("{kpi: energy_closure, max: 1.0e-6}", "{kpi: energy_closur, max: 1.0e-6}")
    (p,) = _problems(tmp_path, text)
    assert p.path == "checks.0.kpi" and "did you mean 'energy_closure'" in p.accepted


def test_pi_control_and_electric_furnace(tmp_path):
    text = _edit("    firing: firing\n", "    firing: 0.9\n    control: {set_point: 1450 degC, "
                 "kp: 2 %/K, integral_time: 1 h, firing_min: 0.2}\n")
    f = load_scenario(_write(tmp_path, text)).plant.components["furnace"]
    assert f.control == "pi" and float(f.kp) == pytest.approx(0.02) and float(f.Ti) == 3600.0
    assert float(f.T_set(0.0)) == 1723.15
    # an electric furnace has no flue: its exhaust still exists (zero flow) and is wired
    f = load_scenario(_write(tmp_path, _edit("fuel: natural_gas", "fuel: electric"))).plant
    assert f.components["furnace"].fuel is None


# ---------------------------------------------------------------- all problems at once


def test_three_mistakes_reported_at_once_with_lines(tmp_path):
    text = _edit("    firing_rate: 4 MW", "    firing_rate: 4")
    text = _edit("cells: 20, UA:", "cells: 20, UAA: 1 kW/K, UA:", text)
    text = _edit("eps_gas_load: 0.35", "eps_gas_load: 1.5", text)
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    lines = str(info.value).splitlines()
    assert lines == [
        f"{path}:{_line(text, 'firing_rate')}: components.furnace.firing_rate: 4, bare number "
        "for a power: write it with a unit, e.g. '4 MW'",
        f"{path}:{_line(text, 'heat_transfer')}: components.furnace.heat_transfer.eps_gas_load: "
        "1.5, must be between 0 and 1 (0 % to 100 %)",
        f"{path}:{_line(text, 'UAA')}: components.recuperator.UAA: '1 kW/K', unknown key 'UAA'; "
        "did you mean 'UA'? accepted keys: UA, cells, cold_dynamics, cold_fluid, cold_holdup, "
        "description, hA_ratio, hot_dynamics, hot_fluid, hot_holdup, initial_temperature, type, "
        "wall_heat_capacity",
    ]


def test_wiring_problems_reported_with_schema_problems(tmp_path):
    text = _edit("mass: 30 t", "mass: 30")  # invalid component: still wired as a stub
    text = _edit("  - [moulds.return, pump.inlet]\n", "", text)  # dangling ports
    problems = _problems(tmp_path, text)
    by_path = {p.path: p for p in problems}
    assert "components.pcm_bank.mass" in by_path
    assert by_path["components.pump"].accepted == "inlet pump.inlet is not connected"
    assert by_path["components.pump"].line == _line(text, "  pump:")
    assert "outlet moulds.return is not connected" in by_path["components.moulds"].accepted


# ---------------------------------------------------------------- each class of bad input

CASES = [
    # (id, old, new, path, fragment of the accepted text, line fragment)
    ("bare_number", "firing_rate: 4 MW", "firing_rate: 4", "components.furnace.firing_rate",
     "bare number for a power", "firing_rate"),
    ("wrong_dimension", "UA: 0.6 kW/K", "UA: 0.6 kW", "components.recuperator.UA",
     "is a power, not a thermal conductance", "recuperator:"),
    ("unknown_unit", "mass: 30 t,", "mass: 30 tt,", "components.pcm_bank.mass",
     "unknown unit 'tt'", "pcm_bank:"),
    ("below_zero_kelvin", "initial_temperature: 540 K", "initial_temperature: -300 degC",
     "components.recuperator.initial_temperature", "at or below absolute zero", "recuperator:"),
    ("zero_kelvin", "initial_temperature: 570 K", "initial_temperature: 0 K",
     "components.pcm_bank.initial_temperature", "at or below absolute zero", "pcm_bank:"),
    ("negative_mass", "mass: 30 t,", "mass: -30 t,", "components.pcm_bank.mass", "must be > 0 kg",
     "pcm_bank:"),
    ("negative_area", "      area: 250 m^2", "      area: -250 m^2", "components.furnace.wall.area",
     "must be > 0 m^2", "area: -250"),
    ("negative_UA", "UA: 5 kW/K", "UA: -5 kW/K", "components.moulds.UA", "must be > 0 W/K",
     "moulds:"),
    ("negative_flow", "mass_flow: 4 kg/s", "mass_flow: -4 kg/s", "components.pump.mass_flow",
     "must be > 0 kg/s", "pump:"),
    ("emissivity_above_1", "eps_wall_load: 0.7", "eps_wall_load: 1.5",
     "components.furnace.heat_transfer.eps_wall_load", "must be between 0 and 1",
     "heat_transfer"),
    ("emissivity_negative", "eps_gas_wall: 0.35", "eps_gas_wall: -0.1",
     "components.furnace.heat_transfer.eps_gas_wall", "must be between 0 and 1", "heat_transfer"),
    ("efficiency_above_1", "efficiency: 0.7", "efficiency: 1.2", "components.pump.efficiency",
     "must be > 0 and <= 1", "pump:"),
    ("efficiency_zero", "efficiency: 0.7", "efficiency: 0", "components.pump.efficiency",
     "must be > 0 and <= 1", "pump:"),
    ("unknown_key", "excess_air: 0.10", "excess_aír: 0.10", "components.furnace.excess_aír",
     "unknown key 'excess_aír'; did you mean 'excess_air'?", "excess_a"),
    ("unknown_schedule", "schedule: production", "schedule: prodution",
     "components.moulds.schedule",
     "unknown schedule; did you mean 'production'? defined schedules: firing, production",
     "moulds:"),
    ("unknown_type", "type: pcm_bank", "type: pcm_tank", "components.pcm_bank.type",
     "did you mean 'pcm_bank'?", "pcm_bank:"),
    ("unknown_fluid", "fluid: therminol66, mass_flow", "fluid: therminol55, mass_flow",
     "components.pump.fluid", "unknown fluid; did you mean 'therminol66'?", "pump:"),
    ("gas_where_liquid", "fluid: therminol66, mass_flow", "fluid: flue_gas, mass_flow",
     "components.pump.fluid", "must be a liquid", "pump:"),
    ("unknown_material", "material: NaNO3", "material: NaNO4", "components.pcm_bank.material",
     "unknown material; did you mean 'NaNO3'?", "pcm_bank:"),
    ("unknown_fuel", "fuel: natural_gas", "fuel: coal", "components.furnace.fuel",
     "unknown fuel; accepted: methane, natural_gas, hydrogen, electric", "fuel:"),
    ("schedule_times", "times: [0 h, 6 h, 22 h], values: [1.0, 1.0, 0.5]",
     "times: [0 h, 22 h, 6 h], values: [1.0, 1.0, 0.5]", "schedules.production.times",
     "times must increase strictly", "production:"),
    ("schedule_start", "times: [0 h, 6 h, 22 h], values: [1.0, 1.0, 0.5]",
     "times: [1 h, 6 h, 22 h], values: [1.0, 1.0, 0.5]", "schedules.production.times",
     "the first time must be 0", "production:"),
    ("schedule_period", "times: [0 h, 6 h, 22 h], values: [1.0, 1.0, 0.5]",
     "times: [0 h, 6 h, 25 h], values: [1.0, 1.0, 0.5]", "schedules.production.times",
     "within one period", "production:"),
    ("schedule_values", "values: [1.0, 1.0, 0.5]", "values: [1.0, .inf, 0.5]",
     "schedules.production.values.1", "finite", "production:"),
    ("schedule_lengths", "values: [1.0, 1.0, 0.5]", "values: [1.0, 0.5]",
     "schedules.production.values", "one value per time", "production:"),
    ("schedule_dimension", "ambient: {temperature: 15 degC}", "ambient: {temperature: production}",
     "ambient.temperature", "schedule 'production' value 0 (1.0): bare number for a temperature",
     "ambient:"),
    ("missing_field", "    firing_rate: 4 MW\n", "", "components.furnace.firing_rate",
     "required field missing", "  furnace:"),
    ("missing_holdup", "cold_holdup: 500 kg, ", "", "components.recuperator.cold_holdup",
     "required field missing", "recuperator:"),
    ("cells_zero", "cells: 20", "cells: 0", "components.recuperator.cells", ">= 1",
     "recuperator:"),
    ("cells_float", "cells: 20", "cells: 20.5", "components.recuperator.cells",
     "whole number", "recuperator:"),
    ("output_interval", "output_interval: 5 min", "output_interval: 80 h", "output_interval",
     "must not exceed the duration", "output_interval"),
    ("solver_method", "method: tsit5", "method: rk4", "solver.method", "accepted: tsit5",
     "solver:"),
    ("component_name", "  stack: {type: stack}", "  stack: {type: stack}\n  my.stack: {type: stack}",
     "components.my.stack", "names are letters, digits and '_'", "my.stack"),
    ("check_without_bound", "{kpi: energy_closure, max: 1.0e-6}", "{kpi: energy_closure}",
     "checks.0", "give 'min', 'max' or both", "kpi:"),
    ("bad_port_text", "[furnace.exhaust, recuperator.hot_in]", "[furnace, recuperator.hot_in]",
     "connections.0.0", "expected 'component.port'", "[furnace, "),
]


@pytest.mark.parametrize("old,new,path,fragment,line_of", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input_is_reported_at_its_field(tmp_path, old, new, path, fragment, line_of):
    text = _edit(old, new)
    problems = _problems(tmp_path, text)
    match = [p for p in problems if p.path == path]
    assert match, "\n".join(map(str, problems))
    assert fragment in match[0].accepted, match[0]
    assert match[0].line == _line(text, line_of)
    assert re.match(rf"^.*plant\.yaml:{match[0].line}: {re.escape(path)}: ", str(match[0]))


def test_unknown_type_is_the_only_problem(tmp_path):
    # its connections are neither judged nor reported as dangling elsewhere
    text = _edit("type: pcm_bank", "type: pcm_tank")
    (p,) = _problems(tmp_path, text)
    assert p.path == "components.pcm_bank.type"


def test_duplicate_key_reports_its_line(tmp_path):
    text = _edit("    excess_air: 0.10\n", "    excess_air: 0.10\n    excess_air: 0.2\n")
    (p,) = _problems(tmp_path, text)
    assert p.line == _line(text, "excess_air: 0.2") and "duplicate key 'excess_air'" in p.accepted


WIRING = [
    ("dangling_port", "  - [moulds.return, pump.inlet]\n", "",
     "components.pump", "inlet pump.inlet is not connected", "  pump:"),
    ("doubly_connected", "  - [pcm_bank.outlet, moulds.supply]\n",
     "  - [pcm_bank.outlet, moulds.supply]\n  - [pump.outlet, moulds.supply]\n",
     "connections.5", "outlet pump.outlet is already connected (connection 3)",
     "[pump.outlet, moulds.supply]"),
    ("unknown_port", "[recuperator.cold_out, pcm_bank.inlet]", "[recuperator.cold_out, pcm_bank.in]",
     "connections.3", "pcm_bank has no inlet 'in'; its inlets: inlet", "pcm_bank.in]"),
    ("unknown_component", "[recuperator.cold_out, pcm_bank.inlet]",
     "[recuperator.cold_out, pcm.inlet]", "connections.3", "unknown component 'pcm'", "pcm.inlet]"),
    ("fluid_mismatch", "[recuperator.hot_out, stack.inlet]", "[recuperator.hot_out, moulds.supply]",
     "connections.1", "carries flue_gas but moulds.supply expects therminol66",
     "[recuperator.hot_out, moulds.supply]"),
]


@pytest.mark.parametrize("old,new,path,fragment,line_of", [c[1:] for c in WIRING],
                         ids=[c[0] for c in WIRING])
def test_wiring_problem_is_reported_at_its_line(tmp_path, old, new, path, fragment, line_of):
    text = _edit(old, new)
    problems = _problems(tmp_path, text)
    match = [p for p in problems if p.path == path and fragment in p.accepted]
    assert match, "\n".join(map(str, problems))
    assert match[0].line == _line(text, line_of)


def test_inlet_with_two_sources(tmp_path):
    text = _edit("  stack: {type: stack}\n", "  stack: {type: stack}\n  fan: {type: source, fluid: air, "
                 "mass_flow: 1 kg/s, temperature: 20 degC}\n")
    text = _edit("  - [recuperator.hot_out, stack.inlet]\n",
                 "  - [recuperator.hot_out, stack.inlet]\n  - [fan.outlet, stack.inlet]\n", text)
    (p,) = [p for p in _problems(tmp_path, text) if p.path.startswith("connections")]
    assert (p.path, p.line) == ("connections.2", _line(text, "[fan.outlet, stack.inlet]"))
    assert p.accepted == "inlet stack.inlet already has a source (recuperator.hot_out)"


def test_flow_loop_without_pump(tmp_path):
    text = _edit("  pump: {type: pump,", "  pump: {type: heat_demand, demand: 0 W, fluid_holdup: 10 kg, "
                 "min_temperature: 20 degC, initial_temperature: 200 degC, description: x,")
    text = _edit(", mass_flow: 4 kg/s, pressure_rise: 2 bar, efficiency: 0.7}", "}", text)
    text = _edit("[pump.outlet, recuperator.cold_in]", "[pump.return, recuperator.cold_in]", text)
    text = _edit("[moulds.return, pump.inlet]", "[moulds.return, pump.supply]", text)
    (p,) = _problems(tmp_path, text)
    assert p.path == "connections" and p.line == _line(text, "connections:")
    assert p.accepted.startswith("flow loop without a pump")


def test_schema_version_2_is_the_only_problem_reported(tmp_path):
    text = _edit("schema_version: 1", "schema_version: 2")
    text = _edit("firing_rate: 4 MW", "firing_rate: 4", text)
    (p,) = _problems(tmp_path, text)
    assert (p.line, p.path, p.given) == (1, "schema_version", "2")
    assert "reads schema_version 1 only" in p.accepted
    # and the model alone says the same
    with pytest.raises(Exception, match="reads schema_version 1 only"):
        ScenarioModel.model_validate({"schema_version": 2, "name": "x", "duration": "1 h",
                                      "components": {"s": {"type": "stack"}}})


def test_component_construction_error_becomes_a_problem(tmp_path, monkeypatch):
    from twin.scenario import build

    def fail(model, params, ctx):
        raise ValueError("pump curve out of range")

    monkeypatch.setitem(build._BUILDERS, "pump", fail)
    (p,) = _problems(tmp_path, BASE)
    assert p.path == "components.pump" and p.line == _line(BASE, "  pump:")
    assert p.accepted == "cannot build this pump: pump curve out of range"


# ---------------------------------------------------------------- overrides


def test_override_changes_the_built_plant(tmp_path):
    path = _write(tmp_path, BASE)
    sc = load_scenario(path, ["recuperator.UA=30 kW/K", "solver.rtol=1e-8", "duration=48 h"])
    assert float(sc.plant.components["recuperator"].UA) == 30000.0
    assert sc.solver.rtol == 1e-8 and sc.duration == 48 * 3600.0
    assert sc.overrides == ("recuperator.UA=30 kW/K", "solver.rtol=1e-8", "duration=48 h")
    assert sc.text == BASE  # the file text, verbatim; the overrides are recorded separately


def test_bad_override_is_reported_as_set(tmp_path):
    path = _write(tmp_path, BASE)
    problems = _problems(tmp_path, BASE, ["recuperator.UA=30 kW", "pump.efficiency=2",
                                          "recuperatr.UA=1 kW/K", "noequals"])
    rendered = [str(p) for p in problems]
    assert all(p.file == "--set" and p.line is None for p in problems), rendered
    assert ("--set: components.recuperator.UA: '30 kW', is a power, not a thermal conductance "
            "(expected units like 'kW/K', 'W/K')") in rendered
    assert any(r.startswith("--set: components.pump.efficiency: 2, must be > 0") for r in rendered)
    assert any("did you mean 'recuperator'?" in r for r in rendered)
    assert any("expected path=value" in r for r in rendered)
    assert str(path) not in "\n".join(rendered)
