"""Pool changes on LuxOS (groups, addpool/switchpool/removepool) and Whatsminer 3.x
(``set.miner.pools``, encrypted) against the twins on loopback: read-modify-write that keeps
every other setting, confirmed by reading the device back."""

from __future__ import annotations

import asyncio

from hashwatt.fleet._control import Action, ActionRequest, ActionStatus, AuditRecord, Controller
from hashwatt.fleet._discovery import identify_at
from hashwatt.twin import PoolConf
from tests.fleet._twins import twin_site

A, B, C = (f"stratum+tcp://pool-{x}.example:3333" for x in "abc")
NEW, NEW2 = "stratum+tcp://new.example:3334", "stratum+tcp://new2.example:3335"


def _controller(audit: list[AuditRecord]) -> Controller:
    return Controller(
        audit_sink=audit.append, retries=1, confirm_timeout_s=3, confirm_interval_s=0.1, action_timeout_s=5
    )


def _pools(*pools: tuple[str, str]) -> ActionRequest:
    from hashwatt.fleet._devices import PoolConfig

    return ActionRequest(Action.POOLS, pools=tuple(PoolConfig(u, w, "pw-new") for u, w in pools))


def test_luxos_pool_change_keeps_the_other_pools_and_groups() -> None:
    audit: list[AuditRecord] = []

    async def main() -> None:
        async with twin_site((("Antminer S19j Pro", "luxos"),)) as site:
            twin = site.twins[0]
            twin.lux_groups = [("Default", 1.0), ("Backup", 2.0)]
            twin.pools = [
                PoolConf(A, "a.1", "pa", 0),
                PoolConf(B, "b.1", "pb", 0),
                PoolConf(C, "c.1", "pc", 1),
            ]
            device = await identify_at(site.endpoint(twin.host), timeout_s=2)
            ctl = _controller(audit)

            out = await ctl.act(device, _pools((NEW, "n.1")), actor="ops")
            assert out.status is ActionStatus.CONFIRMED, out
            got = [(p.url, p.user, p.password, p.group) for p in twin.pools]
            # the new pool tops the active group and replaces A there; B and the Backup group
            # keep their settings, passwords included
            assert got == [(NEW, "n.1", "pw-new", 0), (B, "b.1", "pb", 0), (C, "c.1", "pc", 1)]
            assert twin.lux_groups == [("Default", 1.0), ("Backup", 2.0)]

            # a named group: only that group changes; a new group is created
            req = _pools((NEW2, "n.2"))
            backup = ActionRequest(Action.POOLS, pools=req.pools, pool_group="Backup")
            out = await ctl.act(device, backup, actor="ops")
            assert out.ok, out
            by_group = {g: [(p.url, p.user) for p in twin.pools if p.group == g] for g in (0, 1)}
            assert by_group == {0: [(NEW, "n.1"), (B, "b.1")], 1: [(NEW2, "n.2")]}

            fresh = ActionRequest(Action.POOLS, pools=req.pools, pool_group="Spare")
            out = await ctl.act(device, fresh, actor="ops")
            assert out.ok, out
            assert [n for n, _ in twin.lux_groups] == ["Default", "Backup", "Spare"]
            assert [(p.url, p.group) for p in twin.pools if p.group == 2] == [(NEW2, 2)]
            assert (await device.group_pools("Default")) == [(NEW, "n.1"), (B, "b.1")]

    asyncio.run(main())
    assert [r.outcome for r in audit] == ["ok", "ok", "ok"]
    assert "group=Backup" in audit[1].params and "pw-new" not in repr(audit)


def test_whatsminer_v3_pool_change_is_encrypted_and_keeps_the_other_slots() -> None:
    audit: list[AuditRecord] = []

    async def main() -> None:
        async with twin_site((("Whatsminer M60S", "whatsminer-v3"),)) as site:
            twin = site.twins[0]
            twin.pools = [PoolConf(A, "a.1", "pa"), PoolConf(B, "b.1", "pb"), PoolConf(C, "c.1", "pc")]
            device = await identify_at(site.endpoint(twin.host), timeout_s=2)
            out = await _controller(audit).act(device, _pools((NEW, "n.1")), actor="ops")
            assert out.status is ActionStatus.CONFIRMED, out
            # slots 2 and 3 keep their pools; the firmware never shows their passwords, so "x"
            assert [(p.url, p.user, p.password) for p in twin.pools] == [
                (NEW, "n.1", "pw-new"),
                (B, "b.1", "x"),
                (C, "c.1", "x"),
            ]
            groups = ActionRequest(Action.POOLS, pools=_pools((NEW, "n.1")).pools, pool_group="Backup")
            out = await _controller(audit).act(device, groups, actor="ops")
            assert out.status is ActionStatus.UNSUPPORTED and "LuxOS" in out.detail

    asyncio.run(main())
