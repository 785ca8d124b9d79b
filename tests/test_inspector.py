"""sl.inspector: each button does its step and both halves are redrawn; toggles restart."""

from __future__ import annotations

import pytest

import sessionlab as sl


@pytest.fixture
def panel(request):
    lab = sl.start(store="memory", name="t-inspector")
    panel = sl.inspector(lab)
    yield panel
    panel.lab.stop()


def test_set_view_logout_change_the_jar_and_the_records(panel):
    panel.click("set")
    assert panel.jar()["name"].tolist() == ["t-inspector"]
    assert panel.records()["data"].tolist() == [{"name": "alice"}]
    panel.click("view")
    assert panel.client.exchanges[-1].body.startswith("alice<br />")
    panel.click("logout")
    assert panel.jar().empty and panel.records().empty
    assert panel.last_exchange().startswith("GET /logout HTTP/1.1")


def test_values_are_shortened_so_the_attribute_columns_stay_visible(panel):
    panel.click("set")
    shown = panel.jar()["value"].iloc[0]
    assert shown.endswith("…") and len(shown) == 15
    assert panel.records()["id"].iloc[0].endswith("…")


def test_replay_after_logout_is_refused_by_server_side_sessions(panel):
    panel.click("set")
    panel.click("logout")
    panel.click("replay")
    assert panel.client.exchanges[-1].body == "user logged out!"
    assert panel.message == "replayed the cookie from before the logout"


def test_replay_after_logout_works_on_client_side_sessions(panel):
    panel.restart(store="cookie")
    panel.click("set")
    panel.click("logout")
    panel.click("replay")
    assert panel.client.exchanges[-1].body.startswith("alice<br />")


def test_tamper_is_refused(panel):
    panel.click("set")
    panel.click("tamper")
    assert panel.client.exchanges[-1].body == "user logged out!"
    assert any("bad-signature" in event for event in panel.lab.events)


def test_actions_without_a_session_say_what_to_do_first(panel):
    panel.click("replay")
    assert "log out first" in panel.message
    panel.click("tamper")
    assert "set a name first" in panel.message


def test_a_toggle_restarts_the_lab_under_the_same_name_with_the_new_cookie(panel):
    first = panel.lab
    panel.restart(httponly=False, samesite="Strict")
    assert not first.running and sl.running()["t-inspector"] is panel.lab
    panel.click("set")
    row = panel.jar().iloc[0]
    assert (bool(row["HttpOnly"]), row["SameSite"]) == (False, "Strict")
    assert "cookie readable by page scripts" in repr(panel.lab)


def test_an_unknown_action_is_named():
    with (
        sl.start(store="memory", name="t-inspector-bad") as lab,
        pytest.raises(sl.ConfigError, match="choose one of set, view"),
    ):
        sl.inspector(lab).click("hack")


def test_the_hardened_profile_is_refused_with_the_reason():
    with (
        sl.start(store="memory", name="t-inspector-hardened", profile="hardened") as lab,
        pytest.raises(sl.ConfigError, match="seed's routes"),
    ):
        sl.inspector(lab)


def test_the_widget_redraws_on_a_click_and_shows_static_tables_without_a_frontend(panel):
    box = panel.widget()
    buttons = {child.description: child for child in box.children[0].children[1:]}
    buttons["set"].click()
    jar_view, records_view, last_view = panel._widgets.views
    assert "t-inspector" in jar_view.value and "alice" in records_view.value
    assert "GET /user/alice HTTP/1.1" in last_view.value
    bundle = panel._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "<h4>client holds</h4>" in bundle["text/html"]
