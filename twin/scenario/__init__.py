"""Scenario files: YAML with units in, validated SI parameters out.

See :mod:`twin.scenario.yamlio` (loading, line numbers, ``--set`` overrides),
:mod:`twin.scenario.fields` (unit-aware pydantic field types) and
:mod:`twin.scenario.errors` (all problems of a file reported at once).
"""
