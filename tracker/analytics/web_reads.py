"""Answering /stats and /breakdown over every shard: which share each shard reads, how they
are merged, and the order rows are ranked in.

Shards hold disjoint users, so shares add up, distinct visitors included.
Top pages without filters are planned: page views of every path come from
the rollups first, then visitors and visits only for the paths that can
still enter the top rows.
"""

from __future__ import annotations

import heapq
from collections import Counter
from functools import reduce

from tracker.analytics import web
from tracker.analytics.filters import GOAL, PAGE, Filters
from tracker.analytics.goals import Goal
from tracker.analytics.rollups import GAP_MS
from tracker.analytics.web import BreakdownShare, Row, Span, StatsShare
from tracker.storage.store import Store

PAGE_BATCH = 20  # paths asked at once when ranking pages from the rollups


async def stats(store: Store, site: int, spans: tuple[Span, ...], filters: Filters) -> list[StatsShare]:
    """Each window's shares added up over the site's shards."""
    per_shard = await store.read_each(site, web.stats_shares, spans, filters)
    return [reduce(StatsShare.add, shares, web.empty_stats(span))
            for span, shares in zip(spans, zip(*per_shard))]


async def breakdown(store: Store, site: int, by: str, span: Span, filters: Filters,
                    event: str | None, limit: int,
                    goals: tuple[Goal, ...] = ()) -> list[tuple[str | None, Row]]:
    """The top `limit` rows: most visitors first, then most pageviews or events, then by value
    with null last. `goals` are the site's, for `by=goal`."""
    if by == PAGE and not filters and span.end - span.start >= GAP_MS:
        merged = await top_pages(store, site, span, limit)
    else:
        shares = await store.read_each(site, web.breakdown_share, by, span, filters, event, goals)
        merged = reduce(BreakdownShare.add, shares, BreakdownShare())
        if filters.goals and by != GOAL:
            merged.with_bases()
    return ranked(merged, limit)


async def top_pages(store: Store, site: int, span: Span, limit: int) -> BreakdownShare:
    """The top paths without filters, from the rollups: page views for every path, then
    visitors and visits for paths in order of page views, until the next path's page views
    (which bound its visitors) fall below the visitors of the `limit`-th row found so far."""
    views: Counter[str] = reduce(Counter.__add__, await store.read_each(site, web.page_views_by_path, span),
                                 Counter())
    order = sorted(views, key=lambda path: (-views[path], path))
    found = BreakdownShare()
    batch = max(limit, PAGE_BATCH)
    for at in range(0, len(order), batch):
        paths = order[at:at + batch]
        for share in await store.read_each(site, web.page_audiences, paths, span):
            found.add(share)
        ranked_visitors = sorted((row.visitors for row in found.rows.values()), reverse=True)
        following = at + batch
        if (following < len(order) and len(ranked_visitors) >= limit
                and views[order[following]] < ranked_visitors[limit - 1]):
            break
    for path, row in found.rows.items():
        row.events = views[path] if path is not None else 0
    return found


def ranked(share: BreakdownShare, limit: int) -> list[tuple[str | None, Row]]:
    """The top `limit` rows: most visitors first, then most pageviews or events, then by
    value with null last (a partial sort: thousands of values, ten rows asked)."""
    return heapq.nsmallest(limit, share.rows.items(), key=lambda item: (
        -item[1].visitors, -item[1].events, item[0] is None, item[0] or ""))
