import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def shared_data_dir():
    """The real data sets, if present: $MINIGRAD_DATA_DIR or ../shared/data beside the repo."""
    env = os.environ.get("MINIGRAD_DATA_DIR")
    for cand in ([Path(env)] if env else []) + [ROOT.parent / "shared" / "data"]:
        if cand.is_dir():
            return cand
    return None


@pytest.fixture
def data_dir():
    d = shared_data_dir()
    if d is None:
        pytest.skip("real data not present (set MINIGRAD_DATA_DIR)")
    return d


@pytest.fixture(scope="session")
def tf():
    tf = pytest.importorskip("tensorflow")
    return tf
