"""Table blocks: within Slack's limits or not sent at all (the text answer stays)."""

from __future__ import annotations

from bot.slack.tables import table_block, with_table
from tests.doubles.slack_server import validate_message


def _message(table: dict) -> dict:
    return {"text": "fallback", "blocks": [], "attachments": [{"blocks": [table]}]}


def test_a_table_that_fits_is_a_valid_message() -> None:
    table = table_block([["Region", "Releases"], ["China", 3], ["<!channel>", ""]])
    assert table is not None
    assert validate_message(_message(table)) == []
    cells = [cell["text"] for row in table["rows"] for cell in row]
    assert "<!channel>" not in cells and "–" in cells  # made safe; no empty cell


def test_what_does_not_fit_is_not_a_table_and_the_text_answer_stays() -> None:
    assert table_block([["x"]] * 101) is None  # more than 100 rows
    assert table_block([list(range(21))]) is None  # more than 20 cells
    assert table_block([["y" * 200] * 10] * 6) is None  # more than 10,000 characters
    payload = {"text": "t", "blocks": [{"type": "divider"}]}
    assert with_table(payload, None, keep=[]) is payload


def test_the_slack_stand_in_refuses_what_slack_refuses() -> None:
    table = table_block([["a", "b"]])
    assert table is not None
    two = {"text": "t", "attachments": [{"blocks": [table, dict(table, block_id="t2")]}]}
    assert any("only one table" in problem for problem in validate_message(two))
    empty = dict(table, rows=[[{"type": "raw_text", "text": ""}]])
    assert any("must not be empty" in problem for problem in validate_message(_message(empty)))
