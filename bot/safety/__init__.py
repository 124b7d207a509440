"""Safety tooling around the risk assessment in ``flows.risk`` (command-line checks)."""
