"""Tongban's benchmarks: ``python -m bench --quick`` or ``--full``; see ``bench/README.md``."""
