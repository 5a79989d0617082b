"""The fleet store on SQLite and PostgreSQL: migrations, recording, last-good values, power sums."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import inspect, select

from hashwatt.fleet import PollOutcome
from hashwatt.fleet._db import current_revision, head_revision
from hashwatt.fleet._models import metadata, samples
from hashwatt.fleet._store import FleetStore
from hashwatt.fleet.errors import StoreError
from tests.fleet._readings import LIST_KEYS, T0, ep, failed, identity, ok


def test_migrations_create_every_table_and_reopen_is_a_no_op(store_url: str) -> None:
    with FleetStore.open(store_url) as store:
        names = set(inspect(store.engine).get_table_names())
        assert set(metadata.tables) <= names
        assert current_revision(store.engine) == head_revision()
    with FleetStore.open(store_url) as store:  # second open: already at head, data intact
        assert current_revision(store.engine) == head_revision()


def test_failed_poll_is_stored_as_such_never_as_zeros(store_url: str) -> None:
    with FleetStore.open(store_url) as store:
        store.record("s1", [ok(0, T0), failed(1, T0, PollOutcome.TIMEOUT)])
        store.record("s1", [failed(0, T0 + dt.timedelta(minutes=1), PollOutcome.BAD_REPLY)])
        with store.engine.connect() as c:
            rows = c.execute(select(samples).order_by(samples.c.id)).all()
        assert [r.outcome for r in rows] == ["ok", "timeout", "bad_reply"]
        for r in rows[1:]:
            assert r.hashrate_ths is None and r.power_w is None and r.accepted is None
            assert r.state == "unreachable"
        assert rows[0].hashrate_ths == pytest.approx(110.0)
        dev = store.find_device(ep(0).address)
        assert dev is not None
        got = store.samples(dev.id)
        assert [s.outcome for s in got] == [PollOutcome.OK, PollOutcome.BAD_REPLY]
        assert got[0].telemetry is not None and got[1].telemetry is None
        assert got[0].telemetry.boards[2].chips == 114
        assert got[0].telemetry.pools[0].status == "alive"


def test_last_good_value_comes_with_its_age(store_url: str) -> None:
    with FleetStore.open(store_url) as store:
        store.record("s1", [ok(0, T0, hashrate_ths=101.5)])
        store.record("s1", [failed(0, T0 + dt.timedelta(minutes=1))])
        store.record("s1", [failed(0, T0 + dt.timedelta(minutes=2))])
        view = store.view(ep(0).address)
        assert view is not None
        assert view.device.state == "unreachable" and view.device.last_outcome == "unreachable"
        assert view.telemetry is not None and view.telemetry.hashrate_ths == pytest.approx(101.5)
        views = store.views(now=T0 + dt.timedelta(minutes=5))
        assert views[0].age_s == pytest.approx(300.0)
        row = views[0].as_dict()
        assert set(row) >= LIST_KEYS
        assert row["last_seen_utc"] == T0.isoformat()
        assert row["last_poll_utc"] == (T0 + dt.timedelta(minutes=2)).isoformat()


def test_device_never_read_has_no_values(store_url: str) -> None:
    with FleetStore.open(store_url) as store:
        store.record("s1", [failed(3, T0)])
        (view,) = store.views()
        assert view.telemetry is None and view.age_s is None
        assert view.as_dict()["hashrate_ths"] is None and view.as_dict()["last_seen_utc"] is None


def test_measured_and_estimated_power_are_summed_apart(store_url: str) -> None:
    with FleetStore.open(store_url) as store:
        store.record(
            "s1",
            [
                ok(0, T0, power_w=3000.0),
                ok(1, T0, power_w=3100.0),
                ok(2, T0, power_w=3300.0, estimated=True),
                ok(3, T0, power_w=None),
                failed(4, T0),
            ],
        )
        store.record("s2", [ok(5, T0, power_w=999.0)])
        summary = store.power_summary("s1")
        assert summary.measured_w == pytest.approx(6100.0) and summary.n_measured == 2
        assert summary.estimated_w == pytest.approx(3300.0) and summary.n_estimated == 1
        assert summary.n_unknown == 2
        # a device that goes offline no longer counts its last good power as current
        store.record("s1", [failed(0, T0 + dt.timedelta(minutes=1))])
        assert store.power_summary("s1").measured_w == pytest.approx(3100.0)


def test_inventory_add_and_swap_detection(store_url: str) -> None:
    with FleetStore.open(store_url) as store:
        store.add_device(
            "s1", ep(0), identity=identity("SN-A"), rack="R1", position="U3", credentials_ref="site-default"
        )
        result = ok(0, T0)
        from dataclasses import replace

        same = store.record("s1", [replace(result, identity=identity("SN-A"))])
        assert same.reidentified == () and same.new_devices == ()
        swap = store.record("s1", [replace(result, identity=identity("SN-B"))])
        assert swap.reidentified == (ep(0).address,)
        dev = store.find_device(ep(0).address)
        assert (
            dev is not None
            and dev.serial == "SN-B"
            and dev.rack == "R1"
            and dev.credentials_ref == "site-default"
        )
        assert len(store.devices("s1")) == 1
        new = store.record("s1", [ok(7, T0)])
        assert new.new_devices == (ep(7).address,)


def test_same_address_on_two_sites_are_two_devices(store_url: str) -> None:
    with FleetStore.open(store_url) as store:
        store.record("a", [ok(0, T0)])
        store.record("b", [ok(0, T0)])
        assert [d.site for d in store.devices()] == ["a", "b"]
        assert store.site_names() == ["a", "b"]


def test_unreachable_database_is_one_line_without_password(tmp_path: object) -> None:
    url = "postgresql+psycopg://admin:s3cretpw@127.0.0.1:1/fleet"
    with pytest.raises(StoreError) as info:
        FleetStore.open(url)
    message = str(info.value)
    assert "s3cretpw" not in message and "\n" not in message
    assert "127.0.0.1:1" in message


def test_shipped_migrations_match_the_models(store_url: str) -> None:
    """The migrations build exactly the tables the code declares: no drift either way."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with FleetStore.open(store_url) as store, store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == []


def test_upgrade_keeps_data_written_at_the_previous_revision(store_url: str) -> None:
    from hashwatt.fleet._db import connect, upgrade

    engine = connect(store_url)
    try:
        upgrade(engine, "0001")
        FleetStore(engine).record("s1", [ok(0, T0)])
        upgrade(engine, "head")
        assert current_revision(engine) == head_revision()
        (view,) = FleetStore(engine).views()
        assert view.telemetry is not None and view.telemetry.hashrate_ths == pytest.approx(110.0)
    finally:
        engine.dispose()


def test_stored_board_and_pool_lists_follow_the_reading_field_order() -> None:
    """Boards and pools are stored as lists and rebuilt positionally: the orders must agree."""
    from dataclasses import fields

    from hashwatt.fleet import BoardReading, PoolReading
    from hashwatt.fleet._store import _BOARD_FIELDS, _POOL_FIELDS

    assert tuple(f.name for f in fields(BoardReading)) == _BOARD_FIELDS
    assert tuple(f.name for f in fields(PoolReading)) == _POOL_FIELDS
