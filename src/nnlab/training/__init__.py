"""Training jobs: what `nnlab train|eval|predict` do with a model, its data and its run directory."""
