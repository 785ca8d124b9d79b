"""The pictures and the wire text of recorded exchanges."""

from __future__ import annotations

import sessionlab as sl


def _arrows_and_notes(figure):
    """Each arrow's height, and each small note (the cookie line) with its height."""
    (axes,) = figure.axes
    arrows = sorted((a.xy[1] for a in axes.texts if getattr(a, "arrowprops", None)), reverse=True)
    notes = [(t.get_text(), t.get_position()[1]) for t in axes.texts if t.get_fontsize() == 8]
    return arrows, notes


def test_each_cookie_note_sits_above_its_own_arrow_not_over_the_next_one():
    with sl.start(store="memory", name="t-diagram") as lab:
        client = lab.client()
        client.cycle("alice")
        arrows, notes = _arrows_and_notes(sl.sequence_diagram(client))
    assert len(arrows) == len(notes) == 8  # four requests, four responses
    for index, (arrow, (text, y)) in enumerate(zip(arrows, notes, strict=True)):
        above = arrows[index - 1] if index else float("inf")
        assert arrow < y < above, (text, arrow, y)
    # the login's response carries the Set-Cookie; the note says so right above that arrow
    assert notes[1][0] == "Set-Cookie: t-diagram=id1+signature"
    assert notes[2][0] == "Cookie: t-diagram=id1+signature"


def test_wire_writes_the_exchange_as_http_messages():
    with sl.start(store="memory", name="t-wire") as lab:
        client = lab.client()
        client.get("/user/alice")
        client.get("/user")
        login, view = (str(sl.wire(e)) for e in client.exchanges)
    request, response, body = login.split("\n\n")
    assert request.splitlines() == ["GET /user/alice HTTP/1.1", f"Host: {lab.url[7:]}"]
    assert response.startswith("HTTP/1.1 200 OK\nSet-Cookie: t-wire=")
    assert body == '<p>Session Set: <a href="/user">View Here</a></p>'
    assert view.splitlines()[2].startswith("Cookie: t-wire=")
