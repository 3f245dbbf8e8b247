"""The live runner reads again after a NOTIFY only when it may announce an event not yet read."""

from __future__ import annotations

from hallpass.projections.runner import Heard


def test_a_notify_for_events_already_read_is_no_news() -> None:
    heard = Heard()
    heard.reading()
    heard.notified("41")
    heard.notified("40")  # appends committed in order; a late one says less
    assert not heard.news_after(41)
    assert heard.news_after(40)


def test_a_notify_beyond_what_was_read_is_news() -> None:
    heard = Heard()
    heard.reading()
    heard.notified("7")
    assert heard.news_after(6)


def test_a_reconnection_or_another_payload_is_news_until_the_next_read() -> None:
    for wake in (Heard.reconnected, lambda h: h.notified("not a number")):
        heard = Heard()
        heard.reading()
        wake(heard)
        assert heard.news_after(10**9), "NOTIFYs may have been missed: read again"
        heard.reading()
        assert not heard.news_after(0)


def test_a_notify_naming_the_streams_it_wrote_announces_its_last_notification() -> None:
    heard = Heard()
    heard.reading()
    heard.notified("12 0b3f6a38-2a36-4c1c-9b2e-6d2f1f5d8a11:3 4e0c3d7a-5a1b-4e8f-8b7a-1c2d3e4f5a6b:9")
    assert not heard.news_after(12)
    assert heard.news_after(11)
