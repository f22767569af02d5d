"""Helpers the tests share: worlds, federations, servers, subprocess entry points. Tests import these, never
another test module (a test module's import runs its tests' module-level setup and couples two suites)."""
