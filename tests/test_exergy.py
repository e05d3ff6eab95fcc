"""Second law: exergy destruction against closed-form results, the fuel exergy factor, PCM
entropy, and the plant sum rule (the plant's destruction is the sum over its components)."""

from __future__ import annotations

import textwrap

import jax
import numpy as np
import pytest
from conftest import solve_yaml
from scipy.integrate import quad

from twin.audit import audit
from twin.thermo import combustion
from twin.thermo.pcm import load_material

CP = 4184.0  # Buildings.Media.Water [J/(kg K)]
T0 = 288.15  # default ambient, the dead state

PLANT = textwrap.dedent("""\
    name: second_law
    duration: 1 h
    output_interval: 10 min
    solver: {method: tsit5, rtol: 1.0e-9, atol: 1.0e-9}
    components:
      hot: {type: source, fluid: water, mass_flow: 1 kg/s, temperature: 90 degC}
      cold: {type: source, fluid: water, mass_flow: 2 kg/s, temperature: 30 degC}
      merge: {type: mixer, fluid: water}
      drain: {type: stack}
      feed: {type: source, fluid: water, mass_flow: 0.5 kg/s, temperature: 40 degC}
      boost: {type: heater, fluid: water, energy: electric, nominal_power: 200 kW, efficiency: 0.95,
              set_point: 70 degC}
      drain2: {type: stack}
    connections:
      - [hot.outlet, merge.inlet_a]
      - [cold.outlet, merge.inlet_b]
      - [merge.outlet, drain.inlet]
      - [feed.outlet, boost.inlet]
      - [boost.outlet, drain2.inlet]
    recovery:                 # accounting only: the hot stream as "waste", the heater as "recovery"
      waste_heat: [hot.outlet]
      recovered: [boost.heat_supplied]
    economics:
      electricity_price: {nominal: 0.20 EUR/kWh, schedule: {kind: step, times: [0 h, 0.5 h], values: [1.0, 0.5]}}
      grid_co2: {kind: step, times: [0 h, 0.5 h], values: [0.5 kg/kWh, 0.2 kg/kWh]}
    """)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    plant, sol = solve_yaml(PLANT, tmp_path_factory.mktemp("exergy"))
    return plant, sol, audit(plant, plant.initial_state(), sol.y_final)


def test_time_varying_grid_factor_and_tariff_and_waste_heat(run, tmp_path):
    from twin.kpi import kpis
    from twin.scenario.build import load_scenario

    path = tmp_path / "s.yaml"
    path.write_text(PLANT)
    *_, rep = run
    k = kpis(rep, load_scenario(path).kpi_config)
    W = k["electricity"]  # constant draw: half of it in each tariff period
    assert k["co2_grid"] == pytest.approx(W / 2 * (0.5 + 0.2) / 3.6e6, rel=1e-9)
    assert k["energy_cost"] == pytest.approx(W / 2 * (0.20 + 0.10) / 3.6e6, rel=1e-9)
    # water at 90 degC, 1 kg/s for an hour, cooled to the 15 degC dead state
    assert k["waste_heat_available"] == pytest.approx(CP * 75.0 * 3600.0, rel=1e-12)
    assert k["waste_heat_recovered_share"] == pytest.approx(rep.tallies["boost"]["heat_supplied"] / (CP * 75.0 * 3600.0))
    assert k["recapture_rate"] == 0.0  # a boundary with nothing delivered: none recaptured
    assert np.isnan(k["output_value"]) and np.isnan(k["carbon_intensity"])  # no output valued


@pytest.mark.parametrize("edit, path, fragment", [
    ("fuel_price: 0.05 USD/kWh", "economics", "prices are in USD but currency is 'EUR'"),
    ("output_value: {boost.heat_supplied: 10 EUR/t}", "economics.output_value.boost.heat_supplied", "a mass tally of boost"),
])
def test_economics_mistakes_are_reported(tmp_path, edit, path, fragment):
    from click.testing import CliRunner

    from twin.cli import main

    text = PLANT.replace("economics:\n", f"economics:\n  {edit}\n")
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    result = CliRunner().invoke(main, ["check", str(f)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    line = next(ln for ln in result.output.splitlines() if "bad.yaml:" in ln)
    assert f": {path}:" in line and fragment in line, result.output


def test_unknown_recovery_term_is_reported(tmp_path):
    from click.testing import CliRunner

    from twin.cli import main

    f = tmp_path / "bad.yaml"
    f.write_text(PLANT.replace("recovered: [boost.heat_supplied]", "recovered: [boost.heat_recoverd]"))
    result = CliRunner().invoke(main, ["check", str(f)])
    assert result.exit_code == 2
    assert "recovery.recovered.0" in result.output and "a tally or flow of boost" in result.output


def test_adiabatic_mixing_destroys_T0_times_the_entropy_generated(run):
    *_, rep = run
    T = (1.0 * 363.15 + 2.0 * 303.15) / 3.0  # constant cp: mass-weighted mean
    S_gen = CP * (1.0 * np.log(T / 363.15) + 2.0 * np.log(T / 303.15))  # [W/K]
    assert rep.exergy["merge"].destruction == pytest.approx(T0 * S_gen * 3600.0, rel=1e-9)


def test_electric_heater_destruction(run):
    _, sol, rep = run
    T_in, T_out = 313.15, float(sol.signals["boost.outlet.T"][-1])
    assert T_out == pytest.approx(343.15, abs=0.02)
    W = rep.components["boost"].flows["electricity"]
    gain = 0.5 * CP * ((T_out - T_in) - T0 * np.log(T_out / T_in)) * 3600.0  # exergy given to the water
    # the conversion loss leaves at ambient = T0: it carries no exergy
    assert rep.exergy["boost"].destruction == pytest.approx(W - gain, rel=1e-7)


def test_boundaries_destroy_nothing_and_the_plant_sums_its_components(run):
    *_, rep = run
    for name in ("hot", "cold", "drain", "feed", "drain2"):
        assert abs(rep.exergy[name].destruction) < 1e-9 * rep.exergy[name].throughput
    total = sum(b.destruction for b in rep.exergy.values())
    assert rep.plant_exergy.destruction == pytest.approx(total, rel=1e-12)
    assert not rep.second_law_violations()


def test_fuel_exergy_factors_match_szargut():
    # Szargut (1988): CH4 831.65 kJ/mol chemical exergy over a LHV of 802.3 kJ/mol -> 1.037;
    # H2 236.09 / 241.8 -> 0.976
    methane, hydrogen = combustion.FUELS["methane"], combustion.FUELS["hydrogen"]
    # (twin derives its LHV from the NASA formation enthalpies: 802.56 kJ/mol, 0.03 % above 802.3)
    assert combustion.exergy_factor(methane) == pytest.approx(831.65 / 802.3, rel=5e-4)
    assert combustion.exergy_factor(hydrogen) == pytest.approx(236.09 / 241.83, rel=2e-4)


@pytest.mark.parametrize("card", ["RT44HC", "NaNO3"])
def test_pcm_entropy_is_the_integral_of_dh_over_T(card):
    m = load_material(card)
    for T in (260.0, float(m.T_solidus) + 0.2, 0.5 * float(m.T_solidus + m.T_liquidus), float(m.T_liquidus) + 30.0):
        h = float(m.h(T))
        kinks = sorted(float(v) for v in m.h_grid if min(0.0, h) < v < max(0.0, h))
        ref = quad(lambda x: 1.0 / float(m.T(x)), 0.0, h, points=kinks[:300], limit=1000)[0]
        assert float(m.s(h)) == pytest.approx(ref, rel=1e-9, abs=1e-9)
        assert float(jax.grad(m.s)(h)) == pytest.approx(1.0 / float(m.T(h)), rel=1e-12)
