"""``streamforge book replay``: the rebuilt best bid/ask of a replay file, as JSON or a table."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from streamforge.cli.book import book

RECORDING = Path(__file__).parents[1] / "data/binance/binance-spot-2021-08-14.jsonl"


def run(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(book, ["replay", *args])
    return result.exit_code, result.output.splitlines()


def test_jsonl_prints_one_object_per_diff_batch() -> None:
    code, lines = run(str(RECORDING), "--jsonl")

    assert code == 0
    rows = [json.loads(line) for line in lines]
    assert len(rows) == 528
    assert list(rows[0]) == ["symbol", "u", "bid", "bid_qty", "ask", "ask_qty"]
    assert rows[0] == {
        "symbol": "XMRBTC",
        "u": 717720861,
        "bid": "0.00577300",
        "bid_qty": "16.19600000",
        "ask": "0.00577900",
        "ask_qty": "3.10000000",
    }


def test_symbol_selects_one_book_in_any_case() -> None:
    code, lines = run(str(RECORDING), "--jsonl", "--symbol", "sxpbtc")

    assert code == 0
    assert {json.loads(line)["symbol"] for line in lines} == {"SXPBTC"}
    assert len(lines) == 94


def test_without_jsonl_a_table_line_per_batch_follows_a_header() -> None:
    code, lines = run(str(RECORDING), "--symbol", "XMRBTC")

    assert code == 0
    assert lines[0].split() == [
        "symbol",
        "update",
        "id",
        "bid",
        "qty",
        "bid",
        "|",
        "ask",
        "ask",
        "qty",
    ]
    assert lines[1].split() == [
        "XMRBTC",
        "717720861",
        "16.19600000",
        "0.00577300",
        "|",
        "0.00577900",
        "3.10000000",
    ]
    assert len(lines) == 1 + 137


def test_a_missing_file_is_a_one_line_error(tmp_path: Path) -> None:
    code, lines = run(str(tmp_path / "absent.jsonl"))

    assert code == 1
    assert lines == [f"Error: cannot read {tmp_path / 'absent.jsonl'}: No such file or directory"]


def test_a_bad_line_is_a_one_line_error(tmp_path: Path) -> None:
    replay = tmp_path / "broken.jsonl"
    replay.write_text('{"t": "ws", "ts": 1.0}\n')

    code, lines = run(str(replay))

    assert code == 1
    assert len(lines) == 1
    assert lines[0].startswith(f"Error: {replay}:1: ")


def test_a_malformed_frame_is_a_one_line_error(tmp_path: Path) -> None:
    replay = tmp_path / "malformed.jsonl"
    replay.write_text(
        json.dumps({"t": "ws", "ts": 1.0, "url": "wss://x", "data": '{"stream":"a@depth"}'}) + "\n"
    )

    code, lines = run(str(replay))

    assert code == 1
    assert lines == [
        f"Error: {replay}: entry 1 (wss://x): not a combined-stream frame: "
        "Object missing required field `data`"
    ]
