"""Mutual-recognition certificates (W3C VC 2.0): see :mod:`provenance.core.certificates.checks`."""

from provenance.core.certificates.checks import *  # noqa: F403
from provenance.core.certificates.checks import (  # noqa: F401
    _TOP_KEYS,
    _binding,
    _iso_seconds,
    _parse,
    _parse_compiled,
    _parse_iso,
    _parse_plain,
    _parse_strict,
    _speedups,
    _verify_fast,
    _verify_full,
)
