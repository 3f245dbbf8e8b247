from hypothesis import given
from hypothesis import strategies as st

from hallpass.text import is_number


def test_only_ascii_digits_are_numbers() -> None:
    assert is_number("100001")
    assert not is_number("")
    assert not is_number("²")
    assert not is_number("١٢٣")
    assert not is_number("-1")


@given(st.text())
def test_a_number_always_converts(text: str) -> None:
    if is_number(text):
        assert int(text) >= 0
