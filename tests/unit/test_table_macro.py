"""`_table.html`'s `table` macro, rendered by the app's own template environment: the header row
from the columns, the caller's rows, and with no rows the empty words across every column or in a
paragraph in the table's place (decision 107)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from hallpass.http.app import templates

CALL = (
    '{% from "_table.html" import table %}'
    "{% call(r) table(columns, rows, empty, *args, **keywords) %}<tr><td>{{ r }}</td></tr>{% endcall %}"
)


def render(columns: list[str], rows: list[Any], empty: str, *args: Any, **keywords: Any) -> str:
    template = templates().env.from_string(CALL)
    html = template.render(columns=columns, rows=rows, empty=empty, args=args, keywords=keywords)
    return re.sub(r">\s+<", "><", html).strip()


def test_rows_come_under_one_header_row_of_the_columns() -> None:
    html = render(["Name", "State"], ["a", "<b>"], "None yet.", id="tokens")
    assert html == (
        '<table id="tokens"><thead><tr><th scope="col">Name</th><th scope="col">State</th></tr></thead>'
        "<tbody><tr><td>a</td></tr><tr><td>&lt;b&gt;</td></tr></tbody></table>"
    )


@pytest.mark.parametrize("columns", [["One"], ["One", "Two", "Three"], ["A", "B", "C", "D", "E", "F", "G"]])
def test_no_rows_say_the_empty_words_across_every_column(columns: list[str]) -> None:
    html = render(columns, [], "Nothing here yet.")
    assert (
        f'<tbody><tr><td class="empty" colspan="{len(columns)}">Nothing here yet.</td></tr></tbody>' in html
    )


def test_an_empty_paragraph_takes_the_tables_place_only_when_there_are_no_rows() -> None:
    assert render(["A"], [], "No groups yet.", empty_paragraph=True, id="groups") == "<p>No groups yet.</p>"
    shown = render(["A"], ["x"], "No groups yet.", empty_paragraph=True, id="groups")
    assert shown.startswith('<table id="groups">') and "No groups yet." not in shown


def test_the_caption_and_the_wrapper_are_written_when_given_an_empty_caption_too() -> None:
    html = render(["A"], [], "None.", "", "table-wrap", **{"class": "passes", "data-report-table": "busiest"})
    assert html.startswith(
        '<div class="table-wrap"><table class="passes" data-report-table="busiest"><caption></caption>'
    )
    assert html.endswith("</table></div>")
    assert "<caption>" not in render(["A"], [], "None.")
