"""Released migrations are fixed text: editing one would change history for new shard files."""

from __future__ import annotations

import hashlib

from tracker.storage import migrations

# SHA-256 of each released migration file. A new migration adds a line here;
# an existing line never changes.
RELEASED = {
    1: "8c922a22ec93335ebf01ec59ec399e04740de91184bbc5eb67ade23c10a82cad",
    2: "ef08e7e64bc26b538e5a35ec1a50513f899f20c0548bb39d0cedee4f407f3022",
    3: "2a5d2dba09eaf5a5257cce72c1429877486296a359bcf923801fcafa058c8b54",
    4: "2900c6906b68c80903fe4b0b3f9edd0517dccb4c02f92a06595740aefa3787e3",
    5: "c0e0c04f2c67331147b2ba1b8c43f6aed63e123bf2a300e2d299e348ce0ffede",
    6: "d2941463d66d541e5dc0b813f3eb0eeb76256520e9d7d1e1fc55b6dff32ec877",
    7: "3b00bc126706de732d2d77c59bc46240b2086d36a6fc8df76743deacca202bc8",
    8: "f998bf4591fc6f73f1157cd0e35c15224089d3a668ff25402248aad8137db36e",
    9: "a31d1376126c7f698ac9fb6363b430f8fca138d869295cc0eef7d17db63a14c3",
    10: "6b1d3ead8c930155f5c6685192f8a329b628346a6dcff19e587853308f62c4c6",
    11: "775efeac010eb02bf9cbd09cc9ed8e3d2f9187df3e1db945cf0ca68ae6e6ecb9",
    12: "eb50579bb5dd85e47c9e1f4a56bfc7ccce5707a6672ef5f7c2de3543810219c5",
    13: "3ae0e712acfc7fec08777596ed6101ffb75fdac210404c362656a3116e912a10",
}


def test_released_migrations_are_unchanged():
    found = {m.version: hashlib.sha256(m.sql.encode()).hexdigest() for m in migrations.MIGRATIONS}
    assert {v: found.get(v) for v in RELEASED} == RELEASED


def test_every_migration_is_recorded_here_and_versions_run_one_to_latest():
    versions = [m.version for m in migrations.MIGRATIONS]
    assert versions == list(range(1, versions[-1] + 1))
    assert set(versions) == set(RELEASED)
