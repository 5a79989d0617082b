"""Pool groups from a file: what the devices page's pool action offers (``serve --pool-groups``).

One ``[[group]]`` table per group, three keys each::

    [[group]]
    name = "main"                                 # what the page lists, unique, 1-64 characters
    url = "stratum+tcp://pool.example.com:3333"   # no credentials: passwords stay with the agent
    user = "site1.rack"                           # the worker name the machines log in with
"""

from __future__ import annotations

from pathlib import Path

from hashwatt._redact import redact_url
from hashwatt._toml import read_toml
from hashwatt.errors import InputError
from hashwatt.web._app import POOL_URL, PoolGroup

__all__ = ["PoolGroupsError", "load_pool_groups"]

_KEYS = frozenset({"name", "url", "user"})


class PoolGroupsError(InputError):
    """A pool-groups file hashwatt cannot use: the file, the key (``group.1.url``) and the value."""


def load_pool_groups(path: str | Path) -> tuple[PoolGroup, ...]:
    """The groups of the TOML file at ``path``, in file order; any fault is one :class:`PoolGroupsError`."""
    shown = str(path)
    data = read_toml(path, what="pool-groups file", error=PoolGroupsError)
    tables = data.get("group")
    if not isinstance(tables, list) or not tables or set(data) != {"group"}:
        raise PoolGroupsError(
            f"{shown}: expected one [[group]] table per pool group and nothing else",
            field="group",
            path=shown,
        )
    groups: list[PoolGroup] = []
    for i, table in enumerate(tables):
        key = f"group.{i}"
        if not isinstance(table, dict) or set(table) != _KEYS:
            found = sorted(table) if isinstance(table, dict) else type(table).__name__
            raise PoolGroupsError(
                f"{shown}: {key} needs exactly the keys name, url and user (found {found})",
                field=key,
                path=shown,
            )
        name, url, user = table["name"], table["url"], table["user"]
        if not isinstance(name, str) or not 0 < len(name.strip()) <= 64:
            raise PoolGroupsError(
                f"{shown}: {key}.name must be 1-64 characters", field=f"{key}.name", value=name, path=shown
            )
        if any(g.name == name for g in groups):
            raise PoolGroupsError(
                f"{shown}: {key}.name {name!r} names an earlier group too",
                field=f"{key}.name",
                value=name,
                path=shown,
            )
        if not isinstance(url, str) or not POOL_URL.match(url):
            value = redact_url(url) if isinstance(url, str) else url
            raise PoolGroupsError(
                f"{shown}: {key}.url must be stratum+tcp://HOST:PORT without credentials, got {value!r}",
                field=f"{key}.url",
                value=value,
                path=shown,
            )
        if not isinstance(user, str) or not 0 < len(user) <= 128:
            raise PoolGroupsError(
                f"{shown}: {key}.user must be 1-128 characters", field=f"{key}.user", value=user, path=shown
            )
        groups.append(PoolGroup(name, url, user))
    return tuple(groups)
