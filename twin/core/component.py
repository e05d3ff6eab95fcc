"""The component interface every piece of equipment implements.

A component is a final ``equinox.Module`` whose array fields are its parameters
(differentiable, vmappable) and whose static fields set shapes and wiring. It declares its
ports, and the plant drives it in three passes per right-hand-side call:

1. **mass flows** (:meth:`AbstractComponent.mass_flow_out`): each outlet's flow either passes
   through from an inlet (``flow_paths``) or is set by the component (pump, furnace
   exhaust, boundary source). A loop of pass-through components with no flow-setting
   component is a scenario error ("flow loop without a pump").
2. **outlet streams** (:meth:`AbstractComponent.outlet`): the temperature and enthalpy of each
   outlet. Components with a finite volume at the outlet read it from their state; only
   quasi-steady elements (a quasi-steady gas side, a pump) depend on their inlets, and say so
   through :meth:`AbstractComponent.thermal_inputs`. The plant evaluates outlets in
   topological order; a cycle of such stateless elements is a scenario error.
3. **derivatives and boundary flows** (:meth:`AbstractComponent.rhs`): with every inlet and
   outlet stream known, return the state derivative (same pytree structure as the state),
   the component's boundary flows as :class:`twin.core.exergy.Flow` (energy and exergy [W],
   positive *into* the component: fuel, electricity, heat from or to ambient, material
   charged or discharged, heat delivered to a use) and its non-energy tallies
   (CO2 [kg/s], product [kg/s], ...).

Energy is conserved by construction when, for every state, ``d stored_energy / dt`` equals
the sum of inlet enthalpy flows minus outlet enthalpy flows plus the boundary flows. The
audit (:mod:`twin.audit`) integrates each term alongside the state and checks it. Stored
energies are linear in the state (enthalpy-like states), so Runge-Kutta steps preserve the
balance to round-off, not just to the solver tolerance.

The second law is audited the same way (:mod:`twin.core.exergy`): the plant integrates the
exergy of every port stream and boundary flow, and each component reports the exergy it
stores (:meth:`AbstractComponent.stored_exergy`), so that its exergy destruction over the run,
``X_D = X_in - X_out - ΔX_stored``, can be checked to be non-negative.
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from twin.core.stream import Stream


class Context(eqx.Module):
    """What every component may read besides its own state and ports.

    Parameters
    ----------
    t : Time since the start of the run. [s]
    T_ambient : Ambient temperature at ``t`` (what losses go to). [K]
    T0 : Dead-state temperature of the exergy audit (fixed over the run). [K]
    controls : Output of every controller, ``{controller name: u}``, computed from the
        controllers' states before the passes (so an actuator may use it anywhere). [-]
    streams : In the derivative pass only: the stream on every connection, keyed by its
        outlet ``"component.port"`` (what a controller's sensor reads).
    """

    t: Float[Array, ""]
    T_ambient: Float[Array, ""]
    T0: Float[Array, ""]
    controls: dict = eqx.field(default_factory=dict)
    streams: dict = eqx.field(default_factory=dict)


class AbstractComponent(eqx.Module):
    """Interface of a plant component (see the module docstring for the protocol).

    Subclasses set ``inlets``, ``outlets`` (port names, for their role: ``hot_in``,
    ``exhaust``, ``supply``), ``flow_paths`` (outlet -> inlet whose mass flow it passes on),
    ``flow_names`` (the boundary energy flows ``rhs`` returns) and ``tally_names`` (the
    non-energy rates it returns).
    """

    inlets: ClassVar[tuple[str, ...]] = ()
    outlets: ClassVar[tuple[str, ...]] = ()
    flow_paths: ClassVar[dict[str, str]] = {}
    flow_names: ClassVar[tuple[str, ...]] = ()
    tally_names: ClassVar[tuple[str, ...]] = ()
    #: units of each tally (default kg/s, integrated to kg)
    tally_units: ClassVar[dict[str, str]] = {}
    #: ``{signal: (units, long_name, dims)}`` for what :meth:`signals` returns
    signal_info: ClassVar[dict[str, tuple[str, str, tuple[str, ...]]]] = {}
    #: ``{state field: (units, long_name, dims)}`` for the saved state (``dims`` after time)
    state_info: ClassVar[dict[str, tuple[str, str, tuple[str, ...]]]] = {}

    # --- wiring ---------------------------------------------------------------------------
    def port_fluid(self, port: str):
        """The fluid (a :mod:`twin.thermo.fluids` object) carried through ``port``."""
        raise NotImplementedError

    def thermal_inputs(self, port: str) -> tuple[str, ...]:
        """Inlets whose temperature the outlet ``port`` depends on directly (default none)."""
        return ()

    def mass_inputs(self, port: str) -> tuple[str, ...]:
        """Inlets whose mass flow the flow of outlet ``port`` depends on (none: it sets it)."""
        return (self.flow_paths[port],) if port in self.flow_paths else ()

    # --- the three passes -----------------------------------------------------------------
    def mass_flow_out(self, ctx: Context, x, port: str, m_in: dict[str, Array]) -> Array:
        """Mass flow leaving ``port``. [kg/s] Default: pass the mapped inlet's flow on."""
        return m_in[self.flow_paths[port]]

    def outlet(self, ctx: Context, x, port: str, inlets: dict[str, Stream]) -> Stream:
        """The stream leaving ``port``."""
        raise NotImplementedError

    def rhs(self, ctx: Context, x, inlets: dict[str, Stream], outlets: dict[str, Stream]):
        """``(dx, flows, tallies)``: derivative, boundary flows (``{name: Flow}``, one per
        ``flow_names``), other rates."""
        raise NotImplementedError

    def control_output(self, ctx: Context, x) -> Array | None:
        """A controller's output from its state alone (None: not a controller)."""
        return None

    # --- state, energy and signals ---------------------------------------------------------
    def initial_state(self):
        """The state at t = 0 (a pytree of float64 arrays)."""
        raise NotImplementedError

    def stored_energy(self, x) -> Array:
        """Energy held in the component relative to 298.15 K, linear in the state. [J]"""
        raise NotImplementedError

    def stored_exergy(self, x, T0) -> Array:
        """Exergy held in the component relative to the dead state at ``T0`` [K]. [J]"""
        raise NotImplementedError

    def signals(self, ctx: Context, x, inlets: dict[str, Stream], outlets: dict[str, Stream]):
        """Named observables for the results file, ``{name: value}``, described by ``signal_info``.

        ``dims`` in ``signal_info`` name the extra dimensions of a value (e.g. ``("cell",)``);
        the results writer prefixes them with the component name.
        """
        return {}


class AbstractStatelessComponent(AbstractComponent):
    """A component without state or stored energy carrying one fluid on all its ports
    (boundaries, pumps). Subclasses declare a static ``fluid`` field."""

    def port_fluid(self, port: str):
        return self.fluid

    def initial_state(self):
        return jnp.zeros(0)

    def stored_energy(self, x) -> Array:
        return jnp.zeros(())

    def stored_exergy(self, x, T0) -> Array:
        return jnp.zeros(())
