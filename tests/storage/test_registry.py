"""The site registry (tracker/storage/registry.py), `sites.sqlite`.

A new registry holds one site, `default`, number 0, and creating it again changes nothing.
`RegistryFile.sites()` is a view of every site with its domains, reloaded only when another
connection committed (SQLite's `data_version`): a change made anywhere is seen on the next
call, and an unchanged registry costs no reload. On an event loop one check serves the calls
of one turn of the loop (what runs in it was queued before the check): another process's
change is seen from the next turn, this process's own at once. Ids and domains are unique, refused as a
`Conflict` naming them; numbers are never reused. A site being deleted leaves the live
views; forgetting it removes its domains, keys and shares. Keys and shares are found by hash.
"""

from __future__ import annotations

import asyncio

import pytest

from tracker.storage import registry
from tracker.storage.connections import Role, connect, transaction
from tracker.storage.registry import Conflict, RegistryFile

NOW = 1_790_000_000_000


@pytest.fixture
def sites_file(tmp_path):
    file = RegistryFile(tmp_path / "sites.sqlite")
    file.create(NOW)
    yield file
    file.close()


def another_process(file: RegistryFile):
    """A connection of its own, as another worker process would have."""
    return connect(file.path, Role.WRITER)


def test_a_new_registry_holds_the_default_site_as_number_0(sites_file):
    (default,) = sites_file.sites().all
    assert (default.number, default.id, default.name, default.timezone, default.created,
            default.deleting, default.domains) == (0, "default", "default", "UTC", NOW, None, ())


def test_creating_an_existing_registry_again_changes_nothing(sites_file):
    with sites_file.transaction() as conn:
        registry.add_site(conn, "blog", "Blog", [], "UTC", NOW)
    before = sites_file.sites()
    RegistryFile(sites_file.path).create(NOW + 1)
    assert sites_file.sites() == before


def test_a_site_added_by_another_connection_is_seen_on_the_next_look(sites_file):
    assert [s.id for s in sites_file.sites().all] == ["default"]
    other = another_process(sites_file)
    try:
        with transaction(other):
            registry.add_site(other, "blog", "Blog", ["blog.example"], "Europe/Paris", NOW)
    finally:
        other.close()
    blog = sites_file.sites().by_id("blog")
    assert blog is not None
    assert (blog.number, blog.timezone, blog.domains) == (1, "Europe/Paris", ("blog.example",))


def test_an_unchanged_registry_is_not_read_again(sites_file):
    first = sites_file.sites()
    assert sites_file.sites() is first


def test_a_change_made_on_this_threads_own_writer_is_seen_too(sites_file):
    first = sites_file.sites()
    with sites_file.transaction() as conn:
        registry.update_site(conn, 0, "Main", "Asia/Tokyo", ["main.example"])
    default = sites_file.sites().by_number(0)
    assert default is not None and default is not first.by_number(0)
    assert (default.name, default.timezone, default.domains) == ("Main", "Asia/Tokyo", ("main.example",))


def add_elsewhere(file: RegistryFile, site_id: str) -> None:
    other = another_process(file)
    try:
        with transaction(other):
            registry.add_site(other, site_id, site_id, [], "UTC", NOW)
    finally:
        other.close()


def test_on_a_loop_another_process_change_is_seen_from_the_next_turn(sites_file):
    async def looks():
        first = sites_file.sites()
        add_elsewhere(sites_file, "blog")
        same_turn = sites_file.sites()
        await asyncio.sleep(0)  # the loop turns: what runs now was queued after the check
        return first, same_turn, sites_file.sites()

    first, same_turn, next_turn = asyncio.run(looks())
    assert same_turn is first
    assert next_turn.by_id("blog") is not None


def test_on_a_loop_this_process_change_is_seen_in_the_same_turn(sites_file):
    async def looks():
        sites_file.sites()
        with sites_file.transaction() as conn:
            registry.add_site(conn, "blog", "Blog", [], "UTC", NOW)
        return sites_file.sites()

    assert asyncio.run(looks()).by_id("blog") is not None


def test_on_a_loop_a_write_that_fails_still_ends_the_turn_view(sites_file):
    async def looks():
        sites_file.sites()
        add_elsewhere(sites_file, "blog")
        with pytest.raises(registry.Conflict), sites_file.transaction() as conn:
            registry.add_site(conn, "blog", "Blog", [], "UTC", NOW)
        return sites_file.sites()

    assert asyncio.run(looks()).by_id("blog") is not None


def test_a_turn_view_serves_its_own_loop_only(sites_file):
    async def look():
        return sites_file.sites()

    asyncio.run(look())
    add_elsewhere(sites_file, "blog")
    assert asyncio.run(look()).by_id("blog") is not None


def test_a_replaced_registry_is_read_afresh(sites_file, tmp_path):
    sites_file.sites()
    other = RegistryFile(tmp_path / "other.sqlite")
    other.create(NOW)
    with other.transaction() as conn:
        registry.add_site(conn, "restored", "Restored", [], "UTC", NOW)
    other.close()
    (tmp_path / "other.sqlite").replace(sites_file.path)
    assert [s.id for s in sites_file.sites().all] == ["default", "restored"]


def test_a_site_id_is_unique(sites_file):
    with sites_file.transaction() as conn:
        with pytest.raises(Conflict, match="a site with id `default` exists"):
            registry.add_site(conn, "default", "Again", [], "UTC", NOW)


def test_a_domain_belongs_to_one_site(sites_file):
    with sites_file.transaction() as conn:
        registry.set_domains(conn, 0, ["shop.example"])
        with pytest.raises(Conflict, match="the domain `shop.example` belongs to another site"):
            registry.add_site(conn, "blog", "Blog", ["blog.example", "shop.example"], "UTC", NOW)


def test_setting_a_sites_domains_replaces_them(sites_file):
    with sites_file.transaction() as conn:
        registry.set_domains(conn, 0, ["a.example", "b.example"])
        registry.set_domains(conn, 0, ["c.example"])
    assert sites_file.sites().all[0].domains == ("c.example",)


def test_a_site_number_is_never_reused(sites_file):
    with sites_file.transaction() as conn:
        blog = registry.add_site(conn, "blog", "Blog", [], "UTC", NOW)
        registry.forget_site(conn, blog)
        again = registry.add_site(conn, "blog", "Blog", [], "UTC", NOW)
    assert (blog, again) == (1, 2)


def test_a_site_being_deleted_leaves_the_live_views_but_keeps_its_number(sites_file):
    with sites_file.transaction() as conn:
        blog = registry.add_site(conn, "blog", "Blog", ["blog.example"], "UTC", NOW)
        registry.mark_deleting(conn, blog, NOW + 5)
        registry.mark_deleting(conn, blog, NOW + 9)  # the first time asked counts
    sites = sites_file.sites()
    assert [s.id for s in sites.live()] == ["default"]
    assert sites.by_id("blog") is None and sites.by_domain("blog.example") is None
    deleting = sites.by_number(blog)
    assert deleting is not None and deleting.deleting == NOW + 5
    assert sites.only() == sites.by_number(0)


def test_forgetting_a_site_removes_its_domains_keys_and_shares(sites_file):
    with sites_file.transaction() as conn:
        blog = registry.add_site(conn, "blog", "Blog", ["blog.example"], "UTC", NOW)
        registry.add_key(conn, blog, "k1", "hash-k1", NOW)
        registry.add_key(conn, 0, "k0", "hash-k0", NOW)
        registry.add_share(conn, "sh1", blog, "hash-sh1", None, None, NOW)
        registry.add_failure(conn, "sh1", NOW)
        registry.forget_site(conn, blog)
        assert registry.key_site(conn, "hash-k1") is None
        assert registry.key_site(conn, "hash-k0") == (0, "hash-k0")
        assert registry.share_by_hash(conn, "hash-sh1") is None
        assert registry.failures_since(conn, "sh1", 0) == 0
        registry.add_site(conn, "other", "Other", ["blog.example"], "UTC", NOW)  # free again
    assert [s.id for s in sites_file.sites().all] == ["default", "other"]


def test_keys_are_found_by_hash_listed_per_site_and_dropped_one_by_one(sites_file):
    with sites_file.transaction() as conn:
        registry.add_key(conn, 0, "k2", "hash-2", NOW + 1)
        registry.add_key(conn, 0, "k1", "hash-1", NOW)
        assert registry.key_site(conn, "hash-2") == (0, "hash-2")
        assert registry.keys_of(conn, 0) == [("k1", NOW), ("k2", NOW + 1)]
        assert registry.drop_key(conn, 0, "k1")
        assert not registry.drop_key(conn, 0, "k1")
        assert registry.key_site(conn, "hash-1") is None
        assert registry.keys_of(conn, 0) == [("k2", NOW + 1)]


def test_a_key_is_dropped_only_through_its_own_site(sites_file):
    with sites_file.transaction() as conn:
        blog = registry.add_site(conn, "blog", "Blog", [], "UTC", NOW)
        registry.add_key(conn, blog, "k1", "hash-1", NOW)
        assert not registry.drop_key(conn, 0, "k1")
        assert registry.key_site(conn, "hash-1") == (blog, "hash-1")


def test_shares_are_found_by_hash_and_listed_without_their_password(sites_file):
    with sites_file.transaction() as conn:
        registry.add_share(conn, "open", 0, "hash-open", None, None, NOW)
        registry.add_share(conn, "locked", 0, "hash-locked", "scrypt$s$h", NOW + 60_000, NOW + 1)
        locked = registry.share_by_hash(conn, "hash-locked")
        assert locked == registry.Share("locked", 0, "hash-locked", "scrypt$s$h", NOW + 60_000)
        assert registry.shares_of(conn, 0) == [("open", False, None, NOW),
                                               ("locked", True, NOW + 60_000, NOW + 1)]
        assert not registry.drop_share(conn, 1, "open")
        assert registry.drop_share(conn, 0, "open")
        assert registry.share_by_hash(conn, "hash-open") is None


def test_failures_are_counted_since_a_time_and_pruned_before_one(sites_file):
    with sites_file.transaction() as conn:
        for at in (NOW, NOW + 10, NOW + 20):
            registry.add_failure(conn, "sh", at)
        assert registry.failures_since(conn, "sh", NOW + 10) == 2
        registry.prune_failures(conn, NOW + 20)
        assert registry.failures_since(conn, "sh", 0) == 1
