"""The package is described in pyproject.toml; this file only adds the compiled fast paths of certificate
verification (src/provenance/core/_speedups.c). They are optional: where no C compiler is found the install goes
on without them and the Python code computes the same results, slower (the test suite requires them)."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("provenance.core._speedups", ["src/provenance/core/_speedups.c"], optional=True)])
