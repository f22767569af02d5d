"""The HTTP routes, one module per capability; each has ``install(app, runtime)``."""
