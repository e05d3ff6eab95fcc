"""Engine: streams, fluids, schedules, the component interface, plant assembly and the solver."""
