"""The status renderings: everything escaped, private incidents as a reference only."""

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

from bot.incidents.status import FeedEntry, PublicIncident, PublishedUpdate, StatusBoard
from bot.render.status import ago, atom_feed, incident_json, status_page

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
HOSTILE = PublicIncident(
    "INC-1",
    private=False,
    title='<img src=x onerror="alert(1)"> & co',
    severity="SEV1",
    status="identified",
    declared_at=NOW - timedelta(hours=3, minutes=5),
    last_update=PublishedUpdate(NOW, "Paged <@U123> </div><script>x()</script>", False),
    next_update_due=NOW + timedelta(minutes=30),
)


def test_html_escapes_everything_people_typed():
    page = status_page(StatusBoard(NOW, [HOSTILE, PublicIncident("INC-2", private=True)], []))
    assert "<img" not in page and "<script>" not in page and "</div><" not in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; &amp; co" in page
    assert "Paged &lt;@U123&gt;" in page and "declared 3 h 5 min ago" in page
    assert "Next update due 2026-11-25 12:30 UTC" in page and "a private incident" in page


def test_private_incident_json_is_its_reference_only():
    assert incident_json(PublicIncident("INC-2", private=True)) == {
        "reference": "INC-2",
        "private": True,
        "title": "a private incident",
    }


def test_atom_feed_is_valid_xml_with_the_text_as_is():
    feed = atom_feed([FeedEntry(HOSTILE, HOSTILE.last_update, 7)], "https://x.example", NOW)
    root = ElementTree.fromstring(feed.encode())
    ns = "{http://www.w3.org/2005/Atom}"
    (entry,) = root.findall(f"{ns}entry")
    assert entry.find(f"{ns}content").text == "Paged <@U123> </div><script>x()</script>"
    assert entry.find(f"{ns}id").text == "https://x.example/status/INC-1#update-7"
    assert root.find(f"{ns}updated").text == NOW.isoformat()


def test_ago():
    assert [ago(NOW - d, NOW) for d in (timedelta(seconds=5), timedelta(minutes=12))] == [
        "5 s",
        "12 min",
    ]
    assert ago(NOW - timedelta(days=2, hours=4, minutes=3), NOW) == "2 d 4 h"
