"""The ``provenance`` command. It parses arguments, calls the service, and prints; it holds no logic of its own.

main.py holds the parser and the entry point, render.py the output, common.py what the handlers share, and one
module per command group the handlers (federation, entities, registrations, lineage, index, batch, logs,
certificates, serve, tokens, flows, dev).

Exit codes: 0 success; 2 invalid input or usage; 3 configuration; 4 not found (the node's or a contract's);
5 storage (including a data directory locked by another process); 6 keystore; 7 chain; 8 refused (forbidden,
not fitting the current state, or against a contract rule: provenance.errors.OUTCOMES, keyed by the kinds of
provenance.chain.reverts); 9 a certificate or snapshot failed verification; 10 the index cannot follow the
chain; 1 anything else.
``--json`` prints one JSON document on stdout (errors as {"error": ..., "message": ...} on stderr).
"""

from provenance.cli.main import build_parser, main, run

__all__ = ["build_parser", "main", "run"]
