"""Alert rules against stored telemetry on SQLite and PostgreSQL: each injected fault opens its
own alert (and no other), recovery resolves it, duplicates never open, history is kept."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from hashwatt.fleet import DeviceState, PollOutcome, PollResult
from hashwatt.fleet._alerts import (
    EXAMPLE_ALERTS_TOML,
    RULES,
    AlertConfig,
    AlertRule,
    AlertThresholds,
    Finding,
    SampleWindow,
    _Ctx,
    _open,
    acknowledge,
    alert_history,
    evaluate_alerts,
    kept_sample,
    list_alerts,
    load_alert_config,
    resolve,
)
from hashwatt.fleet._discovery import catalog_efficiency_j_per_th
from hashwatt.fleet._models import samples
from hashwatt.fleet._store import FleetStore, stored_sample
from hashwatt.fleet.errors import AlertConfigError
from tests.fleet._readings import T0, ep, failed, identity, ok

MIN = dt.timedelta(minutes=1)
FAST = AlertThresholds(
    offline_after_s=300,
    hashrate_low_for_min=10,
    fan_for_min=2,
    hashboard_for_min=3,
    rejected_window_min=10,
    rejected_min_shares=20,
    efficiency_for_min=5,
    reboot_loop_window_min=20,
    pool_down_for_min=3,
)
CONFIG = AlertConfig(FAST, {}, {})

Reading = Callable[[int], PollResult]


def _healthy(m: int) -> PollResult:
    return ok(0, T0 + m * MIN, uptime_s=86_400 + 60 * m, accepted=1000 + 10 * m, rejected=2)


FAULTS: dict[AlertRule, Reading] = {
    AlertRule.OFFLINE: lambda m: failed(0, T0 + m * MIN, PollOutcome.TIMEOUT),
    AlertRule.HASHRATE_LOW: lambda m: ok(
        0, T0 + m * MIN, hashrate_ths=80.0, power_w=2364.0, uptime_s=86_400 + 60 * m
    ),
    AlertRule.CHIP_TEMP: lambda m: ok(0, T0 + m * MIN, chip_c=97.0, uptime_s=86_400 + 60 * m),
    AlertRule.FAN_FAILURE: lambda m: ok(
        0, T0 + m * MIN, fans=(5400, 0, 5300, 5600), uptime_s=86_400 + 60 * m
    ),
    AlertRule.HASHBOARD_MISSING: lambda m: ok(
        0, T0 + m * MIN, boards=2, hashrate_ths=73.0, expected_ths=73.0, power_w=2167.0
    ),
    AlertRule.REJECTED_RATE: lambda m: ok(
        0, T0 + m * MIN, accepted=1000 + 10 * m, rejected=2 + m, uptime_s=86_400 + 60 * m
    ),
    AlertRule.EFFICIENCY_DRIFT: lambda m: ok(0, T0 + m * MIN, power_w=4000.0, uptime_s=86_400 + 60 * m),
    AlertRule.REBOOT_LOOP: lambda m: ok(0, T0 + m * MIN, uptime_s=60 * (m % 5)),
    AlertRule.POOL_DOWN: lambda m: ok(0, T0 + m * MIN, pool_status="dead", uptime_s=86_400 + 60 * m),
}


def _run(
    store: FleetStore, reading: Reading, minutes: range, *, every_min: int = 1
) -> list[tuple[int, str, AlertRule]]:
    """One poll per minute and an evaluation every ``every_min``; the changes with their minute."""
    seen = []
    for m in minutes:
        store.record("s", [reading(m)])
        if m % every_min:
            continue
        for change in evaluate_alerts(store, "s", now=T0 + m * MIN, config=CONFIG):
            seen.append((m, change.event, change.rule))
    return seen


@pytest.mark.parametrize("rule", list(FAULTS), ids=lambda r: r.value)
def test_each_fault_opens_its_alert_once_and_recovery_resolves_it(store_url: str, rule: AlertRule) -> None:
    with FleetStore.open(store_url) as store:
        store.add_device("s", ep(0), identity=identity())
        assert _run(store, _healthy, range(0, 2), every_min=2) == []  # a healthy machine raises nothing
        during = _run(store, FAULTS[rule], range(2, 20), every_min=2)
        assert [(event, r) for _, event, r in during] == [("opened", rule)]
        after = _run(store, _healthy, range(20, 40), every_min=2)
        assert [(event, r) for _, event, r in after] == [("resolved", rule)]
        (alert,) = list_alerts(store)
        assert alert.state == "resolved" and alert.rule is rule and alert.address == ep(0).address
        assert [e.event for e in alert_history(store, alert.id)] == ["opened", "resolved"]


def test_a_kept_window_sees_what_a_fresh_read_sees(tmp_path: Path, store_url: str) -> None:
    """The agent's incremental window opens and resolves exactly the alerts a full read does,
    with faults coming and going on several devices, an outage, and a sample written late."""
    plan = [AlertRule.OFFLINE, AlertRule.HASHRATE_LOW, AlertRule.REBOOT_LOOP, AlertRule.FAN_FAILURE]

    def reading(i: int, m: int) -> PollResult:
        faulty = 5 + 3 * i <= m < 25 + 2 * i
        r = FAULTS[plan[i]](m) if faulty else _healthy(m)
        return dataclasses.replace(r, endpoint=ep(i))

    window = SampleWindow()
    with FleetStore.open(store_url) as kept, FleetStore.open(f"sqlite:///{tmp_path}/fresh.db") as fresh:
        seen: dict[str, list[tuple[int, str, AlertRule, str]]] = {"kept": [], "fresh": []}
        for m in range(0, 60):
            batch = [reading(i, m) for i in range(len(plan))]
            if m == 30:  # one result stored a minute late, after a newer one
                kept.record("s", batch[:1])
                fresh.record("s", batch[:1])
                late = [dataclasses.replace(batch[1], time_utc=T0 + m * MIN - MIN / 2)]
                batch = [batch[1], *batch[2:]]
                for store in (kept, fresh):
                    store.record("s", batch)
                    store.record("s", late)
            else:
                for store in (kept, fresh):
                    store.record("s", batch)
            now = T0 + m * MIN
            for name, store, win in (("kept", kept, window), ("fresh", fresh, None)):
                for c in evaluate_alerts(store, "s", now=now, config=CONFIG, window=win):
                    seen[name].append((m, c.event, c.rule, c.address))
        assert seen["kept"] == seen["fresh"]
        assert {rule for _, _, rule, _ in seen["kept"]} == set(plan)  # every fault was seen
        assert window.rows_read == 4 * 60 + 1  # each row read once, not once per cycle


@pytest.mark.parametrize("rule", list(FAULTS), ids=lambda r: r.value)
def test_each_rule_reads_the_slim_kept_sample_as_the_full_one(tmp_path: Path, rule: AlertRule) -> None:
    """Every rule gives the same verdict (value, threshold, message) on the kept window's slim
    samples as on the full stored ones, through a fault's onset, hold and recovery. (The store
    round trip is the same on both engines; the kept-window test above runs on each.)"""
    th = FAST.model_copy(update={"fans_expected": 4})
    rated = catalog_efficiency_j_per_th("Antminer S19 Pro")
    with FleetStore.open(f"sqlite:///{tmp_path}/slim.db") as store:
        store.add_device("s", ep(0), identity=identity())
        (device,) = store.devices("s")
        for m in range(0, 30):
            store.record("s", [(FAULTS[rule] if 3 <= m < 20 else _healthy)(m)])
        with store.engine.connect() as c:
            full = [stored_sample(r) for r in c.execute(samples.select().order_by(samples.c.time_ms))]
    slim = [kept_sample(x) for x in full]
    fired = set()
    for m in range(0, 30):
        now = T0 + m * MIN
        f, k = full[: m + 1], slim[: m + 1]
        ctx_full = _Ctx(device, f, [x.telemetry for x in f if x.telemetry], now, th, rated)
        ctx_slim = _Ctx(device, k, [x.telemetry for x in k if x.telemetry], now, th, rated)
        for r, check in RULES.items():
            verdict = check(ctx_full)
            assert check(ctx_slim) == verdict, (m, r)
            if isinstance(verdict, Finding):
                fired.add(r)
    assert rule in fired  # the fault was seen, so the comparison covered a firing verdict


def test_hashrate_alert_waits_for_its_duration(store_url: str) -> None:
    with FleetStore.open(store_url) as store:
        changes = _run(store, FAULTS[AlertRule.HASHRATE_LOW], range(0, 15))
        assert changes == [(10, "opened", AlertRule.HASHRATE_LOW)]  # first low reading at 0, 10 min later


def test_sleeping_machine_is_not_low_on_hashrate(store_url: str) -> None:
    with FleetStore.open(store_url) as store:

        def asleep(m: int) -> PollResult:
            return ok(0, T0 + m * MIN, hashrate_ths=0.0, state=DeviceState.SLEEPING, fans=(0, 0, 0, 0))

        assert _run(store, asleep, range(0, 15)) == []


def test_offline_device_neither_raises_nor_resolves_other_rules(store_url: str) -> None:
    with FleetStore.open(store_url) as store:
        _run(store, FAULTS[AlertRule.CHIP_TEMP], range(0, 3))
        changes = _run(store, FAULTS[AlertRule.OFFLINE], range(3, 15))
        assert changes == [(7, "opened", AlertRule.OFFLINE)]  # last answer at minute 2, 300 s later
        states = {a.rule: a.state for a in list_alerts(store)}
        assert states == {AlertRule.CHIP_TEMP: "open", AlertRule.OFFLINE: "open"}


def test_acknowledge_keeps_it_open_and_dedup_holds(store_url: str) -> None:
    with FleetStore.open(store_url) as store:
        _run(store, FAULTS[AlertRule.CHIP_TEMP], range(0, 2))
        (alert,) = list_alerts(store, states=["open"])
        acked = acknowledge(store, alert.id, actor="alice", note="on it", now=T0 + 3 * MIN)
        assert acked.state == "acknowledged" and acked.acknowledged_by == "alice"
        assert _run(store, FAULTS[AlertRule.CHIP_TEMP], range(2, 6)) == []  # still one alert
        # the unique open key refuses a second open alert even from another writer
        device = store.devices("s")[0]
        assert _open(store.engine, device, AlertRule.CHIP_TEMP, Finding(99.0, 90.0, "x"), 0) is None
        assert len(list_alerts(store)) == 1
        assert resolve(store, alert.id, actor="alice", now=T0 + 7 * MIN)
        # still hot: a fresh alert opens on the next evaluation, the old one keeps its history
        assert _run(store, FAULTS[AlertRule.CHIP_TEMP], range(7, 8)) == [(7, "opened", AlertRule.CHIP_TEMP)]
        assert [e.event for e in alert_history(store, alert.id)] == ["opened", "acknowledged", "resolved"]
        assert [e.actor for e in alert_history(store, alert.id)] == [None, "alice", "alice"]


def test_example_rules_file_loads_with_precedence() -> None:
    config = load_alert_config(EXAMPLE_ALERTS_TOML)
    assert config.thresholds("dallas-1", "Antminer S19 Pro").chip_temp_max_c == 95
    assert config.thresholds("dallas-1", "Antminer S19 Pro").hashrate_low_pct == 8
    assert config.thresholds("elsewhere", None).chip_temp_max_c == 90
    assert [w.name for w in config.webhooks] == ["ops"]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[defaults\nchip_temp_max_c = 1", "not valid TOML"),
        ("[defaults]\nchip_temp_max = 90\n", "chip_temp_max"),
        ("[defaults]\nchip_temp_max_c = -5\n", "chip_temp_max_c"),
        ('[site."a"]\nhashrate_low_pct = 150\n', "hashrate_low_pct"),
        ('[[webhook]]\nname = "x"\nurl = "ftp://x"\nsecret_env = "S"\n', "url"),
    ],
)
def test_bad_rules_file_is_one_line(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "alerts.toml"
    path.write_text(text)
    with pytest.raises(AlertConfigError) as info:
        load_alert_config(path)
    assert needle in str(info.value) and "\n" not in str(info.value)
