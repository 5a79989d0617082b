"""Pool groups from a file (``hashwatt serve --pool-groups``): read, checked, offered by the page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hashwatt.web import PoolGroup, PoolGroupsError, WebConfig, create_app, load_pool_groups
from tests.web.conftest import FAST_HASHER, Web, csrf_of

GOOD = """
[[group]]
name = "main"
url = "stratum+tcp://pool.example.com:3333"
user = "site1.rack"

[[group]]
name = "backup, second account"
url = "stratum+ssl://backup.example.net:443"
user = "site1.spare"
"""


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "groups.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_groups_are_read_in_file_order(tmp_path: Path) -> None:
    assert load_pool_groups(_file(tmp_path, GOOD)) == (
        PoolGroup("main", "stratum+tcp://pool.example.com:3333", "site1.rack"),
        PoolGroup("backup, second account", "stratum+ssl://backup.example.net:443", "site1.spare"),
    )


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ("", "group", "[[group]]"),
        ('title = "x"\n' + GOOD, "group", "nothing else"),
        ('[[group]]\nname = "a"\nurl = "stratum+tcp://p:1"\n', "group.0", "name, url and user"),
        (
            '[[group]]\nname = "a"\nurl = "stratum+tcp://p:1"\nuser = "u"\npassword = "x"\n',
            "group.0",
            "found",
        ),
        ('[[group]]\nname = ""\nurl = "stratum+tcp://p:1"\nuser = "u"\n', "group.0.name", "1-64"),
        (
            GOOD + '[[group]]\nname = "main"\nurl = "stratum+tcp://p:1"\nuser = "u"\n',
            "group.2.name",
            "earlier",
        ),
        ('[[group]]\nname = "a"\nurl = "http://p:1"\nuser = "u"\n', "group.0.url", "stratum+tcp://HOST:PORT"),
        (
            '[[group]]\nname = "a"\nurl = "stratum+tcp://p"\nuser = "u"\n',
            "group.0.url",
            "without credentials",
        ),
        ('[[group]]\nname = "a"\nurl = 3333\nuser = "u"\n', "group.0.url", "got 3333"),
        ('[[group]]\nname = "a"\nurl = "stratum+tcp://p:1"\nuser = ""\n', "group.0.user", "1-128"),
    ],
)
def test_every_fault_is_one_typed_error_naming_file_and_key(
    tmp_path: Path, text: str, field: str, words: str
) -> None:
    path = _file(tmp_path, text)
    with pytest.raises(PoolGroupsError, match=re.escape(words)) as info:
        load_pool_groups(path)
    assert (info.value.field, info.value.path) == (field, str(path))
    assert str(path) in str(info.value)


def test_a_url_with_a_password_is_refused_without_showing_it(tmp_path: Path) -> None:
    path = _file(tmp_path, '[[group]]\nname = "a"\nurl = "stratum+tcp://acct:s3cret@p:1"\nuser = "u"\n')
    with pytest.raises(PoolGroupsError) as info:
        load_pool_groups(path)
    assert info.value.field == "group.0.url"
    assert "s3cret" not in str(info.value) and "s3cret" not in repr(info.value.value)


def test_a_missing_or_broken_file_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(PoolGroupsError, match="not found"):
        load_pool_groups(tmp_path / "absent.toml")
    with pytest.raises(PoolGroupsError, match="not valid TOML"):
        load_pool_groups(_file(tmp_path, "[[group]\n"))


def test_the_devices_page_offers_the_file_s_groups_and_the_api_applies_one(web: Web, tmp_path: Path) -> None:
    groups = load_pool_groups(_file(tmp_path, GOOD))
    web.app = create_app(web.store, WebConfig(password_hasher=FAST_HASHER, pool_groups=groups))
    c = web.login("operator")
    page = c.get("/devices").text
    assert "<option>main</option>" in page and "<option>backup, second account</option>" in page
    ids = [r["id"] for r in c.get("/api/v1/devices", params={"per_page": 2}).json()["rows"]]
    r = c.post(
        "/api/v1/actions",
        json={
            "action": "pool",
            "device_ids": ids,
            "params": {"group": "backup, second account"},
            "confirm": True,
        },
        headers={"X-CSRF-Token": csrf_of(c)},
    )
    assert r.status_code == 200, r.text
