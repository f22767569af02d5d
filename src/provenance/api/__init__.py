"""The HTTP API of a node (FastAPI): ``create_app(ApiSettings(data_dir=...))``."""

from provenance.api.app import create_app
from provenance.api.runtime import ApiSettings, Runtime

__all__ = ["ApiSettings", "Runtime", "create_app"]
