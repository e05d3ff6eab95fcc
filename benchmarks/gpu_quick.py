"""One batched chunk of the flagship on the local device: compile and steady wall (see RESULTS.md)."""
import sys, time
import twin  # noqa: F401
import jax
from twin.sweep import batch
from twin.sweep.spec import latin_hypercube, parse_vary

B = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
t0 = time.perf_counter()
V = latin_hypercube(parse_vary(["recuperator.UA=400 W/K..800 W/K", "pcm_bank.mass=20 t..60 t",
                                "furnace.firing_rate=6 MW..8 MW"]), 2 * B, seed=0)
pl = batch.plan("scenarios/glass_furnace_mould_preheat.yaml", V)
g = pl.groups[0]
ts = batch.output_times(pl.base.duration, 3600.0)
print(f"device {jax.devices()[0].device_kind}, x64 {jax.config.jax_enable_x64}, plan {time.perf_counter()-t0:.1f} s", flush=True)
for rep, rows in enumerate((g.index[:B], g.index[B:2 * B])):
    t = time.perf_counter()
    lanes, info = batch.solve_chunk(g, V, rows, B, ts, pl.base.solver)
    ok = sum(l.success for l in lanes)
    print(f"B={B} rep {rep}: call {time.perf_counter()-t:.2f} s, wall {info['wall']:.2f} s, "
          f"{B / info['wall']:.0f} runs/s = {60 * B / info['wall']:.0f} runs/min, ok {ok}/{B}, steps mean "
          f"{info['mean_steps']:.0f} max {info['max_steps']}, waste {info['lockstep_waste']:.2f}, "
          f"compile {batch.LAST_COMPILE}", flush=True)
