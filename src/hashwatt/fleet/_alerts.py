"""Alert rules over the stored telemetry: evaluated each cycle, deduplicated, with history.

Each rule looks at one device's recent samples and answers *firing* (with the value and the
threshold), *clear*, or *unknown* (no data to decide: an offline miner neither raises nor
resolves a hashrate alert). An alert opens when a rule fires, resolves when it clears, and a
unique ``open_key`` keeps one open alert per device and rule even with several writers.
Thresholds come per site and per model from a TOML file (``examples/alerts.toml``).
"""

from __future__ import annotations

import array
import bisect
import datetime as dt
import enum
import itertools
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from hashwatt._toml import read_toml
from hashwatt.fleet._discovery import catalog_efficiency_j_per_th
from hashwatt.fleet._models import alert_events, alerts, devices, samples, sites
from hashwatt.fleet._store import DeviceRecord, FleetStore, StoredSample, from_ms, stored_sample, to_ms
from hashwatt.fleet._types import DeviceState, PollOutcome
from hashwatt.fleet.errors import AlertConfigError, StoreError

__all__ = [
    "Alert",
    "AlertChange",
    "AlertConfig",
    "AlertEvent",
    "AlertRule",
    "AlertThresholds",
    "KeptMiss",
    "KeptReading",
    "SampleWindow",
    "WebhookConfig",
    "acknowledge",
    "alert_history",
    "clear_alert",
    "evaluate_alerts",
    "kept_sample",
    "list_alerts",
    "load_alert_config",
    "raise_alert",
    "resolve",
]

EXAMPLE_ALERTS_TOML = Path(__file__).parent / "examples" / "alerts.toml"


class AlertRule(enum.StrEnum):
    OFFLINE = "offline"
    HASHRATE_LOW = "hashrate_low"
    CHIP_TEMP = "chip_temp"
    FAN_FAILURE = "fan_failure"
    HASHBOARD_MISSING = "hashboard_missing"
    REJECTED_RATE = "rejected_rate"
    EFFICIENCY_DRIFT = "efficiency_drift"
    REBOOT_LOOP = "reboot_loop"
    POOL_DOWN = "pool_down"
    CURTAIL_DISOBEYED = "curtail_disobeyed"  # raised by curtailment, not by a telemetry rule


SEVERITY = {
    AlertRule.OFFLINE: "critical",
    AlertRule.HASHRATE_LOW: "warning",
    AlertRule.CHIP_TEMP: "critical",
    AlertRule.FAN_FAILURE: "critical",
    AlertRule.HASHBOARD_MISSING: "warning",
    AlertRule.REJECTED_RATE: "warning",
    AlertRule.EFFICIENCY_DRIFT: "info",
    AlertRule.REBOOT_LOOP: "critical",
    AlertRule.POOL_DOWN: "critical",
    AlertRule.CURTAIL_DISOBEYED: "critical",
}


class AlertThresholds(BaseModel):
    """Every threshold with a sane default; a site or model table overrides any of them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    offline_after_s: float = Field(180.0, ge=0)
    hashrate_low_pct: float = Field(10.0, gt=0, lt=100)
    hashrate_low_for_min: float = Field(15.0, ge=0)
    chip_temp_max_c: float = Field(90.0, gt=0, lt=200)
    chip_temp_for_min: float = Field(0.0, ge=0)
    fan_min_rpm: int = Field(500, ge=0)
    fans_expected: int | None = Field(None, ge=0)
    fan_for_min: float = Field(2.0, ge=0)
    boards_expected: int = Field(3, ge=1)
    hashboard_for_min: float = Field(5.0, ge=0)
    rejected_rate_pct: float = Field(2.0, gt=0, le=100)
    rejected_window_min: float = Field(30.0, gt=0)
    rejected_min_shares: int = Field(50, ge=1)
    efficiency_drift_pct: float = Field(15.0, gt=0)
    efficiency_for_min: float = Field(30.0, ge=0)
    rated_efficiency_j_per_th: float | None = Field(None, gt=0)
    reboot_loop_count: int = Field(3, ge=2)
    reboot_loop_window_min: float = Field(60.0, gt=0)
    pool_down_for_min: float = Field(5.0, ge=0)

    def window_s(self) -> float:
        """How far back any rule looks [s]."""
        mins = (
            self.hashrate_low_for_min,
            self.chip_temp_for_min,
            self.fan_for_min,
            self.hashboard_for_min,
            self.rejected_window_min,
            self.efficiency_for_min,
            self.reboot_loop_window_min,
            self.pool_down_for_min,
        )
        return max(max(mins) * 60.0, self.offline_after_s) + 120.0


class WebhookConfig(BaseModel):
    """A webhook receiver; the signing secret is read from an environment variable, so the
    rules file can be committed without it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64)
    url: str = Field(pattern=r"^https?://")
    secret_env: str = Field(min_length=1)
    events: tuple[str, ...] = ("opened", "resolved")


class _AlertFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    defaults: dict[str, Any] = {}
    site: dict[str, dict[str, Any]] = {}
    model: dict[str, dict[str, Any]] = {}
    webhook: list[WebhookConfig] = []


@dataclass(frozen=True, slots=True)
class AlertConfig:
    """Thresholds by precedence site > model > defaults, and the webhook receivers."""

    defaults: AlertThresholds
    by_site: Mapping[str, Mapping[str, Any]]
    by_model: Mapping[str, Mapping[str, Any]]
    webhooks: tuple[WebhookConfig, ...] = ()

    @classmethod
    def default(cls) -> AlertConfig:
        return cls(AlertThresholds(), {}, {})

    def thresholds(self, site: str, model: str | None) -> AlertThresholds:
        values = self.defaults.model_dump()
        if model is not None:
            values.update(self.by_model.get(model, {}))
        values.update(self.by_site.get(site, {}))
        return AlertThresholds(**values)


def _one_line(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    return f"{where}: {first['msg']}"


def load_alert_config(path: str | Path) -> AlertConfig:
    """Parse and validate an alert-rules TOML file; any mistake is one :class:`AlertConfigError`."""
    doc = read_toml(path, what="alert rules file", error=AlertConfigError)
    try:
        parsed = _AlertFile(**doc)
        defaults = AlertThresholds(**parsed.defaults)
        for table, entries in (("site", parsed.site), ("model", parsed.model)):
            for name, values in entries.items():
                try:
                    AlertThresholds(**{**defaults.model_dump(), **values})
                except ValidationError as exc:
                    raise AlertConfigError(
                        f"{path}: {table} {name!r}: {_one_line(exc)}",
                        field=f"{table}.{name}",
                        value=values,
                        path=str(path),
                    ) from None
    except ValidationError as exc:
        raise AlertConfigError(
            f"{path}: {_one_line(exc)}", field="file", value=None, path=str(path)
        ) from None
    names = [w.name for w in parsed.webhook]
    if len(set(names)) != len(names):
        raise AlertConfigError(
            f"{path}: webhook names must be unique", field="webhook.name", value=names, path=str(path)
        )
    return AlertConfig(defaults, parsed.site, parsed.model, tuple(parsed.webhook))


# -- rules ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    value: float | None
    threshold: float | None
    message: str


class _Verdict(enum.Enum):
    CLEAR = "clear"
    UNKNOWN = "unknown"


CLEAR = _Verdict.CLEAR
UNKNOWN = _Verdict.UNKNOWN
Verdict = Finding | _Verdict


class Reading(Protocol):
    """What the rules read of one good poll: a full :class:`Telemetry` or a :class:`KeptReading`."""

    @property
    def time_utc(self) -> dt.datetime: ...
    @property
    def state(self) -> DeviceState: ...
    @property
    def hashrate_ths(self) -> float | None: ...
    @property
    def expected_hashrate_ths(self) -> float | None: ...
    @property
    def power_w(self) -> float | None: ...
    @property
    def power_estimated(self) -> bool: ...
    @property
    def temp_chip_max_c(self) -> float | None: ...
    @property
    def fans_min_rpm(self) -> int: ...
    @property
    def fans_count(self) -> int: ...
    @property
    def boards_hashing(self) -> int: ...
    @property
    def pools_alive(self) -> int: ...
    @property
    def accepted(self) -> int | None: ...
    @property
    def rejected(self) -> int | None: ...
    @property
    def uptime_s(self) -> int | None: ...


class Sample(Protocol):
    """What the rules read of one poll: a :class:`StoredSample` or a kept one."""

    @property
    def time_utc(self) -> dt.datetime: ...
    @property
    def outcome(self) -> PollOutcome: ...
    @property
    def telemetry(self) -> Reading | None: ...


@dataclass(frozen=True, slots=True)
class KeptReading:
    """A good poll as the kept window holds it: only the fields the rules read, with boards,
    pools and fans reduced to the counts they use (~3.8x less memory than a full sample)."""

    time_utc: dt.datetime
    state: DeviceState
    hashrate_ths: float | None
    expected_hashrate_ths: float | None
    power_w: float | None
    power_estimated: bool
    temp_chip_max_c: float | None
    fans_min_rpm: int
    fans_count: int
    boards_hashing: int
    pools_alive: int
    accepted: int | None
    rejected: int | None
    uptime_s: int | None

    @property
    def outcome(self) -> PollOutcome:
        return PollOutcome.OK

    @property
    def telemetry(self) -> KeptReading:
        return self


@dataclass(frozen=True, slots=True)
class KeptMiss:
    """A failed poll as the kept window holds it."""

    time_utc: dt.datetime
    outcome: PollOutcome

    @property
    def telemetry(self) -> None:
        return None


def kept_sample(sample: StoredSample) -> KeptReading | KeptMiss:
    """The slim form of a stored sample; the rules give the same verdicts on either."""
    t = sample.telemetry
    if t is None:
        return KeptMiss(sample.time_utc, sample.outcome)
    return KeptReading(
        time_utc=t.time_utc,
        state=t.state,
        hashrate_ths=t.hashrate_ths,
        expected_hashrate_ths=t.expected_hashrate_ths,
        power_w=t.power_w,
        power_estimated=t.power_estimated,
        temp_chip_max_c=t.temp_chip_max_c,
        fans_min_rpm=t.fans_min_rpm,
        fans_count=t.fans_count,
        boards_hashing=t.boards_hashing,
        pools_alive=t.pools_alive,
        accepted=t.accepted,
        rejected=t.rejected,
        uptime_s=t.uptime_s,
    )


@dataclass(frozen=True, slots=True)
class _Ctx:
    device: DeviceRecord
    samples: Sequence[Sample]  # oldest first, within the rules' window
    oks: Sequence[Reading]
    now: dt.datetime
    th: AlertThresholds
    rated_efficiency_j_per_th: float | None


def _held(
    ctx: _Ctx, pred: Callable[[Reading], float | None], for_min: float, describe: Callable[[float], Finding]
) -> Verdict:
    """Fires when ``pred`` (a value when bad, None when fine) held at every good reading for
    ``for_min`` minutes up to the latest one."""
    if not ctx.oks:
        return UNKNOWN
    latest = pred(ctx.oks[-1])
    if latest is None:
        return CLEAR
    since = ctx.oks[-1].time_utc
    for t in reversed(ctx.oks):
        if pred(t) is None:
            break
        since = t.time_utc
    if (ctx.now - since).total_seconds() + 1e-6 >= for_min * 60.0:
        return describe(latest)
    return UNKNOWN  # bad, but not yet for long enough: neither open nor resolve


def _offline(ctx: _Ctx) -> Verdict:
    if not ctx.samples:
        return UNKNOWN
    last = ctx.samples[-1]
    if last.outcome is PollOutcome.OK:
        return CLEAR
    # down since it last answered; a device never read counts from its first failed poll
    since = ctx.device.last_seen_utc or ctx.samples[0].time_utc
    down_s = (ctx.now - since).total_seconds()
    if down_s >= ctx.th.offline_after_s:
        return Finding(down_s, ctx.th.offline_after_s, f"no answer for {down_s:.0f} s ({last.outcome})")
    return UNKNOWN


def _hashing(t: Reading) -> bool:
    return t.state is DeviceState.MINING


def _hashrate_low(ctx: _Ctx) -> Verdict:
    th = ctx.th

    def pred(t: Reading) -> float | None:
        if not _hashing(t) or t.hashrate_ths is None or not t.expected_hashrate_ths:
            return None
        short_pct = 100.0 * (1.0 - t.hashrate_ths / t.expected_hashrate_ths)
        return short_pct if short_pct > th.hashrate_low_pct else None

    return _held(
        ctx,
        pred,
        th.hashrate_low_for_min,
        lambda v: Finding(
            v, th.hashrate_low_pct, f"hashrate {v:.1f} % below expected for {th.hashrate_low_for_min:g} min"
        ),
    )


def _chip_temp(ctx: _Ctx) -> Verdict:
    th = ctx.th

    def pred(t: Reading) -> float | None:
        c = t.temp_chip_max_c
        return c if c is not None and c > th.chip_temp_max_c else None

    return _held(
        ctx,
        pred,
        th.chip_temp_for_min,
        lambda v: Finding(v, th.chip_temp_max_c, f"chip temperature {v:.0f} °C"),
    )


def _fan_failure(ctx: _Ctx) -> Verdict:
    th = ctx.th

    def pred(t: Reading) -> float | None:
        if t.state is DeviceState.SLEEPING:
            return None
        slowest = t.fans_min_rpm
        missing = th.fans_expected is not None and t.fans_count < th.fans_expected
        return float(slowest) if slowest < th.fan_min_rpm or missing else None

    return _held(
        ctx,
        pred,
        th.fan_for_min,
        lambda v: Finding(v, float(th.fan_min_rpm), f"fan at {v:.0f} rpm or missing"),
    )


def _hashboard_missing(ctx: _Ctx) -> Verdict:
    th = ctx.th

    def pred(t: Reading) -> float | None:
        if not _hashing(t):
            return None
        working = t.boards_hashing
        return float(working) if working < th.boards_expected else None

    return _held(
        ctx,
        pred,
        th.hashboard_for_min,
        lambda v: Finding(
            v, float(th.boards_expected), f"{v:.0f} of {th.boards_expected} hashboards hashing"
        ),
    )


def _rejected_rate(ctx: _Ctx) -> Verdict:
    th = ctx.th
    start = ctx.now - dt.timedelta(minutes=th.rejected_window_min)
    window = [t for t in ctx.oks if t.time_utc >= start and t.accepted is not None and t.rejected is not None]
    # counters restart with the firmware: only the stretch after the last reset counts
    for i in range(len(window) - 1, 0, -1):
        a, b = window[i - 1], window[i]
        if (b.accepted or 0) < (a.accepted or 0) or (b.rejected or 0) < (a.rejected or 0):
            window = window[i:]
            break
    if len(window) < 2:
        return UNKNOWN
    acc = (window[-1].accepted or 0) - (window[0].accepted or 0)
    rej = (window[-1].rejected or 0) - (window[0].rejected or 0)
    if acc + rej < th.rejected_min_shares:
        return UNKNOWN
    pct = 100.0 * rej / (acc + rej)
    if pct > th.rejected_rate_pct:
        return Finding(
            pct, th.rejected_rate_pct, f"{pct:.1f} % of shares rejected over {th.rejected_window_min:g} min"
        )
    return CLEAR


def _efficiency_drift(ctx: _Ctx) -> Verdict:
    th = ctx.th
    rated = th.rated_efficiency_j_per_th or ctx.rated_efficiency_j_per_th
    if rated is None:
        return UNKNOWN
    limit = rated * (1.0 + th.efficiency_drift_pct / 100.0)

    def pred(t: Reading) -> float | None:
        # estimated power comes from the rating itself: only a measured power can drift
        if not _hashing(t) or t.power_w is None or t.power_estimated or not t.hashrate_ths:
            return None
        j_per_th = t.power_w / t.hashrate_ths
        return j_per_th if j_per_th > limit else None

    return _held(
        ctx,
        pred,
        th.efficiency_for_min,
        lambda v: Finding(v, limit, f"efficiency {v:.1f} J/TH, rated {rated:.1f} J/TH"),
    )


def _reboot_loop(ctx: _Ctx) -> Verdict:
    th = ctx.th
    start = ctx.now - dt.timedelta(minutes=th.reboot_loop_window_min)
    window = [t for t in ctx.oks if t.time_utc >= start]
    if not window:
        return UNKNOWN
    reboots = 0
    for a, b in itertools.pairwise(window):
        restarted = a.uptime_s is not None and b.uptime_s is not None and b.uptime_s < a.uptime_s
        entered = b.state is DeviceState.REBOOTING and a.state is not DeviceState.REBOOTING
        reboots += restarted or entered
    if reboots >= th.reboot_loop_count:
        return Finding(
            float(reboots),
            float(th.reboot_loop_count),
            f"{reboots} reboots in {th.reboot_loop_window_min:g} min",
        )
    return CLEAR


def _pool_down(ctx: _Ctx) -> Verdict:
    th = ctx.th

    def pred(t: Reading) -> float | None:
        if t.state in (DeviceState.SLEEPING, DeviceState.REBOOTING):
            return None
        return 0.0 if t.pools_alive == 0 else None

    return _held(ctx, pred, th.pool_down_for_min, lambda v: Finding(v, 1.0, "no pool alive"))


RULES: dict[AlertRule, Callable[[_Ctx], Verdict]] = {
    AlertRule.OFFLINE: _offline,
    AlertRule.HASHRATE_LOW: _hashrate_low,
    AlertRule.CHIP_TEMP: _chip_temp,
    AlertRule.FAN_FAILURE: _fan_failure,
    AlertRule.HASHBOARD_MISSING: _hashboard_missing,
    AlertRule.REJECTED_RATE: _rejected_rate,
    AlertRule.EFFICIENCY_DRIFT: _efficiency_drift,
    AlertRule.REBOOT_LOOP: _reboot_loop,
    AlertRule.POOL_DOWN: _pool_down,
}


# -- persistence ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    device_id: int
    address: str
    site: str
    rule: AlertRule
    severity: str
    state: str  # open, acknowledged, resolved
    message: str
    value: float | None
    threshold: float | None
    opened_utc: dt.datetime
    acknowledged_utc: dt.datetime | None
    acknowledged_by: str | None
    resolved_utc: dt.datetime | None


@dataclass(frozen=True, slots=True)
class AlertEvent:
    alert_id: int
    time_utc: dt.datetime
    event: str  # opened, acknowledged, resolved
    actor: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class AlertChange:
    """An alert that opened or resolved in one evaluation: what webhooks and pages announce."""

    alert_id: int
    event: str
    rule: AlertRule
    severity: str
    address: str
    site: str
    message: str
    time_utc: dt.datetime

    def payload(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id,
            "event": self.event,
            "rule": self.rule.value,
            "severity": self.severity,
            "address": self.address,
            "site": self.site,
            "message": self.message,
            "time_utc": self.time_utc.isoformat(),
        }


class SampleWindow:
    """The samples the rules look at, kept between cycles so that a cycle reads only new rows.

    Reading the whole rule window every cycle (up to an hour of samples per device) costs the
    rows of ~60 cycles; a long-running agent holds one window and reads rows with a higher id
    than the last it saw, then drops what fell out of the window. It assumes what the agent
    guarantees: one writer of the site's samples, whose ids grow in commit order, and raw
    rows deleted only by retention, long after they leave the window. The rules see exactly
    what a fresh read would give them (``tests/fleet/test_alerts.py`` compares the two). It
    holds each sample as a :class:`KeptReading` or :class:`KeptMiss`, about a quarter of the
    memory of a full stored sample: an hour of 10,000 devices is held for the whole run.
    """

    def __init__(self) -> None:
        self._site_id: int | None = None
        self._last_id = 0
        self._since_ms: int | None = None  # nothing older than this is kept
        self._by_device: dict[int, list[KeptReading | KeptMiss]] = {}
        # per device, sample times [unix ms], sorted; machine ints, not int objects
        self._times: dict[int, array.array[int]] = {}
        self.rows_read = 0  # rows read from the database, in all (what the window saves)

    def reset(self) -> None:
        self._site_id, self._last_id, self._since_ms = None, 0, None
        self._by_device.clear()
        self._times.clear()

    def samples(
        self, c: Connection, site_id: int, *, since_ms: int, until_ms: int
    ) -> dict[int, list[KeptReading | KeptMiss]]:
        """Per device, its samples with ``since_ms <= time_ms <= until_ms`` in time order."""
        if self._site_id != site_id or self._since_ms is None or since_ms < self._since_ms:
            self.reset()  # another site, or a longer window than what was kept: read afresh
            self._site_id = site_id
        stmt = (
            select(samples)
            .join(devices, devices.c.id == samples.c.device_id)
            .where(devices.c.site_id == site_id, samples.c.id > self._last_id)
        )
        if self._since_ms is None:
            stmt = stmt.where(samples.c.time_ms >= since_ms)
        for r in c.execute(stmt.order_by(samples.c.id)):
            self.rows_read += 1
            self._last_id = max(self._last_id, int(r.id))
            if r.time_ms < since_ms:
                continue
            times = self._times.get(r.device_id)
            if times is None:
                times = self._times[r.device_id] = array.array("q")
            series = self._by_device.setdefault(r.device_id, [])
            at = bisect.bisect_right(times, r.time_ms)
            times.insert(at, r.time_ms)
            series.insert(at, kept_sample(stored_sample(r)))
        self._since_ms = since_ms
        out: dict[int, list[KeptReading | KeptMiss]] = {}
        for device_id, times in self._times.items():
            old = bisect.bisect_left(times, since_ms)
            if old:
                del times[:old]
                del self._by_device[device_id][:old]
            end = bisect.bisect_right(times, until_ms)
            series = self._by_device[device_id]
            if end:
                out[device_id] = series if end == len(series) else series[:end]
        return out


def evaluate_alerts(
    store: FleetStore,
    site: str,
    *,
    now: dt.datetime,
    config: AlertConfig | None = None,
    rated_efficiency: Callable[[str], float | None] = catalog_efficiency_j_per_th,
    window: SampleWindow | None = None,
) -> list[AlertChange]:
    """Run every rule on every device of ``site`` and open or resolve alerts accordingly.

    With a :class:`SampleWindow` (the agent keeps one), only the rows stored since the last
    call are read; without one, the whole rule window is read.
    """
    config = config or AlertConfig.default()
    inventory = store.devices(site)
    if not inventory:
        return []
    by_model: dict[str | None, AlertThresholds] = {}
    for d in inventory:
        model = d.catalog_model or d.model
        if model not in by_model:
            by_model[model] = config.thresholds(site, model)
    th_by_device = {d.id: by_model[d.catalog_model or d.model] for d in inventory}
    since_ms = to_ms(now) - int(max(t.window_s() for t in by_model.values()) * 1000)
    by_device: Mapping[int, Sequence[Sample]]
    site_id = store.ensure_site(site)
    with store.engine.connect() as c:
        if window is not None:
            by_device = window.samples(c, site_id, since_ms=since_ms, until_ms=to_ms(now))
        else:
            fresh: dict[int, list[StoredSample]] = defaultdict(list)
            rows = c.execute(
                select(samples)
                .join(devices, devices.c.id == samples.c.device_id)
                .where(
                    devices.c.site_id == site_id,
                    samples.c.time_ms >= since_ms,
                    samples.c.time_ms <= to_ms(now),
                )
                .order_by(samples.c.device_id, samples.c.time_ms)
            )
            for r in rows:
                fresh[r.device_id].append(stored_sample(r))
            by_device = fresh
        open_rows = c.execute(
            select(alerts.c.id, alerts.c.device_id, alerts.c.rule)
            .join(devices, devices.c.id == alerts.c.device_id)
            .where(devices.c.site_id == site_id, alerts.c.open_key.is_not(None))
        ).all()
    open_by_key = {(r.device_id, r.rule): r.id for r in open_rows}
    changes: list[AlertChange] = []
    now_ms = to_ms(now)
    for device in inventory:
        series = by_device.get(device.id, [])
        oks = [s.telemetry for s in series if s.telemetry is not None]
        model = device.catalog_model or device.model
        th = th_by_device[device.id]
        # the catalog is consulted only when the rules file gives no rating for this model
        rated = rated_efficiency(model) if model and th.rated_efficiency_j_per_th is None else None
        ctx = _Ctx(device, series, oks, now, th, rated)
        offline = False
        for rule, check in RULES.items():
            verdict = UNKNOWN if offline and rule is not AlertRule.OFFLINE else check(ctx)
            if rule is AlertRule.OFFLINE:
                offline = bool(series) and series[-1].outcome is not PollOutcome.OK
            key = (device.id, rule.value)
            if isinstance(verdict, Finding) and key not in open_by_key:
                alert_id = _open(store.engine, device, rule, verdict, now_ms)
                if alert_id is not None:
                    open_by_key[key] = alert_id
                    changes.append(
                        AlertChange(
                            alert_id,
                            "opened",
                            rule,
                            SEVERITY[rule],
                            device.address,
                            site,
                            verdict.message,
                            now,
                        )
                    )
            elif verdict is CLEAR and key in open_by_key:
                alert_id = open_by_key.pop(key)
                if _close(store.engine, alert_id, now_ms, actor=None, note="condition cleared"):
                    changes.append(
                        AlertChange(
                            alert_id, "resolved", rule, SEVERITY[rule], device.address, site, "cleared", now
                        )
                    )
    return changes


def raise_alert(
    store: FleetStore, site: str, address: str, rule: AlertRule, message: str, *, now: dt.datetime
) -> AlertChange | None:
    """Open ``rule`` on the device at ``address`` from outside the telemetry rules (curtailment's
    safety rule); None when it is already open (one open alert per device and rule) or unknown."""
    device = store.find_device(address, site=site)
    if device is None:
        return None
    alert_id = _open(store.engine, device, rule, Finding(None, None, message), to_ms(now))
    if alert_id is None:
        return None
    return AlertChange(alert_id, "opened", rule, SEVERITY[rule], device.address, site, message, now)


def clear_alert(
    store: FleetStore, site: str, address: str, rule: AlertRule, *, now: dt.datetime, note: str
) -> AlertChange | None:
    """Resolve the open ``rule`` alert of the device at ``address``, if there is one."""
    device = store.find_device(address, site=site)
    if device is None:
        return None
    with store.engine.connect() as c:
        alert_id = c.scalar(select(alerts.c.id).where(alerts.c.open_key == f"{device.id}:{rule.value}"))
    if alert_id is None or not _close(store.engine, int(alert_id), to_ms(now), actor=None, note=note):
        return None
    return AlertChange(int(alert_id), "resolved", rule, SEVERITY[rule], device.address, site, note, now)


def _open(engine: Engine, device: DeviceRecord, rule: AlertRule, finding: Finding, now_ms: int) -> int | None:
    """Insert the alert; None when another writer opened the same one first (the unique key)."""
    try:
        with engine.begin() as c:
            alert_id = c.execute(
                insert(alerts)
                .values(
                    device_id=device.id,
                    rule=rule.value,
                    severity=SEVERITY[rule],
                    state="open",
                    open_key=f"{device.id}:{rule.value}",
                    message=finding.message[:255],
                    value=finding.value,
                    threshold=finding.threshold,
                    opened_ms=now_ms,
                )
                .returning(alerts.c.id)
            ).scalar_one()
            c.execute(insert(alert_events).values(alert_id=alert_id, time_ms=now_ms, event="opened"))
    except IntegrityError:
        return None
    return int(alert_id)


def _close(engine: Engine, alert_id: int, now_ms: int, *, actor: str | None, note: str | None) -> bool:
    with engine.begin() as c:
        done = c.execute(
            update(alerts)
            .where(alerts.c.id == alert_id, alerts.c.state != "resolved")
            .values(state="resolved", open_key=None, resolved_ms=now_ms)
        ).rowcount
        if done:
            c.execute(
                insert(alert_events).values(
                    alert_id=alert_id, time_ms=now_ms, event="resolved", actor=actor, note=note
                )
            )
    return bool(done)


def acknowledge(
    store: FleetStore, alert_id: int, *, actor: str, note: str | None = None, now: dt.datetime | None = None
) -> Alert:
    """Mark an open alert acknowledged (it stays open until its condition clears)."""
    now_ms = to_ms(now or dt.datetime.now(dt.UTC))
    with store.engine.begin() as c:
        state = c.scalar(select(alerts.c.state).where(alerts.c.id == alert_id))
        if state is None:
            raise StoreError(f"no alert with id {alert_id}")
        if state == "open":
            c.execute(
                update(alerts)
                .where(alerts.c.id == alert_id)
                .values(state="acknowledged", acknowledged_ms=now_ms, acknowledged_by=actor[:128])
            )
            c.execute(
                insert(alert_events).values(
                    alert_id=alert_id,
                    time_ms=now_ms,
                    event="acknowledged",
                    actor=actor[:128],
                    note=(note or "")[:255] or None,
                )
            )
    (alert,) = list_alerts(store, alert_id=alert_id)
    return alert


def resolve(
    store: FleetStore, alert_id: int, *, actor: str, note: str | None = None, now: dt.datetime | None = None
) -> bool:
    """Resolve by hand; if the condition still holds, the next evaluation opens a new alert."""
    return _close(store.engine, alert_id, to_ms(now or dt.datetime.now(dt.UTC)), actor=actor[:128], note=note)


def list_alerts(
    store: FleetStore,
    *,
    site: str | None = None,
    states: Sequence[str] | None = None,
    device_id: int | None = None,
    alert_id: int | None = None,
    limit: int = 1000,
) -> list[Alert]:
    stmt = (
        select(alerts, devices.c.host, devices.c.api_port, sites.c.name.label("site_name"))
        .join(devices, devices.c.id == alerts.c.device_id)
        .join(sites, sites.c.id == devices.c.site_id)
    )
    if site is not None:
        stmt = stmt.where(sites.c.name == site)
    if states is not None:
        stmt = stmt.where(alerts.c.state.in_(list(states)))
    if device_id is not None:
        stmt = stmt.where(alerts.c.device_id == device_id)
    if alert_id is not None:
        stmt = stmt.where(alerts.c.id == alert_id)
    with store.engine.connect() as c:
        rows = c.execute(stmt.order_by(alerts.c.id.desc()).limit(limit)).all()
    return [
        Alert(
            id=r.id,
            device_id=r.device_id,
            address=f"{r.host}:{r.api_port}",
            site=r.site_name,
            rule=AlertRule(r.rule),
            severity=r.severity,
            state=r.state,
            message=r.message,
            value=r.value,
            threshold=r.threshold,
            opened_utc=from_ms(r.opened_ms),
            acknowledged_utc=from_ms(r.acknowledged_ms) if r.acknowledged_ms is not None else None,
            acknowledged_by=r.acknowledged_by,
            resolved_utc=from_ms(r.resolved_ms) if r.resolved_ms is not None else None,
        )
        for r in rows
    ]


def alert_history(store: FleetStore, alert_id: int) -> list[AlertEvent]:
    with store.engine.connect() as c:
        rows = c.execute(
            select(alert_events).where(alert_events.c.alert_id == alert_id).order_by(alert_events.c.id)
        ).all()
    return [AlertEvent(r.alert_id, from_ms(r.time_ms), r.event, r.actor, r.note) for r in rows]
