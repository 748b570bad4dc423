"""What an email report says, and the message that says it: escaped HTML, changes worded for
people, lines SMTP can carry."""

from __future__ import annotations

import email
from email import policy
from zoneinfo import ZoneInfo

from tracker.analytics.web import Totals
from tracker.lifecycle import report_mail
from tracker.lifecycle.mailer import SMTP_POLICY
from tracker.lifecycle.report_mail import Figures, Links
from tracker.lifecycle.report_periods import MONTH, last_complete
from tracker.storage.registry import Site

SITE = Site(1, "shop.example", "Shop <b>&</b> Co", "Europe/Paris", "u", 0, None)
PERIOD = last_complete(MONTH, ZoneInfo("Europe/Paris"), 1796669983683)  # in December 2026
LONG_PATH = "/search?q=" + "x" * 1500
LINKS = Links("https://t.example/?site=shop.example", "https://t.example/reports/unsubscribe/" + "a" * 40)


def figures(now: Totals, then: Totals) -> Figures:
    return Figures(SITE, PERIOD, now, then,
                   (("Top sources", [("<script>alert(1)</script>", 1200)]),
                    ("Top pages", [(LONG_PATH, 3)]), ("Top countries", [])))


def test_the_message_has_text_and_escaped_html_and_lines_smtp_can_carry():
    message = report_mail.compose(figures(Totals(1200, 1500, 4000, 0.4, 75.0),
                                          Totals(1000, 1500, 0, 0.5, 0.0)),
                                  "reports@t.example", "owner@example.com", LINKS, 1796669983683)
    raw = message.as_bytes(policy=SMTP_POLICY)
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == "Shop <b>&</b> Co: 1,200 visitors in November 2026"
    assert parsed["List-Unsubscribe"] == f"<{LINKS.unsubscribe}>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = parsed.get_body(("plain",)).get_content().replace("\r\n", "\n")
    page = parsed.get_body(("html",)).get_content()
    assert "<script>alert(1)</script>" in text and LONG_PATH in text
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Shop &lt;b&gt;&amp;&lt;/b&gt; Co" in page and LONG_PATH in page
    assert "Visitors:            1,200   +20% on the month before" in text
    assert "Visits:              1,500   no change on the month before" in text
    assert "Pageviews:           4,000   new on the month before" in text
    assert "Bounce rate:           40%   -10 points on the month before" in text
    assert "Visit duration:     1m 15s   new on the month before" in text
    assert "Top countries\n  (none)" in text


def test_changes_are_worded_for_people():
    assert report_mail.change(0, 0) == "no change"
    assert report_mail.change(5, 0) == "new"
    assert report_mail.change(50, 100) == "-50%"
    assert report_mail.change(1001, 1000) == "no change"  # under half a percent
    assert report_mail.points(0.304, 0.3) == "no change"
    assert report_mail.points(0.31, 0.3) == "+1 point" and report_mail.points(0.1, 0.3) == "-20 points"
    assert report_mail.duration(59.6) == "1m 00s" and report_mail.duration(9.4) == "9s"
