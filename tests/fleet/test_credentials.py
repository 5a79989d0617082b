"""The credentials file: precedence device > site > model > factory default, and no secret
in any error it raises."""

from __future__ import annotations

from pathlib import Path

import pytest

from hashwatt.fleet import Firmware
from hashwatt.fleet._credentials import load_credentials_file
from hashwatt.fleet.errors import CredentialsFileError

SECRET = "pw-cr3d-5531"

GOOD = f"""
[device."10.0.0.5"]
user = "root"
password = "{SECRET}-dev"

[device."10.0.0.6:4029"]
user = "ops"
password_env = "HW_TEST_DEVICE_PW"

[site.north]
user = "root"
password = "{SECRET}-site"

[model."Antminer S19 Pro"]
user = "root"
password = "{SECRET}-model"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "credentials.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_precedence_is_device_then_site_then_model_then_factory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HW_TEST_DEVICE_PW", f"{SECRET}-env")
    store = load_credentials_file(_write(tmp_path, GOOD))

    def password(**where: str) -> tuple[str, bool]:
        r = store.resolve(Firmware.STOCK, **where)
        return r.credentials.password, r.factory

    model = "antminer s19 pro"  # the firmware's spelling, any case
    assert password(host="10.0.0.5", site="north", model=model) == (f"{SECRET}-dev", False)
    assert password(host="10.0.0.6", address="10.0.0.6:4029", site="north") == (f"{SECRET}-env", False)
    assert password(host="10.0.0.7", site="north", model=model) == (f"{SECRET}-site", False)
    assert password(host="10.0.0.7", site="south", model=model) == (f"{SECRET}-model", False)
    assert password(host="10.0.0.7", site="south", model="Antminer S21") == ("root", True)
    assert store.resolve(Firmware.WHATSMINER_V3, host="10.0.0.8").credentials.user == "super"
    assert SECRET not in repr(store)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (f'[device."10.0.0.5"]\nuser = "root"\npassword = "{SECRET}"\nextra = 1\n', "extra"),
        (f'[device."10.0.0.5"]\nuser = "root"\npassword = "{SECRET}"\npassword_env = "X"\n', "exactly one"),
        ('[device."10.0.0.5"]\npassword = 5\nuser = "root"\n', "password"),
        (f'[device."10.0.0.5"]\npassword = "{SECRET}"\n', "user"),
        (f'[devices."10.0.0.5"]\nuser = "root"\npassword = "{SECRET}"\n', "devices"),
        (f'[site.north]\nuser = "root"\npassword = "{SECRET}\n', "not valid TOML"),
        ('[site.north]\nuser = "root"\npassword_env = "HW_TEST_UNSET_PW"\n', "HW_TEST_UNSET_PW"),
    ],
)
def test_a_bad_file_is_one_error_without_the_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, needle: str
) -> None:
    monkeypatch.delenv("HW_TEST_UNSET_PW", raising=False)
    with pytest.raises(CredentialsFileError) as info:
        load_credentials_file(_write(tmp_path, text))
    message = str(info.value)
    assert needle in message and SECRET not in message and "\n" not in message


def test_a_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(CredentialsFileError, match="credentials file not found"):
        load_credentials_file(tmp_path / "nope.toml")
