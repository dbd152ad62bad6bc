"""`python -m parity.lectures --report DIR`: a tiny run of two cheap lectures under both engines
writes LECTURES.md with their rows and one loss plot each; bad input is named."""
import json

import pytest

pytest.importorskip("tensorflow")

from parity.lectures.__main__ import main          # noqa: E402


def test_report_of_two_lectures(tmp_path):
    for name in ("seq_loss", "hihello"):
        assert main([name, "--report", str(tmp_path), "--steps", "3"]) == 0
    text = (tmp_path / "LECTURES.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| [")]
    assert [r.split("]")[0] for r in rows] == ["| [seq_loss", "| [hihello"]
    hihello = rows[1].split(" | ")
    assert hihello[2] == "**3** (50)"                       # steps, shortened, and the deck's
    assert "ihello" in hihello[3]                            # the deck's result
    assert hihello[4].startswith("text: ") and hihello[5].startswith("text: ")
    assert "Not run yet:" in text and "mnist_cnn" in text
    for name in ("seq_loss", "hihello"):
        png = tmp_path / f"{name}-loss.png"
        assert f"]({png.name})" in text
        assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size < 100_000
    records = json.loads((tmp_path / "lectures.json").read_text())
    runs = records["hihello"]["runs"]
    assert len(runs["minigrad"]["losses"]) == len(runs["tensorflow"]["losses"]) == 3
    # the same start: the first loss (before any update) agrees
    assert runs["minigrad"]["losses"][0] == pytest.approx(runs["tensorflow"]["losses"][0],
                                                          rel=1e-5)


def test_report_bad_input(tmp_path):
    with pytest.raises(SystemExit, match="unknown lecture 'nope'; known: .*hihello"):
        main(["nope", "--report", str(tmp_path)])
    empty = tmp_path / "data"
    empty.mkdir()
    with pytest.raises(SystemExit, match="data-02-stock_daily.csv"):
        main(["stock_lstm", "--report", str(tmp_path), "--data-dir", str(empty), "--steps", "1"])
