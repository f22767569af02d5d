"""provenance: blockchain data registration and provenance node for federated data exchanges."""

__version__ = "0.1.0"
