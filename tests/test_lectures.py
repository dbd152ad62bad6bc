"""parity.lectures: the lecture programs, their CLI, and the name-checked weight copy."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from parity.lectures import LECTURES, LectureTrainer, VariableMismatch, load_all

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "parity.lectures", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def test_list_names_every_lecture():
    r = _cli("--list")
    assert r.returncode == 0
    for name in load_all():
        assert name in r.stdout


def test_unknown_lecture_lists_the_known_ones():
    r = _cli("nope")
    assert r.returncode != 0 and "unknown lecture 'nope'" in r.stderr and "xor" in r.stderr


@pytest.mark.parametrize("engine", ["minigrad", "tensorflow"])
def test_a_lecture_prints_the_decks_lines(engine, tf):
    r = _cli("xor", "--engine", engine, "--steps", "201")
    assert r.returncode == 0, r.stderr[-2000:]
    lines = r.stdout.splitlines()
    assert [ln.split()[0] for ln in lines[:3]] == ["0", "100", "200"]
    assert any(ln.startswith("accuracy: ") for ln in lines)


def test_weights_of_another_program_are_refused_with_every_difference():
    import minigrad.compat.v1 as tf
    lecture = LECTURES["xor"]()
    data = lecture.data(None, "float64")
    wrong = {"weight1": np.zeros((2, 2)), "bias1": np.zeros(3), "weight3": np.zeros((1, 1))}
    with pytest.raises(VariableMismatch) as err:
        LectureTrainer(lecture, tf, "float64", data, weights=wrong)
    msg = str(err.value)
    assert "bias1: [3] vs [2]" in msg and "weight3: [1, 1] vs missing" in msg
    assert "weight2: missing vs [2, 1]" in msg and "count: 3" in msg
