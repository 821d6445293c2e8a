"""Shared fixtures and the hypothesis profiles (PANOPTIQ_HYPOTHESIS_PROFILE=ci|thorough)."""

from __future__ import annotations

import json
import os
import sys
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).parent))

# CI: a few hundred cases per property. Thorough: thousands, for a nightly or pre-release run.
settings.register_profile("ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("PANOPTIQ_HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The real COCO panoptic sample shipped inside the package."""
    return Path(str(resources.files("panoptiq") / "data" / "coco_sample"))


#: The 133 COCO panoptic categories, in the sample.
COCO_CATEGORIES_FILE = "panoptic_coco_categories.json"


@pytest.fixture(scope="session")
def categories_file(sample_dir: Path) -> Path:
    return sample_dir / COCO_CATEGORIES_FILE


@pytest.fixture(scope="session")
def categories(categories_file: Path) -> list[dict]:
    return json.loads(categories_file.read_text())


@pytest.fixture(scope="session")
def sample_json(sample_dir: Path) -> dict:
    return json.loads((sample_dir / "panoptic_examples.json").read_text())


@pytest.fixture(scope="session")
def coco_categories(sample_json: dict) -> dict[int, dict]:
    return {c["id"]: c for c in sample_json["categories"]}
