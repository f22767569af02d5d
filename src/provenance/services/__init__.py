"""Capability services: what a node does, whichever interface asks (the CLI and the HTTP API call only these).

One module per capability (docs/architecture.md): node, bootstrap, operations (with requests and trust),
certificates, batching, flows, catalog, follow.
"""
