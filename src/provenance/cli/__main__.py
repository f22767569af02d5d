"""``python -m provenance.cli``: the same entry point as the ``provenance`` console script."""

from provenance.cli.main import run

run()
