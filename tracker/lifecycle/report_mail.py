"""What an email report says, and the message that says it.

The figures are read as GET /stats and GET /breakdown read them (the same
functions, over the site's shards), for the period and the one before it:
the totals with their change, and the top sources, pages and countries.
The message has a plain-text part and an HTML part (every value escaped),
a link to the dashboard, and an unsubscribe link that works without signing
in, also as RFC 8058 one-click headers.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from tracker.analytics import web_reads
from tracker.analytics.filters import Filters
from tracker.analytics.web import Span, Totals
from tracker.lifecycle.report_periods import Period
from tracker.storage.registry import Site
from tracker.storage.store import Store

TOP = 5
# (heading, breakdown, what a null value means)
TOP_LISTS = (("Top sources", "source", "(none)"), ("Top pages", "page", "(none)"),
             ("Top countries", "country", "Unknown"))


@dataclass(frozen=True)
class Figures:
    site: Site
    period: Period
    totals: Totals
    previous: Totals
    tops: tuple[tuple[str, list[tuple[str, int]]], ...]  # (heading, [(value, visitors)])


@dataclass(frozen=True)
class Links:
    dashboard: str
    unsubscribe: str | None  # None in a preview for no subscriber


async def gather(store: Store, site: Site, period: Period) -> Figures:
    """The period's figures, read as /stats and /breakdown read them."""
    current, previous = await web_reads.stats(
        store, site.number, (Span((period.start, period.end)), Span((period.previous_start, period.start))),
        Filters())
    tops = []
    for heading, by, unknown in TOP_LISTS:
        rows = await web_reads.breakdown(store, site.number, by, Span((period.start, period.end)),
                                         Filters(), None, TOP)
        tops.append((heading, [(unknown if value is None else value, row.visitors)
                               for value, row in rows]))
    return Figures(site, period, current.totals(), previous.totals(), tuple(tops))


def compose(figures: Figures, sender: str, recipient: str, links: Links, now: int) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject(figures)
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = format_datetime(datetime.fromtimestamp(now / 1000, UTC))
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    if links.unsubscribe is not None:
        message["List-Unsubscribe"] = f"<{links.unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # Quoted-printable keeps every line within SMTP's 998 characters, however long a page path
    # or the HTML's lines are.
    message.set_content(text(figures, links), cte="quoted-printable")
    message.add_alternative(page(figures, links), subtype="html", cte="quoted-printable")
    return message


def subject(figures: Figures) -> str:
    return (f"{figures.site.name}: {figures.totals.visitors:,} visitors in "
            f"{figures.period.label}")


def lines(figures: Figures) -> list[tuple[str, str, str]]:
    """(name, value, change) of each total."""
    now, then = figures.totals, figures.previous
    return [("Visitors", f"{now.visitors:,}", change(now.visitors, then.visitors)),
            ("Visits", f"{now.visits:,}", change(now.visits, then.visits)),
            ("Pageviews", f"{now.pageviews:,}", change(now.pageviews, then.pageviews)),
            ("Bounce rate", f"{now.bounceRate * 100:.0f}%", points(now.bounceRate, then.bounceRate)),
            ("Visit duration", duration(now.visitDuration),
             change(now.visitDuration, then.visitDuration))]


def change(now: float, then: float) -> str:
    if not then:
        return "new" if now else "no change"
    percent = round((now - then) / then * 100)
    return f"{percent:+d}%" if percent else "no change"


def points(now: float, then: float) -> str:
    moved = round((now - then) * 100)
    if not moved:
        return "no change"
    return f"{moved:+d} point" + ("s" if abs(moved) > 1 else "")


def duration(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}m {whole % 60:02d}s" if whole >= 60 else f"{whole}s"


def text(figures: Figures, links: Links) -> str:
    period = figures.period
    out = [f"{figures.site.name}: {period.label} ({figures.site.timezone})", ""]
    out += [f"{name + ':':<16}{value:>10}   {moved} on {period.previous_label}"
            for name, value, moved in lines(figures)]
    for heading, rows in figures.tops:
        out += ["", heading]
        out += [f"  {value:<40} {visitors:>8,} visitors" for value, visitors in rows] or ["  (none)"]
    out += ["", f"Dashboard: {links.dashboard}"]
    if links.unsubscribe is not None:
        out += [f"Unsubscribe: {links.unsubscribe}"]
    return "\n".join(out) + "\n"


STYLE = ("font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1f2933;"
         "max-width:560px;margin:0 auto;padding:16px")
CELL = "padding:4px 8px;border-bottom:1px solid #e4e7eb"


def page(figures: Figures, links: Links) -> str:
    e = html.escape
    period = figures.period
    totals = "".join(
        f'<tr><td style="{CELL}">{e(name)}</td><td style="{CELL};text-align:right">'
        f'<strong>{e(value)}</strong></td><td style="{CELL};color:#616e7c">{e(moved)}</td></tr>'
        for name, value, moved in lines(figures))
    tops = "".join(
        f'<h3 style="margin:20px 0 6px">{e(heading)}</h3><table style="width:100%;'
        f'border-collapse:collapse"><tr><td></td><td style="padding:0 8px;text-align:right;'
        f'color:#616e7c;font-size:13px">Visitors</td></tr>'
        + ("".join(f'<tr><td style="{CELL}">{e(value)}</td><td style="{CELL};text-align:right">'
                   f'{visitors:,}</td></tr>' for value, visitors in rows)
           or f'<tr><td style="{CELL}">(none)</td></tr>')
        + "</table>" for heading, rows in figures.tops)
    unsubscribe = (f' &middot; <a href="{e(links.unsubscribe)}" style="color:#616e7c">Unsubscribe</a>'
                   if links.unsubscribe is not None else "")
    return (f'<!doctype html><html><body style="background:#f5f7fa;margin:0">'
            f'<div style="{STYLE};background:#fff">'
            f'<h2 style="margin:0 0 4px">{e(figures.site.name)}</h2>'
            f'<p style="margin:0 0 16px;color:#616e7c">{e(period.label)} ({e(figures.site.timezone)}), '
            f'changes on {e(period.previous_label)}</p>'
            f'<table style="width:100%;border-collapse:collapse">{totals}</table>{tops}'
            f'<p style="margin-top:24px"><a href="{e(links.dashboard)}" style="color:#2563eb">'
            f'Open the dashboard</a>{unsubscribe}</p></div></body></html>')
