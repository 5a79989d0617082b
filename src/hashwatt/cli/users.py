"""``hashwatt users``: dashboard users in the fleet database (add, list, remove, token).

Passwords are prompted (twice) or read from standard input with ``--password-stdin``; they
never appear on the command line, where other users of the machine could read them.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer
from rich.markup import escape

from hashwatt.cli._output import JSON_OPTION, console, print_json
from hashwatt.cli.fleet import DB_OPTION
from hashwatt.errors import HashwattError

users_app = typer.Typer(help="Dashboard users and API tokens.", no_args_is_help=True)


class RoleChoice(StrEnum):
    viewer = "viewer"
    operator = "operator"
    admin = "admin"


def _store(db: str | None):  # type: ignore[no-untyped-def]
    from hashwatt.fleet._config import database_url
    from hashwatt.fleet._store import FleetStore
    from hashwatt.web._users import UserStore

    store = FleetStore.open(database_url(db))
    return store, UserStore(store.engine)


@users_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[
        RoleChoice, typer.Option("--role", help="viewer, operator or admin.")
    ] = RoleChoice.viewer,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    db: DB_OPTION = None,
) -> None:
    """Add a user (the first admin of a new site comes from here)."""
    from hashwatt.web._users import Role

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    store, users = _store(db)
    try:
        user = users.add(name, password, Role.parse(role.value))
    finally:
        store.close()
    console.print(f"added {escape(user.name)} ({user.role.label})", highlight=False)


@users_app.command("list")
def list_(db: DB_OPTION = None, json_out: JSON_OPTION = False) -> None:
    """List users and their roles."""
    store, users = _store(db)
    try:
        rows = [{"name": u.name, "role": u.role.label} for u in users.list()]
    finally:
        store.close()
    if json_out:
        print_json(rows)
        return
    for r in rows:
        console.print(f"{escape(r['name'])}  {r['role']}", highlight=False)


@users_app.command("remove")
def remove(name: Annotated[str, typer.Argument()], db: DB_OPTION = None) -> None:
    """Remove a user, their sessions and tokens."""
    store, users = _store(db)
    try:
        users.remove(name)
    finally:
        store.close()
    console.print(f"removed {escape(name)}", highlight=False)


@users_app.command("token")
def token(
    name: Annotated[str, typer.Argument(help="The user the token acts as.")],
    label: Annotated[str, typer.Option("--label", help="A name for the token.")] = "script",
    role: Annotated[
        RoleChoice, typer.Option("--role", help="Scope (at most the user's role).")
    ] = RoleChoice.viewer,
    db: DB_OPTION = None,
) -> None:
    """Create an API token for scripts (shown once; only its digest is stored)."""
    from hashwatt.web._users import Role

    store, users = _store(db)
    try:
        user = next((u for u in users.list() if u.name == name), None)
        if user is None:
            raise HashwattError(f"no user {name!r}")
        value = users.add_token(user, label, Role.parse(role.value))
    finally:
        store.close()
    print(value)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")


__all__ = ["register", "users_app"]
