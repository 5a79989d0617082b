"""``hashwatt fleet``: inventory, telemetry, alerts, agents and control of real miners.

Every command takes ``--db URL`` (default: an SQLite file in the user's data directory; also
``HASHWATT_FLEET_DB``) and ``--json``. Control commands (reboot, sleep, wake, power, pool,
curtail) queue rows in the command table that the site's agent executes and audits; scan and
poll call the device layer directly. The old planning calculator is ``hashwatt plan``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import ipaddress
import json
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from hashwatt.cli._output import JSON_OPTION, console, err_console, key_value_table, print_json, to_jsonable
from hashwatt.errors import InputError

DB_OPTION = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="HASHWATT_FLEET_DB",
        help="Fleet database: SQLAlchemy URL or SQLite file (default: fleet.db in the user data directory).",
        show_default=False,
    ),
]
SITE_OPTION = Annotated[str | None, typer.Option("--site", help="Site name.")]
BY_OPTION = Annotated[str, typer.Option("--by", help="Who is acting (recorded in the audit log).")]
CREDENTIALS_OPTION = Annotated[
    Path | None,
    typer.Option(
        "--credentials",
        envvar="HASHWATT_FLEET_CREDENTIALS",
        help="Credentials TOML (per device, site or model; see docs/FLEET.md). Unconfigured devices "
        "are tried with their firmware's factory default and flagged.",
        dir_okay=False,
        show_default=False,
    ),
]

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


class _FleetGroup(typer.core.TyperGroup):
    """Answers the old planning form ``hashwatt fleet FILE.toml`` with the new command's name."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name = args[0] if args else ""
        if name and name not in self.commands and (name.endswith(".toml") or Path(name).exists()):
            raise InputError(
                f"`hashwatt fleet FILE` is now `hashwatt plan {name}` (the fleet planning calculator); "
                "`hashwatt fleet` manages real miners",
                field="command",
                value=name,
            )
        return super().resolve_command(ctx, args)


fleet_app = typer.Typer(
    cls=_FleetGroup,
    help="Manage real miners: inventory, telemetry, alerts, site agents and control.",
    no_args_is_help=True,
)


# -- parsing -------------------------------------------------------------------------------


def parse_address(text: str, *, default_port: int = 4028) -> tuple[str, int]:
    """``host`` or ``host:port`` -> (host, port), validated."""
    host, sep, port_s = text.rpartition(":") if ":" in text else (text, "", "")
    if sep and not port_s.isdigit():
        raise InputError(
            f"not a device address: {text!r} (expected HOST or HOST:PORT)", field="address", value=text
        )
    port = int(port_s) if sep else default_port
    if not 0 < port < 65536:
        raise InputError(f"port out of range in {text!r}", field="address", value=text)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _HOSTNAME.match(host):
            raise InputError(
                f"not a device address: {text!r} (expected HOST or HOST:PORT)", field="address", value=text
            ) from None
    return host, port


# -- helpers -------------------------------------------------------------------------------


def _open(db: str | None) -> Any:
    from hashwatt.fleet._config import database_url
    from hashwatt.fleet._store import FleetStore

    return FleetStore.open(database_url(db))


def _credentials(path: Path | None) -> Any:
    """The credential store of ``--credentials`` (empty: factory defaults only)."""
    from hashwatt.fleet._credentials import CredentialStore, load_credentials_file

    return CredentialStore() if path is None else load_credentials_file(path)


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172_800:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} d"


def _power(row: dict[str, Any]) -> str:
    if row["power_w"] is None:
        return "-"
    return f"{'~' if row['power_estimated'] else ''}{row['power_w']:,.0f}"


# -- commands ------------------------------------------------------------------------------


@fleet_app.command("migrate")
def migrate(db: DB_OPTION = None, json_out: JSON_OPTION = False) -> None:
    """Create or upgrade the fleet database schema (every command also does this on open)."""
    from hashwatt.fleet._config import database_url, redact_url
    from hashwatt.fleet._db import current_revision

    url = database_url(db)
    with _open(db) as store:
        info: dict[str, str | None] = {
            "database": redact_url(url),
            "revision": current_revision(store.engine),
        }
    if json_out:
        print_json(info)
    else:
        console.print(f"{escape(str(info['database']))} at revision {info['revision']}", highlight=False)


@fleet_app.command("add")
def add(
    address: Annotated[str, typer.Argument(help="HOST or HOST:PORT of the device's API.")],
    site: Annotated[str, typer.Option("--site", help="Site name.")],
    rack: Annotated[str | None, typer.Option(help="Rack label.")] = None,
    position: Annotated[str | None, typer.Option(help="Position in the rack.")] = None,
    http_port: Annotated[int, typer.Option(min=1, max=65535, help="Web/CGI port.")] = 80,
    v3_port: Annotated[int, typer.Option(min=1, max=65535, help="Whatsminer API 3.x port.")] = 4433,
    credentials_ref: Annotated[
        str | None, typer.Option(help="Name of a credential set in your secret store (never the secret).")
    ] = None,
    db: DB_OPTION = None,
    json_out: JSON_OPTION = False,
) -> None:
    """Add a device to a site's inventory by hand (a scan does this for whole ranges)."""
    from hashwatt.fleet._types import Endpoint

    host, port = parse_address(address)
    with _open(db) as store:
        device_id = store.add_device(
            site,
            Endpoint(host, port, http_port, v3_port),
            rack=rack,
            position=position,
            credentials_ref=credentials_ref,
        )
    if json_out:
        print_json({"id": device_id, "address": f"{host}:{port}", "site": site})
    else:
        console.print(f"added {escape(host)}:{port} to site {escape(site)} (id {device_id})", highlight=False)


@fleet_app.command("list")
def list_devices(
    site: SITE_OPTION = None,
    db: DB_OPTION = None,
    json_out: JSON_OPTION = False,
) -> None:
    """Every device with its last good reading and how old it is."""
    with _open(db) as store:
        rows = [v.as_dict() for v in store.views(site)]
        power = store.power_summary(site)
    if json_out:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} devices", title_justify="left")
    for col in ("address", "model", "state"):
        table.add_column(col, justify="left", no_wrap=col != "model")
    for col in ("TH/s", "W", "chip °C", "seen"):
        table.add_column(col, justify="right", no_wrap=True)
    for r in rows:
        table.add_row(
            escape(r["address"]),
            escape(r["model"] or "?"),
            escape(r["state"] or "?"),
            _fmt(r["hashrate_ths"]),
            _power(r),
            _fmt(r["temperatures"]["chip_max_c"], 0),
            _age(r["values_age_s"]),
        )
    console.print(table)
    console.print(
        f"power: {power.measured_w:,.0f} W measured ({power.n_measured}), "
        f"{power.estimated_w:,.0f} W estimated (~, {power.n_estimated}), {power.n_unknown} unknown",
        highlight=False,
    )


@fleet_app.command("show")
def show(
    address: Annotated[str, typer.Argument(help="HOST or HOST:PORT.")],
    site: SITE_OPTION = None,
    db: DB_OPTION = None,
    json_out: JSON_OPTION = False,
) -> None:
    """One device: identity, last good reading, boards, pools, open alerts and recent actions."""
    from hashwatt.fleet._alerts import list_alerts
    from hashwatt.fleet._audit import AuditLog

    host, port = parse_address(address)
    with _open(db) as store:
        view = store.view(f"{host}:{port}" if ":" in address else host, site=site)
        if view is None:
            raise InputError(
                f"no device at {address!r} in the inventory (see `hashwatt fleet list`)",
                field="address",
                value=address,
            )
        row = view.as_dict()
        row["alerts"] = [
            to_jsonable(a)
            for a in list_alerts(store, device_id=view.device.id, states=["open", "acknowledged"])
        ]
        row["audit"] = [
            to_jsonable(e) for e in AuditLog(store.engine).entries(device=view.device.address, limit=10)
        ]
    if json_out:
        print_json(row)
        return
    fields = [
        (k, escape(str(row[k])))
        for k in (
            "address",
            "site",
            "make",
            "model",
            "firmware",
            "firmware_version",
            "serial",
            "mac",
            "rack",
            "position",
            "state",
            "last_outcome",
        )
    ]
    fields += [
        ("hashrate", f"{_fmt(row['hashrate_ths'])} TH/s (expected {_fmt(row['expected_hashrate_ths'])})"),
        ("power", f"{_power(row)} W{' (estimated)' if row['power_estimated'] else ''}"),
        ("chip / board / inlet", " / ".join(_fmt(v, 0) for v in row["temperatures"].values()) + " °C"),
        ("fans", ", ".join(str(f) for f in row["fans_rpm"]) + " rpm"),
        ("last seen", f"{row['last_seen_utc'] or 'never'} ({_age(row['values_age_s'])} ago)"),
    ]
    console.print(key_value_table(f"device {escape(row['address'])}", fields))
    for b in row["boards"]:
        console.print(
            f"  board {b['index']}: {_fmt(b['hashrate_ths'])} TH/s, chips {b['chips']}/{b['chips_expected']}, "
            f"{_fmt(b['temp_chip_c'], 0)} °C",
            highlight=False,
        )
    for p in row["pools"]:
        console.print(f"  pool {p['index']}: {escape(p['url'])} {escape(p['status'])}", highlight=False)
    for a in row["alerts"]:
        console.print(
            f"  alert {a['id']} {a['rule']} ({a['state']}): {escape(a['message'])}", highlight=False
        )


@fleet_app.command("alerts")
def alerts_cmd(
    site: SITE_OPTION = None,
    show_all: Annotated[bool, typer.Option("--all", help="Include resolved alerts.")] = False,
    ack: Annotated[int | None, typer.Option("--ack", help="Acknowledge the alert with this id.")] = None,
    resolve_id: Annotated[
        int | None, typer.Option("--resolve", help="Resolve the alert with this id.")
    ] = None,
    by: BY_OPTION = "cli",
    db: DB_OPTION = None,
    json_out: JSON_OPTION = False,
) -> None:
    """Open and acknowledged alerts (``--all`` adds resolved); acknowledge or resolve by id."""
    from hashwatt.fleet._alerts import acknowledge, list_alerts, resolve

    with _open(db) as store:
        if ack is not None:
            acknowledge(store, ack, actor=by)
        if (
            resolve_id is not None
            and not resolve(store, resolve_id, actor=by)
            and not list_alerts(store, alert_id=resolve_id)
        ):
            raise InputError(f"no alert with id {resolve_id}", field="--resolve", value=resolve_id)
        states = None if show_all else ["open", "acknowledged"]
        found = list_alerts(store, site=site, states=states)
    if json_out:
        print_json(found)
        return
    table = Table(title=f"{len(found)} alerts", title_justify="left")
    for col in ("id", "device", "rule", "severity", "state", "opened (UTC)", "message"):
        table.add_column(col)
    for a in found:
        table.add_row(
            str(a.id),
            escape(a.address),
            a.rule.value,
            a.severity,
            a.state,
            a.opened_utc.strftime("%Y-%m-%d %H:%M"),
            escape(a.message),
        )
    console.print(table)


@fleet_app.command("commands")
def commands_cmd(site: SITE_OPTION = None, db: DB_OPTION = None, json_out: JSON_OPTION = False) -> None:
    """The command queue: what agents have yet to do, and what they did."""
    from hashwatt.fleet._commands import list_commands

    with _open(db) as store:
        found = list_commands(store, site=site)
    if json_out:
        print_json(found)
        return
    table = Table(title=f"{len(found)} commands", title_justify="left")
    for col in ("id", "site", "action", "targets", "by", "state", "agent"):
        table.add_column(col)
    for c in found:
        table.add_row(
            str(c.id),
            escape(c.site),
            c.action,
            str(len(c.targets)),
            escape(c.created_by),
            c.state.value,
            escape(c.claimed_by or "-"),
        )
    console.print(table)


def _queue(
    action: str,
    addresses: Sequence[str],
    *,
    site: str | None,
    by: str,
    params: dict[str, Any],
    db: str | None,
    json_out: bool,
) -> None:
    """Queue ``action`` for each site's agent; every address must be in the inventory."""
    from hashwatt.fleet._commands import submit_command

    parsed = [parse_address(a) for a in addresses]
    with _open(db) as store:
        by_site: dict[str, list[str]] = {}
        for (host, port), raw in zip(parsed, addresses, strict=True):
            device = store.find_device(f"{host}:{port}", site=site)
            if device is None:
                raise InputError(
                    f"no device at {raw!r} in the inventory (add it with `hashwatt fleet add` or a scan)",
                    field="address",
                    value=raw,
                )
            by_site.setdefault(device.site, []).append(device.address)
        queued = [
            submit_command(store, s, action, targets, params=params, created_by=by)
            for s, targets in by_site.items()
        ]
    if json_out:
        print_json(queued)
        return
    for c in queued:
        console.print(
            f"queued command {c.id}: {c.action} on {len(c.targets)} device(s) at site {escape(c.site)} "
            "(its agent executes it; see `hashwatt fleet commands`)",
            highlight=False,
        )


ADDRESSES = Annotated[list[str], typer.Argument(help="Device addresses, HOST or HOST:PORT.")]


def _plain_action(action: str, doc: str) -> Callable[..., None]:
    """A command that queues ``action`` (no parameters) on the given devices."""

    def command(
        addresses: ADDRESSES,
        site: SITE_OPTION = None,
        by: BY_OPTION = "cli",
        db: DB_OPTION = None,
        json_out: JSON_OPTION = False,
    ) -> None:
        _queue(action, addresses, site=site, by=by, params={}, db=db, json_out=json_out)

    command.__doc__ = doc
    return command


for _action, _doc in (
    ("reboot", "Reboot devices (queued for their site's agent, audited)."),
    ("sleep", "Put devices to sleep (stop hashing, stay reachable)."),
    ("wake", "Wake sleeping devices."),
):
    fleet_app.command(_action)(_plain_action(_action, _doc))


@fleet_app.command("power")
def power(
    addresses: ADDRESSES,
    watts: Annotated[
        float | None, typer.Option("--watts", min=1, max=100_000, help="Power target [W].")
    ] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="A firmware power profile name.")] = None,
    site: SITE_OPTION = None,
    by: BY_OPTION = "cli",
    db: DB_OPTION = None,
    json_out: JSON_OPTION = False,
) -> None:
    """Set a power target or profile (validated by the device layer against the firmware)."""
    if (watts is None) == (profile is None):
        raise InputError("give exactly one of --watts or --profile")
    params = {"power_target_w": watts} if watts is not None else {"profile": profile}
    _queue("power", addresses, site=site, by=by, params=params, db=db, json_out=json_out)


@fleet_app.command("pool")
def pool(
    addresses: ADDRESSES,
    url: Annotated[str, typer.Option("--url", help="Pool URL, stratum+tcp://HOST:PORT.")],
    user: Annotated[str, typer.Option("--user", help="Pool worker name.")],
    password_env: Annotated[
        str | None, typer.Option("--password-env", help="Environment variable holding the pool password.")
    ] = None,
    group: Annotated[
        str | None,
        typer.Option(
            "--group", help="LuxOS pool group to change (created when missing; default: the active one)."
        ),
    ] = None,
    site: SITE_OPTION = None,
    by: BY_OPTION = "cli",
    db: DB_OPTION = None,
    json_out: JSON_OPTION = False,
) -> None:
    """Switch the primary pool (the agent keeps every other pool setting, read back to confirm)."""
    if not re.match(r"^stratum(\+tcp|\+ssl|2\+tcp)?://[^\s/@]+:\d{1,5}/?$", url):
        raise InputError("pool URL must look like stratum+tcp://HOST:PORT (no credentials in it)")
    params: dict[str, Any] = {"url": url, "user": user}
    if group is not None:
        if not re.match(r"^[A-Za-z0-9_.-]{1,64}$", group):
            raise InputError("a pool group name is 1-64 letters, digits, '_', '.' or '-'")
        params["group"] = group
    if password_env is not None:
        if password_env not in os.environ:
            raise InputError(
                f"environment variable {password_env} is not set", field="--password-env", value=password_env
            )
        params["password_env"] = password_env  # the agent reads it from its own environment
    _queue("pool", addresses, site=site, by=by, params=params, db=db, json_out=json_out)


class ReportPer(enum.StrEnum):
    """The subtotal periods of ``fleet curtail report`` (the values of ``fleet.Period``)."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class CurtailHow(enum.StrEnum):
    """``--curtail-mode``: how the agent curtails a machine."""

    SLEEP = "sleep"
    POWER = "power"
    PROFILE = "profile"


@dataclasses.dataclass(frozen=True, slots=True)
class CurtailOptions:
    """The agent's curtailment options beyond the price file."""

    price_feed: str | None = None
    price_feed_refresh_s: float = 300.0
    mode: CurtailHow = CurtailHow.SLEEP
    power_fraction: float = 0.5
    load_cap_kw: float | None = None
    load_caps: Path | None = None
    profile: str | None = None


class _CurtailGroup(typer.core.TyperGroup):
    """``fleet curtail ADDRESS...`` stays the short form of ``fleet curtail now ADDRESS...``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["now", *args]
        result: list[str] = super().parse_args(ctx, args)
        return result


curtail_app = typer.Typer(
    cls=_CurtailGroup,
    help="Curtail devices now, or report what curtailment saved (ADDRESS... alone means `now`).",
    no_args_is_help=True,
)
fleet_app.add_typer(curtail_app, name="curtail")


@curtail_app.command("now")
def curtail(
    addresses: ADDRESSES,
    mode: Annotated[str, typer.Option("--mode", help="sleep, or a power profile name.")] = "sleep",
    site: SITE_OPTION = None,
    by: BY_OPTION = "cli",
    db: DB_OPTION = None,
    json_out: JSON_OPTION = False,
) -> None:
    """Curtail devices now (sleep or down-power); price-driven curtailment runs in the agent."""
    _queue("curtail", addresses, site=site, by=by, params={"mode": mode}, db=db, json_out=json_out)


def _utc(text: str, option: str) -> Any:
    """An ISO date or date-time as an aware UTC datetime (a naive one is UTC)."""
    import datetime as dt

    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            f"{option} must be an ISO date or date-time (2026-11-01 or 2026-11-01T06:00Z), not {text[:40]!r}",
            field=option,
            value=text[:40],
        ) from None
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)


@curtail_app.command("report")
def curtail_report_cmd(
    since: Annotated[
        str, typer.Option("--since", help="Period start, ISO date or date-time (UTC if naive).")
    ],
    until: Annotated[
        str | None, typer.Option("--until", help="Period end, exclusive (default: now).", show_default=False)
    ] = None,
    per: Annotated[
        ReportPer, typer.Option("--per", help="Subtotals per day, week or month (UTC).", case_sensitive=False)
    ] = ReportPer.DAY,
    site: SITE_OPTION = None,
    db: DB_OPTION = None,
    json_out: JSON_OPTION = False,
) -> None:
    """What curtailment saved: events started in [--since, --until), per event and per period.

    Energy [kWh] and cost saved from the measured load; revenue forgone at the hashprice; net.
    """
    import datetime as dt

    from hashwatt.cli._output import fmt_usd
    from hashwatt.fleet._curtail_report import Period, curtail_report

    try:
        period = Period(per.lower())
    except ValueError:
        raise InputError(
            f"--per must be one of {', '.join(p.value for p in Period)}, not {per[:20]!r}",
            field="--per",
            value=per[:20],
        ) from None
    start = _utc(since, "--since")
    end = _utc(until, "--until") if until is not None else dt.datetime.now(dt.UTC)
    with _open(db) as store:
        report = curtail_report(store, since=start, until=end, site=site, per=period)
    if json_out:
        print_json(_report_json(report))
        return

    def usd(x: float) -> str:
        return fmt_usd(x, cents=abs(x) < 1000)

    table = Table(title=f"{len(report.events)} curtailment events", title_justify="left")
    for col in ("id", "start (UTC)", "h", "kW", "kWh", "saved", "forgone", "net"):
        table.add_column(col, justify="left" if col == "start (UTC)" else "right", no_wrap=True)
    for r in report.events:
        e, a = r.event, r.account
        cells = [str(e.id), f"{e.start_utc:%Y-%m-%d %H:%M}", "open" if a is None else f"{a.hours:.2f}"]
        cells.append(f"{e.shed_kw:,.1f}")
        if a is None:
            cells += ["-", "-", "-", "-"]
        else:
            cells += [
                f"{a.energy_saved_kwh:,.1f}",
                usd(a.cost_saved_usd),
                usd(a.revenue_forgone_usd),
                usd(a.net_usd),
            ]
        table.add_row(*cells)
    console.print(table)
    periods = Table(title=f"per {period.value}", title_justify="left")
    for col in ("from (UTC)", "events", "kWh", "saved", "forgone", "net"):
        periods.add_column(col, justify="left" if col == "from (UTC)" else "right", no_wrap=True)
    for row in report.periods:
        a = row.account
        periods.add_row(
            f"{row.start_utc:%Y-%m-%d}", str(row.events), f"{a.energy_saved_kwh:,.1f}",
            usd(a.cost_saved_usd), usd(a.revenue_forgone_usd), usd(a.net_usd),
        )  # fmt: skip
    console.print(periods)
    t = report.total
    console.print(
        f"total: {t.energy_saved_kwh:,.1f} kWh, saved {usd(t.cost_saved_usd)}, forgone "
        f"{usd(t.revenue_forgone_usd)}, net {usd(t.net_usd)}",
        highlight=False,
    )
    if report.open_events:
        console.print(f"{len(report.open_events)} open, not yet accounted", highlight=False)


def _report_json(report: Any) -> dict[str, Any]:
    def account(a: Any) -> dict[str, float]:
        return {
            "hours": a.hours,
            "energy_saved_kwh": a.energy_saved_kwh,
            "cost_saved_usd": a.cost_saved_usd,
            "revenue_forgone_usd": a.revenue_forgone_usd,
            "net_usd": a.net_usd,
        }

    return {
        "since_utc": report.since_utc,
        "until_utc": report.until_utc,
        "site": report.site,
        "per": report.per.value,
        "events": [
            {
                "id": r.event.id,
                "site": r.event.site,
                "start_utc": r.event.start_utc,
                "end_utc": r.event.end_utc,
                "mode": r.event.mode,
                "devices": r.event.devices,
                "machines": [
                    {"address": a, "power_w": w, "hashrate_ths": ths} for a, w, ths in r.event.loads
                ],
                "disobeyed": r.event.disobeyed,
                "shed_kw": r.event.shed_kw,
                "hashrate_ths": r.event.hashrate_ths,
                "price_usd_per_mwh": r.event.price_usd_per_mwh,
                "hashprice_usd_per_ph_day": r.event.hashprice_usd_per_ph_day,
                "open": r.account is None,
                **(account(r.account) if r.account is not None else {}),
            }
            for r in report.events
        ],
        "periods": [
            {"start_utc": p.start_utc, "events": p.events, **account(p.account)} for p in report.periods
        ],
        "total": account(report.total),
        "open_events": len(report.open_events),
    }


@fleet_app.command("scan")
def scan(
    address_range: Annotated[
        str,
        typer.Argument(metavar="RANGE", help="A.B.C.D-A.B.C.E, A.B.C.D-E, a CIDR block, or a comma list."),
    ],
    site: Annotated[str, typer.Option("--site", help="Site the found devices join.")] = "default",
    api_port: Annotated[int, typer.Option(min=1, max=65535, help="API port to probe.")] = 4028,
    http_port: Annotated[int, typer.Option(min=1, max=65535, help="Web/CGI port.")] = 80,
    v3_port: Annotated[int, typer.Option(min=1, max=65535, help="Whatsminer API 3.x port.")] = 4433,
    timeout_s: Annotated[
        float, typer.Option("--timeout", min=0.1, max=60.0, help="Per-request timeout [s].")
    ] = 2.0,
    concurrency: Annotated[int, typer.Option(min=1, max=4096, help="Addresses probed at once.")] = 1024,
    credentials: CREDENTIALS_OPTION = None,
    db: DB_OPTION = None,
    json_out: JSON_OPTION = False,
) -> None:
    """Find miners in RANGE, identify them and add them to the inventory (swaps re-identified)."""
    from rich.progress import Progress

    from hashwatt.fleet._discovery import parse_range
    from hashwatt.fleet._discovery import scan as scan_range
    from hashwatt.fleet._types import Endpoint

    hosts = parse_range(address_range)
    creds = _credentials(credentials)
    with _open(db) as store:
        before = {d.address: d.serial for d in store.devices(site)}
        with Progress(console=err_console, transient=True, disable=json_out) as progress:
            task = progress.add_task(f"scanning {len(hosts)} addresses", total=len(hosts))

            def advance(done: int, _total: int) -> None:
                progress.update(task, completed=done)

            result = asyncio.run(
                scan_range(
                    hosts,
                    endpoint_for=lambda h: Endpoint(h, api_port, http_port, v3_port),
                    concurrency=concurrency,
                    timeout_s=timeout_s,
                    site=site,
                    credentials=creds,
                    on_progress=advance,
                )
            )
        for f in result.found:
            store.add_device(site, f.endpoint, identity=f.identity, factory_credentials=f.factory_credentials)
    rows = [
        {
            "address": f.endpoint.address,
            "make": f.identity.make,
            "model": f.identity.model,
            "firmware": f.identity.firmware.value,
            "serial": f.identity.serial,
            "factory_credentials": f.factory_credentials,
            "new": f.endpoint.address not in before,
            "swapped": f.endpoint.address in before
            and before[f.endpoint.address] not in (None, f.identity.serial),
        }
        for f in result.found
    ]
    if json_out:
        print_json(
            {
                "scanned": result.addresses,
                "duration_s": result.duration_s,
                "found": rows,
                "failed": [{"address": a, "outcome": o.value, "error": e} for a, o, e in result.failed],
            }
        )
        return
    table = Table(
        title=f"{len(rows)} miners in {result.addresses} addresses ({result.duration_s:.1f} s)",
        title_justify="left",
    )
    for col in ("address", "model", "firmware", "serial", "note"):
        table.add_column(col, no_wrap=col == "address")
    for r in rows:
        note = "new" if r["new"] else ("swapped" if r["swapped"] else "")
        if r["factory_credentials"]:
            note = (note + ", factory credentials").lstrip(", ")
        cells = (str(r["address"]), str(r["model"]), str(r["firmware"]), str(r["serial"] or "-"))
        table.add_row(*(escape(c) for c in cells), note)
    console.print(table)


@fleet_app.command("poll")
def poll(
    site: Annotated[str, typer.Option("--site", help="Site to poll.")] = "default",
    once: Annotated[bool, typer.Option("--once", help="One cycle, then exit.")] = False,
    interval_s: Annotated[float, typer.Option("--interval", min=1.0, help="Seconds between cycles.")] = 60.0,
    credentials: CREDENTIALS_OPTION = None,
    db: DB_OPTION = None,
    json_out: JSON_OPTION = False,
) -> None:
    """Poll the site's devices and store the readings (``--once`` for a single cycle)."""
    _agent_loop(
        site,
        "poll",
        interval_s,
        None,
        db,
        json_out,
        max_cycles=1 if once else None,
        commands=False,
        credentials=credentials,
    )


@fleet_app.command("agent")
def agent(
    site: Annotated[str, typer.Option("--site", help="The site this agent runs.")],
    name: Annotated[str, typer.Option("--name", help="Agent name (several may serve one site).")] = "agent",
    interval_s: Annotated[float, typer.Option("--interval", min=1.0, help="Seconds between cycles.")] = 60.0,
    alerts_file: Annotated[
        Path | None,
        typer.Option("--alerts", help="Alert rules TOML (see the shipped example).", dir_okay=False),
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="One cycle, then exit.")] = False,
    curtail_prices: Annotated[
        Path | None,
        typer.Option(
            "--curtail-prices",
            help="Hourly price CSV (UTC hour start, USD/MWh): sleep machines that lose money each hour.",
            dir_okay=False,
        ),
    ] = None,
    hashprice: Annotated[
        float | None,
        typer.Option(
            "--hashprice", min=0.0, help="USD/PH/day for curtailment (default: the embedded network data)."
        ),
    ] = None,
    price_feed: Annotated[
        str | None,
        typer.Option(
            "--price-feed",
            help="Live price feed URL (HTTP CSV or JSON of hourly USD/MWh) instead of --curtail-prices.",
        ),
    ] = None,
    price_feed_refresh_s: Annotated[
        float, typer.Option("--price-feed-refresh", min=1.0, help="Seconds between price feed fetches.")
    ] = 300.0,
    curtail_mode: Annotated[
        CurtailHow,
        typer.Option(
            "--curtail-mode",
            help="sleep; power: down-power to --power-fraction where the firmware takes a power target; "
            "profile: switch to --curtail-profile where the firmware has it.",
            case_sensitive=False,
        ),
    ] = CurtailHow.SLEEP,
    power_fraction: Annotated[
        float,
        typer.Option(
            "--power-fraction", min=0.05, max=0.95, help="Power kept by a down-powered machine [0-1]."
        ),
    ] = 0.5,
    load_cap_kw: Annotated[
        float | None,
        typer.Option(
            "--load-cap-kw", min=0.0, help="Dispatch target: keep the site's measured load under this [kW]."
        ),
    ] = None,
    curtail_profile: Annotated[
        str | None,
        typer.Option(
            "--curtail-profile", help="The power profile of --curtail-mode profile (e.g. a LuxOS profile)."
        ),
    ] = None,
    load_caps: Annotated[
        Path | None,
        typer.Option(
            "--load-caps",
            help="Hourly dispatch targets, CSV rows 'UTC hour start, kW' (a dispatch schedule's IT load).",
            dir_okay=False,
        ),
    ] = None,
    credentials: CREDENTIALS_OPTION = None,
    db: DB_OPTION = None,
    json_out: JSON_OPTION = False,
) -> None:
    """Run a site's agent: poll (spread over most of each cycle), store, alert, execute queued commands, curtail, roll up; stops on Ctrl-C/SIGTERM."""
    if curtail_prices is not None and price_feed is not None:
        raise InputError("give --curtail-prices or --price-feed, not both")
    if load_cap_kw is not None and load_caps is not None:
        raise InputError("give --load-cap-kw or --load-caps, not both")
    if (curtail_mode is CurtailHow.PROFILE) != (curtail_profile is not None):
        raise InputError("--curtail-mode profile goes with --curtail-profile NAME (and only with it)")
    priced = curtail_prices is not None or price_feed is not None
    if not priced and (load_cap_kw is not None or load_caps is not None):
        raise InputError("a load cap needs a price signal: --curtail-prices FILE or --price-feed URL")
    _agent_loop(
        site,
        name,
        interval_s,
        alerts_file,
        db,
        json_out,
        max_cycles=1 if once else None,
        commands=True,
        curtail_prices=curtail_prices,
        hashprice=hashprice,
        credentials=credentials,
        curtail=CurtailOptions(
            price_feed,
            price_feed_refresh_s,
            curtail_mode,
            power_fraction,
            load_cap_kw,
            load_caps,
            curtail_profile,
        ),
    )


def _agent_loop(
    site: str,
    name: str,
    interval_s: float,
    alerts_file: Path | None,
    db: str | None,
    json_out: bool,
    *,
    max_cycles: int | None,
    commands: bool,
    curtail_prices: Path | None = None,
    hashprice: float | None = None,
    credentials: Path | None = None,
    curtail: CurtailOptions | None = None,
) -> None:
    import pandas as pd

    from hashwatt._aio import run as run_loop
    from hashwatt.fleet._agent import Agent, AgentConfig, CycleReport, run_until_signalled
    from hashwatt.fleet._alerts import AlertConfig, load_alert_config
    from hashwatt.fleet._audit import AuditLog
    from hashwatt.fleet._control import Controller
    from hashwatt.fleet._curtail import CurtailMode, CurtailPolicy, load_price_file, price_at
    from hashwatt.fleet._device_layer import NetworkDeviceLayer, pace_for
    from hashwatt.fleet._pricefeed import PriceFeed
    from hashwatt.fleet._webhooks import WebhookQueue, targets_from_config
    from hashwatt.fleet.errors import FleetInputError

    creds = _credentials(credentials)
    config = load_alert_config(alerts_file) if alerts_file is not None else AlertConfig.default()
    targets = targets_from_config(config.webhooks)
    opts = curtail or CurtailOptions()
    prices = load_price_file(curtail_prices) if curtail_prices is not None else None
    feed = None
    if opts.price_feed is not None:
        feed = PriceFeed(opts.price_feed, refresh_s=opts.price_feed_refresh_s)
        prices = pd.Series(dtype=float, index=pd.DatetimeIndex([], tz="UTC"))  # until the first fetch
    load_cap: Callable[[Any], float | None] | None = None
    if opts.load_cap_kw is not None or opts.load_caps is not None:
        fixed_kw = opts.load_cap_kw
        caps = load_price_file(opts.load_caps, what="kW") if opts.load_caps is not None else None

        def load_cap(when: Any) -> float | None:
            if caps is None:
                return fixed_kw
            try:
                return price_at(caps, when)  # the same hour lookup as prices
            except FleetInputError:
                return None  # no target this hour

    if prices is not None and hashprice is None:
        from hashwatt.economics import NetworkState

        hashprice = NetworkState.latest().hashprice_usd_per_ph_day
    with _open(db) as store:
        if not store.endpoints(site):
            known = ", ".join(store.site_names()) or "none"
            err_console.print(
                f"warning: site {site!r} has no devices in the inventory (sites: {known}); "
                f"add them with hashwatt fleet scan RANGE --site {site}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        # a running agent spreads its polls over most of each cycle (a steady load on the site
        # and this process); one cycle on demand polls at once
        deadline_s = min(10.0, interval_s / 2)
        spread_s = pace_for(interval_s, deadline_s) if max_cycles is None else 0.0
        layer = NetworkDeviceLayer(store, site, credentials=creds, deadline_s=deadline_s, spread_s=spread_s)
        policy = None
        if prices is not None and hashprice is not None:
            policy = CurtailPolicy(
                store,
                site,
                prices,
                hashprice,
                layer.device,
                # its own controller with the audit sink: queued commands are audited by
                # finish_command, curtailment actions here
                Controller(audit_sink=AuditLog(store.engine).record_sink),
                step_interval_s=layer.step_interval_s,
                mode={
                    CurtailHow.SLEEP: CurtailMode.SLEEP,
                    CurtailHow.POWER: CurtailMode.POWER_TARGET,
                    CurtailHow.PROFILE: CurtailMode.PROFILE,
                }[opts.mode],
                power_fraction=opts.power_fraction,
                profile=opts.profile,
                load_cap_kw=load_cap,
                price_source=feed,
            )
        runner = Agent(
            store,
            AgentConfig(site=site, name=name, interval_s=interval_s, alerts=config),
            poll=layer.poll,
            execute=layer.execute if commands else None,
            webhooks=WebhookQueue(store.engine, targets) if targets else None,
            curtail=policy.step if policy is not None else None,
        )

        def report(r: CycleReport) -> None:
            if json_out:
                print(json.dumps(to_jsonable(r)), flush=True)
            else:
                console.print(
                    f"{r.time_utc:%H:%M:%S} polled {r.polled} ({r.ok} ok, {r.failed} failed), "
                    f"alerts +{r.alerts_opened}/-{r.alerts_resolved}, commands {r.commands_done} done "
                    f"{r.commands_failed} failed, curtailments +{r.curtail_started}/-{r.curtail_ended}, "
                    f"{r.duration_s:.1f} s",
                    highlight=False,
                )

        run_loop(run_until_signalled(runner, on_cycle=report, max_cycles=max_cycles))
    if not json_out:
        err_console.print(
            f"stopped after {runner.cycles} cycles ({runner.missed_cycles} missed)", highlight=False
        )


def register(app: typer.Typer) -> None:
    """Add the ``fleet`` group to the root app."""
    app.add_typer(fleet_app, name="fleet")


__all__ = ["fleet_app", "parse_address", "register"]
