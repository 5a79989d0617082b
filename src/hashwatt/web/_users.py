"""Dashboard users, sessions and API tokens in the fleet database.

Passwords are Argon2id hashes; session cookies and API tokens are random 256-bit values of
which only the SHA-256 digest is stored, so a copy of the database opens no door. A user is
locked for ``LOCKOUT_S`` after ``MAX_FAILED_LOGINS`` wrong passwords in a row; the lock is
stored before the refusal is answered.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from hashwatt.errors import HashwattError
from hashwatt.fleet._models import api_tokens, users, web_sessions
from hashwatt.fleet._store import to_ms

__all__ = [
    "LOCKOUT_S",
    "MAX_FAILED_LOGINS",
    "LoginRefused",
    "Role",
    "Session",
    "User",
    "UserError",
    "UserStore",
]

MAX_FAILED_LOGINS = 5
LOCKOUT_S = 15 * 60
SESSION_TTL_S = 12 * 3600
TOKEN_PREFIX = "hw_"
MIN_PASSWORD_CHARS = 10
_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


class UserError(HashwattError):
    """Bad user input (name, role, password) or an unknown user."""


class LoginRefused(HashwattError):
    """Wrong name or password, or the user is locked; one message for all, by design."""

    def __init__(self, message: str, *, locked: bool = False) -> None:
        super().__init__(message)
        self.locked = locked


class Role(enum.IntEnum):
    """Ordered: a higher role may do everything a lower one may."""

    VIEWER = 1
    OPERATOR = 2
    ADMIN = 3

    @classmethod
    def parse(cls, name: str) -> Role:
        try:
            return cls[name.upper()]
        except KeyError:
            raise UserError(f"unknown role {name!r}; one of viewer, operator, admin") from None

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    role: Role


@dataclass(frozen=True, slots=True)
class Session:
    """An authenticated request's principal: the user, the role in force, and the CSRF token.

    ``csrf`` is None for API-token requests, which carry no cookie and so need none.
    """

    user: User
    role: Role
    csrf: str | None


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now_ms() -> int:
    return to_ms(dt.datetime.now(dt.UTC))


def _check_name(name: str) -> str:
    if not (1 <= len(name) <= 64) or not all(c.isalnum() or c in "._-@" for c in name):
        raise UserError("a user name is 1-64 letters, digits or . _ - @")
    return name


class UserStore:
    """Users, sessions and tokens over the fleet database's engine."""

    def __init__(
        self, engine: Engine, *, session_ttl_s: float = SESSION_TTL_S, hasher: PasswordHasher | None = None
    ) -> None:
        self.engine = engine
        self.session_ttl_s = session_ttl_s
        self.hasher = hasher or _HASHER
        # Verified when the user does not exist, so that answer takes as long as a wrong password.
        self._dummy_hash = _DUMMY_HASH if hasher is None else hasher.hash(secrets.token_urlsafe(16))

    # -- users ---------------------------------------------------------------------------

    def add(self, name: str, password: str, role: Role) -> User:
        _check_name(name)
        if len(password) < MIN_PASSWORD_CHARS:
            raise UserError(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
        try:
            with self.engine.begin() as c:
                uid = c.execute(
                    insert(users)
                    .values(
                        name=name,
                        password_hash=self.hasher.hash(password),
                        role=role.label,
                        created_ms=_now_ms(),
                        failed_logins=0,
                        disabled=False,
                    )
                    .returning(users.c.id)
                ).scalar_one()
        except IntegrityError:
            raise UserError(f"user {name!r} exists already") from None
        return User(int(uid), name, role)

    def list(self) -> list[User]:
        with self.engine.connect() as c:
            rows = c.execute(select(users.c.id, users.c.name, users.c.role).order_by(users.c.name)).all()
        return [User(r.id, r.name, Role.parse(r.role)) for r in rows]

    def remove(self, name: str) -> None:
        with self.engine.begin() as c:
            uid = c.scalar(select(users.c.id).where(users.c.name == name))
            if uid is None:
                raise UserError(f"no user {name!r}")
            c.execute(delete(web_sessions).where(web_sessions.c.user_id == uid))
            c.execute(delete(api_tokens).where(api_tokens.c.user_id == uid))
            c.execute(delete(users).where(users.c.id == uid))

    def authenticate(self, name: str, password: str) -> User:
        """The user, or :class:`LoginRefused`; failures and locks are stored before answering."""
        now = _now_ms()
        with self.engine.connect() as c:
            row = c.execute(select(users).where(users.c.name == name[:64])).first()
        if row is None or row.disabled:
            _verify(self.hasher, self._dummy_hash, password)
            raise LoginRefused("wrong user name or password")
        if row.locked_until_ms is not None and row.locked_until_ms > now:
            raise LoginRefused("too many failed logins; try again later", locked=True)
        if not _verify(self.hasher, row.password_hash, password):
            failed = row.failed_logins + 1
            locked = failed >= MAX_FAILED_LOGINS
            with self.engine.begin() as c:
                c.execute(
                    update(users)
                    .where(users.c.id == row.id)
                    .values(
                        failed_logins=0 if locked else failed,
                        locked_until_ms=now + LOCKOUT_S * 1000 if locked else None,
                    )
                )
            if locked:
                raise LoginRefused("too many failed logins; try again later", locked=True)
            raise LoginRefused("wrong user name or password")
        if row.failed_logins or row.locked_until_ms:
            with self.engine.begin() as c:
                c.execute(
                    update(users).where(users.c.id == row.id).values(failed_logins=0, locked_until_ms=None)
                )
        return User(row.id, row.name, Role.parse(row.role))

    # -- sessions ------------------------------------------------------------------------

    def open_session(self, user: User) -> tuple[str, str]:
        """A fresh session for ``user``: (cookie value, CSRF token). Never reuses a presented id."""
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = _now_ms()
        with self.engine.begin() as c:
            c.execute(delete(web_sessions).where(web_sessions.c.expires_ms < now))
            c.execute(
                insert(web_sessions).values(
                    id=digest(token),
                    user_id=user.id,
                    csrf=csrf,
                    created_ms=now,
                    expires_ms=now + int(self.session_ttl_s * 1000),
                )
            )
        return token, csrf

    def session(self, token: str) -> Session | None:
        if not token or len(token) > 128:
            return None
        stmt = (
            select(web_sessions.c.csrf, web_sessions.c.expires_ms, users.c.id, users.c.name, users.c.role)
            .join(users, users.c.id == web_sessions.c.user_id)
            .where(web_sessions.c.id == digest(token), users.c.disabled.is_(False))
        )
        with self.engine.connect() as c:
            row = c.execute(stmt).first()
        if row is None or row.expires_ms < _now_ms():
            return None
        role = Role.parse(row.role)
        return Session(User(row.id, row.name, role), role, row.csrf)

    def close_session(self, token: str) -> None:
        with self.engine.begin() as c:
            c.execute(delete(web_sessions).where(web_sessions.c.id == digest(token)))

    # -- API tokens ----------------------------------------------------------------------

    def add_token(self, user: User, name: str, role: Role) -> str:
        """A new API token for ``user`` scoped to ``role`` (at most the user's own role)."""
        _check_name(name)
        if role > user.role:
            raise UserError(f"a token cannot carry more than the user's role ({user.role.label})")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.engine.begin() as c:
            c.execute(
                insert(api_tokens).values(
                    user_id=user.id,
                    name=name,
                    token_hash=digest(token),
                    role=role.label,
                    created_ms=_now_ms(),
                )
            )
        return token

    def token_session(self, token: str) -> Session | None:
        if not token.startswith(TOKEN_PREFIX) or len(token) > 128:
            return None
        stmt = (
            select(
                api_tokens.c.id.label("tid"),
                api_tokens.c.role.label("scope"),
                users.c.id,
                users.c.name,
                users.c.role,
            )
            .join(users, users.c.id == api_tokens.c.user_id)
            .where(api_tokens.c.token_hash == digest(token), users.c.disabled.is_(False))
        )
        with self.engine.begin() as c:
            row = c.execute(stmt).first()
            if row is None:
                return None
            c.execute(update(api_tokens).where(api_tokens.c.id == row.tid).values(last_used_ms=_now_ms()))
        user_role = Role.parse(row.role)
        return Session(User(row.id, row.name, user_role), min(user_role, Role.parse(row.scope)), None)


def _verify(hasher: PasswordHasher, hashed: str, password: str) -> bool:
    try:
        return hasher.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
