"""Shared fixtures: the committed cross-check vectors (fixtures/python)."""

import json
import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
VECTORS = pathlib.Path(os.environ.get("DUALITY_PY_VECTORS", ROOT / "fixtures" / "python" / "vectors.json"))


@pytest.fixture(scope="session")
def vectors():
    with open(VECTORS) as f:
        return json.load(f)
