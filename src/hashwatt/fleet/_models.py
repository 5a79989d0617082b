"""The fleet database schema (SQLAlchemy Core tables); Alembic migrations create and evolve it.

Times are integer Unix milliseconds (``time_ms``): integer division buckets them the same way
on SQLite and PostgreSQL, so the rollups are one SQL statement on both. Every reading column
is nullable: a poll that failed stores its outcome and no values, never zeros.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

__all__ = [
    "alert_events",
    "alerts",
    "api_tokens",
    "audit_log",
    "commands",
    "curtail_events",
    "devices",
    "metadata",
    "rollups",
    "samples",
    "sites",
    "users",
    "web_sessions",
    "webhook_deliveries",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

sites = Table(
    "sites",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("created_ms", BigInteger, nullable=False),
)

devices = Table(
    "devices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("site_id", Integer, ForeignKey("sites.id"), nullable=False),
    Column("host", String(255), nullable=False),
    Column("api_port", Integer, nullable=False),
    Column("http_port", Integer, nullable=False),
    Column("v3_port", Integer, nullable=False),
    Column("make", String(64)),
    Column("model", String(128)),
    Column("catalog_model", String(128)),
    Column("firmware", String(32)),
    Column("firmware_version", String(128)),
    Column("serial", String(128)),
    Column("mac", String(32)),
    Column("hostname", String(255)),
    Column("rack", String(64)),
    Column("position", String(64)),
    # The name of a credential set in the operator's secret store, never the secret itself.
    Column("credentials_ref", String(128)),
    Column("factory_credentials", Boolean, nullable=False, default=False),
    Column("first_seen_ms", BigInteger, nullable=False),
    Column("identified_ms", BigInteger),
    Column("last_poll_ms", BigInteger),
    Column("last_outcome", String(16)),
    Column("last_ok_ms", BigInteger),
    Column("state", String(16)),
    UniqueConstraint("site_id", "host", "api_port"),
)

samples = Table(
    "samples",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("device_id", Integer, ForeignKey("devices.id"), nullable=False),
    Column("time_ms", BigInteger, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("latency_ms", Float),
    Column("error", String(255)),
    Column("state", String(16)),
    Column("hashrate_ths", Float),
    Column("expected_hashrate_ths", Float),
    Column("power_w", Float),
    Column("power_estimated", Boolean),
    Column("temp_chip_max_c", Float),
    Column("temp_board_max_c", Float),
    Column("temp_inlet_c", Float),
    Column("fans_rpm", JSON),
    # Per-board readings and pools as compact JSON lists: read whole, never queried by field.
    Column("boards", JSON),
    Column("pools", JSON),
    Column("accepted", BigInteger),
    Column("rejected", BigInteger),
    Column("stale", BigInteger),
    Column("hardware_errors", BigInteger),
    Column("uptime_s", BigInteger),
    Column("error_codes", JSON),
    Column("power_target_w", Float),
    Column("profile", String(64)),
    Index(None, "device_id", "time_ms"),
    Index(None, "time_ms"),
)

#: Tiers of :data:`rollups`: name -> bucket width [ms].
ROLLUP_TIERS_MS = {"15m": 15 * 60 * 1000, "1d": 24 * 3600 * 1000}

rollups = Table(
    "rollups",
    metadata,
    Column("device_id", Integer, ForeignKey("devices.id"), primary_key=True),
    Column("tier", String(8), primary_key=True),
    Column("bucket_ms", BigInteger, primary_key=True),
    Column("n_samples", Integer, nullable=False),
    Column("n_ok", Integer, nullable=False),
    Column("hashrate_ths_avg", Float),
    Column("hashrate_ths_min", Float),
    Column("hashrate_ths_max", Float),
    Column("expected_hashrate_ths_avg", Float),
    Column("power_w_avg", Float),
    Column("n_power", Integer, nullable=False, default=0),
    Column("n_power_estimated", Integer, nullable=False, default=0),
    Column("temp_chip_max_c", Float),
    Column("temp_board_max_c", Float),
    Column("temp_inlet_c_avg", Float),
    Column("accepted_max", BigInteger),
    Column("rejected_max", BigInteger),
    Index(None, "tier", "bucket_ms"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("device_id", Integer, ForeignKey("devices.id"), nullable=False),
    Column("rule", String(32), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    # "device_id:rule" while the alert is open or acknowledged, NULL once resolved: the unique
    # index is what keeps one open alert per device and rule, even with several writers.
    Column("open_key", String(64), unique=True),
    Column("message", String(255), nullable=False),
    Column("value", Float),
    Column("threshold", Float),
    Column("opened_ms", BigInteger, nullable=False),
    Column("acknowledged_ms", BigInteger),
    Column("acknowledged_by", String(128)),
    Column("resolved_ms", BigInteger),
    Index(None, "state"),
    Index(None, "device_id"),
)

alert_events = Table(
    "alert_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, ForeignKey("alerts.id"), nullable=False, index=True),
    Column("time_ms", BigInteger, nullable=False),
    Column("event", String(16), nullable=False),
    Column("actor", String(128)),
    Column("note", String(255)),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time_ms", BigInteger, nullable=False, index=True),
    Column("actor", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("site", String(128)),
    Column("devices", JSON, nullable=False),
    Column("params", JSON, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("detail", JSON),
    Column("command_id", Integer),
)

commands = Table(
    "commands",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("site_id", Integer, ForeignKey("sites.id"), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("targets", JSON, nullable=False),
    Column("params", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("claimed_by", String(128)),
    Column("claimed_ms", BigInteger),
    Column("finished_ms", BigInteger),
    Column("attempts", Integer, nullable=False, default=0),
    Column("result", JSON),
    Index(None, "site_id", "state"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("webhook", String(64), nullable=False),
    Column("alert_id", Integer, ForeignKey("alerts.id")),
    Column("event", String(16), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_ms", BigInteger, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("delivered_ms", BigInteger),
    Column("last_status", Integer),
    Column("last_error", String(255)),
    Index(None, "state", "next_attempt_ms"),
)

# -- dashboard users (hashwatt.web): Argon2 hashes and SHA-256 digests of tokens, never secrets --

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until_ms", BigInteger),
    Column("disabled", Boolean, nullable=False, default=False),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    # SHA-256 of the cookie value: a copy of the database does not hand out live sessions.
    Column("id", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("last_used_ms", BigInteger),
)

#: One curtailment: the machines put to sleep (or down-powered) with the measured power and
#: hashrate they were shed at, and, once they are back, its energy and money [kWh, USD].
curtail_events = Table(
    "curtail_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("site_id", Integer, ForeignKey("sites.id"), nullable=False),
    Column("start_ms", BigInteger, nullable=False),
    Column("end_ms", BigInteger),
    Column("mode", String(16), nullable=False),
    Column("machines", JSON, nullable=False),
    Column("disobeyed", JSON, nullable=False),
    Column("shed_kw", Float, nullable=False),
    Column("hashrate_ths", Float, nullable=False),
    Column("price_usd_per_mwh", Float, nullable=False),
    Column("hashprice_usd_per_ph_day", Float, nullable=False),
    Column("energy_saved_kwh", Float),
    Column("cost_saved_usd", Float),
    Column("revenue_forgone_usd", Float),
    Index(None, "site_id", "start_ms"),
)
