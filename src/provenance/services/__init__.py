"""Capability services: what a node does, whichever interface asks (the CLI and the HTTP API call these).

Only ``follow`` lives here yet; the flat modules (operations, flow_operations, service, flows, certify,
batching, node) move in beside it, one module per capability (docs/architecture.md).
"""
