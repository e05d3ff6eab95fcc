"""A plant: components plus connections, flattened into one right-hand side.

The plant checks the wiring once (every port connected exactly once, connected ports carry
the same fluid, every flow loop has a component that sets its flow, no cycle of stateless
elements) and fixes two evaluation orders at build time. At run time
:meth:`Plant.vector_field` is plain traced code: Python loops over components run while
tracing only, and the whole plant becomes one fused, jitted function.

The state is ``{"components": {name: state}, "audit": {name: {term: value}}}``: the audit
part integrates, for every component, the enthalpy and the exergy it received and sent
through its ports and each of its boundary flows (energy ``flow`` and exergy
``flow_exergy``), so that first-law closure and the second law can be checked after the run
(:mod:`twin.audit`). Two more parts integrate what the KPIs need: ``"connections"`` holds,
per connection (keyed by its outlet ``"component.port"``), the enthalpy flow above the dead
state ``m (h - h(T0))`` (heat released if the stream were cooled to T0: the recoverable waste
heat of a flue) and its exergy; for the connections named as streams of a pinch analysis
(``pinch_targets``) also ``m (h - h(T_target))``, ``m`` and ``m T``, from which
:mod:`twin.pinch` forms each time slice's supply temperature and heat-capacity flow rate;
``"economics"`` holds the grid CO2 and the cost of the electricity drawn, whose factors vary
in time.
"""

from __future__ import annotations

import dataclasses
from graphlib import CycleError, TopologicalSorter

import equinox as eqx
import jax.numpy as jnp

from twin.core.component import AbstractComponent, Context
from twin.core.exergy import Flow, fluid_exergy
from twin.core.schedule import Schedule
from twin.core.stream import Stream

Port = tuple[str, str]  # (component, port)


class WiringError(ValueError):
    """Scenario wiring problems, each ``(connection index or None, message)``."""

    def __init__(self, problems: list[tuple[int | None, str]]):
        self.problems = problems
        super().__init__("; ".join(msg for _, msg in problems))


@dataclasses.dataclass(frozen=True)
class Wiring:
    """Static, hashable connection data fixed at build time."""

    source_of: tuple[tuple[Port, Port], ...]  # (inlet port, outlet port feeding it)
    mass_order: tuple[Port, ...]  # outlets in mass-flow evaluation order
    thermal_order: tuple[Port, ...]  # outlets in outlet-stream evaluation order

    def source(self, inlet: Port) -> Port:
        return dict(self.source_of)[inlet]


class Economics(eqx.Module):
    """Time-varying factors integrated with the run (the rest of the economics is post-hoc).

    Parameters
    ----------
    grid_co2 : CO2 emitted per unit of grid electricity drawn, over time. [kg/J]
    electricity_price : Price of grid electricity over time. [currency/J]
    """

    grid_co2: Schedule
    electricity_price: Schedule


class Plant(eqx.Module):
    """Components and their wiring, as one pytree (parameters are its array leaves).

    Parameters
    ----------
    components : The components by name (order is irrelevant to the result).
    T_ambient : Ambient temperature as a schedule. [K]
    T_dead : Dead-state temperature of the exergy audit. [K]
    wiring : Static connection data from :func:`build_plant`.
    economics : Grid CO2 and electricity price schedules, or None.
    pinch_targets : Target temperature of each connection (by outlet ``"component.port"``)
        that is a stream of the scenario's pinch analysis, or None. [K]
    """

    components: dict[str, AbstractComponent]
    T_ambient: Schedule
    T_dead: jnp.ndarray
    wiring: Wiring = eqx.field(static=True)
    economics: Economics | None = None
    pinch_targets: dict[str, jnp.ndarray] | None = None

    # ------------------------------------------------------------------ evaluation
    def _streams(self, t, y):
        comps = self.components
        ctx = Context(t=t, T_ambient=self.T_ambient(t), T0=self.T_dead)
        # controller outputs depend on controller states only: known before any pass
        controls = {n: c.control_output(ctx, y[n]) for n, c in comps.items()}
        ctx = Context(t=ctx.t, T_ambient=ctx.T_ambient, T0=ctx.T0,
                      controls={n: u for n, u in controls.items() if u is not None})
        src = dict(self.wiring.source_of)
        m: dict[Port, jnp.ndarray] = {}
        for c, p in self.wiring.mass_order:
            comp = comps[c]
            m_in = {i: m[src[(c, i)]] for i in comp.inlets if src[(c, i)] in m}
            m[(c, p)] = jnp.asarray(comp.mass_flow_out(ctx, y[c], p, m_in), dtype=float)
        s: dict[Port, Stream] = {}
        for c, p in self.wiring.thermal_order:
            comp = comps[c]
            inl = {
                i: _public(s[src[(c, i)]]) if src[(c, i)] in s else Stream(m[src[(c, i)]])
                for i in comp.inlets
            }
            out = comp.outlet(ctx, y[c], p, inl)
            s[(c, p)] = Stream(m[(c, p)], out.T, out.h, out.Y, out.aux)
        # downstream components see the stream without the producer's private ``aux``
        public = {k: _public(v) for k, v in s.items()}
        inlets = {c: {i: public[src[(c, i)]] for i in comps[c].inlets} for c in comps}
        outlets = {c: {p: s[(c, p)] for p in comps[c].outlets} for c in comps}
        ctx = Context(t=ctx.t, T_ambient=ctx.T_ambient, T0=ctx.T0, controls=ctx.controls,
                      streams={f"{c}.{p}": v for (c, p), v in public.items()})
        return ctx, inlets, outlets

    def _connection_flows(self, inlets):
        """Per connection (keyed by its inlet port): exergy flow and enthalpy flow above the
        dead state. [W], [W]"""
        x_port, heat, pinch = {}, {}, {}
        targets = self.pinch_targets or {}
        for (c, i), (sc, sp) in self.wiring.source_of:
            st, fluid = inlets[c][i], self.components[c].port_fluid(i)
            x_port[(c, i)] = st.m_flow * fluid_exergy(fluid, st.T, st.Y, self.T_dead)
            heat[(c, i)] = st.m_flow * (st.h - fluid.h(self.T_dead, st.Y))
            if f"{sc}.{sp}" in targets:
                T_t = targets[f"{sc}.{sp}"]
                pinch[(c, i)] = {"pinch_heat": st.m_flow * (st.h - fluid.h(T_t, st.Y)),
                                 "mass": st.m_flow, "mT": st.m_flow * st.T}
        return x_port, heat, pinch

    def vector_field(self, t, y):
        """Time derivative of the plant state ``y`` at time ``t`` (the ODE right-hand side)."""
        ctx, inlets, outlets = self._streams(t, y["components"])
        x_port, heat, pinch = self._connection_flows(inlets)
        x_out: dict[str, list] = {n: [] for n in self.components}
        for (c, i), (sc, _) in self.wiring.source_of:
            x_out[sc].append(x_port[(c, i)])
        dx, daudit = {}, {}
        for name, comp in self.components.items():
            x = y["components"][name]
            d, flows, tallies = comp.rhs(ctx, x, inlets[name], outlets[name])
            dx[name] = d
            a = {
                "stream_in": _sum(st.enthalpy_flow for st in inlets[name].values()),
                "stream_out": _sum(st.enthalpy_flow for st in outlets[name].values()),
                "exergy_in": _sum(x_port[(name, i)] for i in comp.inlets),
                "exergy_out": _sum(x_out[name]),
            }
            for k in comp.flow_names:
                f = flows[k]
                if not isinstance(f, Flow):
                    raise TypeError(f"{type(comp).__name__}.rhs returned {type(f).__name__} for "
                                    f"flow {k!r}; boundary flows must be twin.core.exergy.Flow")
                a[k], a[f"{k}_exergy"] = f.power, f.exergy
            a.update({k: jnp.asarray(tallies[k], dtype=float) for k in comp.tally_names})
            daudit[name] = a
        conns = {
            f"{sc}.{sp}": {"heat": heat[(c, i)], "exergy": x_port[(c, i)], **pinch.get((c, i), {})}
            for (c, i), (sc, sp) in self.wiring.source_of
        }
        out = {"components": dx, "audit": daudit, "connections": conns}
        if self.economics is not None:
            P_el = _sum(daudit[n]["electricity"] for n, c in self.components.items() if "electricity" in c.flow_names)
            out["economics"] = {"grid_co2": P_el * self.economics.grid_co2(t),
                                "electricity_cost": P_el * self.economics.electricity_price(t)}
        return out

    def initial_state(self):
        """Plant state at t = 0, audit integrals at zero."""
        comps = {n: c.initial_state() for n, c in self.components.items()}
        audit = {n: {k: jnp.zeros(()) for k in audit_terms(c)} for n, c in self.components.items()}
        zero = jnp.zeros(())
        targets = self.pinch_targets or {}
        conns = {
            f"{sc}.{sp}": {"heat": zero, "exergy": zero,
                           **({"pinch_heat": zero, "mass": zero, "mT": zero} if f"{sc}.{sp}" in targets else {})}
            for _, (sc, sp) in self.wiring.source_of
        }
        y = {"components": comps, "audit": audit, "connections": conns}
        if self.economics is not None:
            y["economics"] = {"grid_co2": zero, "electricity_cost": zero}
        return y

    def stored_energy(self, y) -> dict[str, jnp.ndarray]:
        """Energy stored in each component relative to 298.15 K. [J]"""
        return {n: c.stored_energy(y["components"][n]) for n, c in self.components.items()}

    def stored_exergy(self, y) -> dict[str, jnp.ndarray]:
        """Exergy stored in each component relative to the dead state ``T_dead``. [J]"""
        return {n: c.stored_exergy(y["components"][n], self.T_dead) for n, c in self.components.items()}

    def signals(self, t, y) -> dict[str, jnp.ndarray]:
        """Every observable at time ``t``: component signals and the stream on each connection."""
        ctx, inlets, outlets = self._streams(t, y["components"])
        out = {}
        for name, comp in self.components.items():
            for k, v in comp.signals(ctx, y["components"][name], inlets[name], outlets[name]).items():
                out[f"{name}.{k}"] = v
        for (c, i), (sc, sp) in self.wiring.source_of:
            st = inlets[c][i]
            out[f"{sc}.{sp}.m_flow"] = st.m_flow
            out[f"{sc}.{sp}.T"] = st.T
        for name, e in self.stored_energy(y).items():
            out[f"{name}.E_stored"] = e
        for name, e in self.stored_exergy(y).items():
            out[f"{name}.X_stored"] = e
        return out


def audit_terms(comp: AbstractComponent) -> tuple[str, ...]:
    """Names of the integrals the plant keeps for ``comp`` (see the module docstring)."""
    flows = tuple(k for f in comp.flow_names for k in (f, f"{f}_exergy"))
    return ("stream_in", "stream_out", "exergy_in", "exergy_out", *flows, *comp.tally_names)


def _public(st: Stream) -> Stream:
    """The stream as other components see it: without its producer's ``aux``."""
    return Stream(st.m_flow, st.T, st.h, st.Y)


def _sum(values):
    total = jnp.zeros(())
    for v in values:
        total = total + v
    return total


# ---------------------------------------------------------------------- assembly
def build_plant(
    components: dict[str, AbstractComponent],
    connections: list[tuple[str, str]],
    T_ambient: Schedule,
    T_dead: float | None = None,
    economics: Economics | None = None,
    pinch_targets: dict[str, float] | None = None,
) -> Plant:
    """Check the wiring and return the :class:`Plant`.

    ``connections`` are ``("component.outlet", "component.inlet")`` pairs. All problems are
    collected and raised together as one :class:`WiringError`. ``T_dead`` [K] is the
    dead-state temperature of the exergy audit; by default the ambient at t = 0.
    ``pinch_targets`` maps connections (outlet ``"component.port"``) to the target
    temperature [K] of their pinch-analysis stream (see :class:`Plant`).
    """
    problems: list[tuple[int | None, str]] = []
    source_of: dict[Port, Port] = {}
    used_outlets: dict[Port, int] = {}

    def parse(k: int, text: str, kind: str) -> Port | None:
        name, _, port = text.partition(".")
        if name not in components:
            problems.append((k, f"{text!r}: unknown component {name!r}; known: {', '.join(sorted(components))}"))
            return None
        comp = components[name]
        ports = comp.outlets if kind == "outlet" else comp.inlets
        if port not in ports:
            problems.append((k, f"{text!r}: {name} has no {kind} {port!r}; its {kind}s: {', '.join(ports) or 'none'}"))
            return None
        return (name, port)

    for k, (a, b) in enumerate(connections):
        out, inl = parse(k, a, "outlet"), parse(k, b, "inlet")
        if out is None or inl is None:
            continue
        if out in used_outlets:
            problems.append((k, f"outlet {a} is already connected (connection {used_outlets[out] + 1})"))
            continue
        if inl in source_of:
            problems.append((k, f"inlet {b} already has a source ({'.'.join(source_of[inl])})"))
            continue
        fa, fb = components[out[0]].port_fluid(out[1]), components[inl[0]].port_fluid(inl[1])
        if fa.name != fb.name:
            problems.append((k, f"{a} carries {fa.name} but {b} expects {fb.name}"))
        used_outlets[out] = k
        source_of[inl] = out

    for name, comp in components.items():
        for p in comp.inlets:
            if (name, p) not in source_of:
                problems.append((None, f"inlet {name}.{p} is not connected"))
        for p in comp.outlets:
            if (name, p) not in used_outlets:
                problems.append((None, f"outlet {name}.{p} is not connected (end it in a stack or sink)"))
    if problems:
        raise WiringError(problems)

    mass_graph: dict[Port, set[Port]] = {}
    thermal_graph: dict[Port, set[Port]] = {}
    for name in sorted(components):  # sorted: the file's component order never matters
        comp = components[name]
        for p in comp.outlets:
            deps = {source_of[(name, i)] for i in comp.mass_inputs(p)}
            mass_graph[(name, p)] = deps
            thermal_graph[(name, p)] = {source_of[(name, i)] for i in comp.thermal_inputs(p)}
    try:
        mass_order = tuple(TopologicalSorter(mass_graph).static_order())
    except CycleError as e:
        loop = " -> ".join(".".join(p) for p in e.args[1])
        raise WiringError([(None, f"flow loop without a pump (nothing sets its mass flow): {loop}")]) from None
    try:
        thermal_order = tuple(TopologicalSorter(thermal_graph).static_order())
    except CycleError as e:
        loop = " -> ".join(".".join(p) for p in e.args[1])
        raise WiringError(
            [(None, f"cycle of stateless (quasi-steady) elements, an algebraic loop: {loop}; "
                    "make one of them dynamic")]
        ) from None
    wiring = Wiring(tuple(sorted(source_of.items())), mass_order, thermal_order)
    T0 = jnp.asarray(T_ambient(0.0) if T_dead is None else T_dead, dtype=float)
    targets = {k: jnp.asarray(v, dtype=float) for k, v in sorted((pinch_targets or {}).items())}
    return Plant(dict(sorted(components.items())), T_ambient, T0, wiring, economics, targets or None)
