"""Twin site-file errors carry the offending key and value (and the file) as attributes."""

from __future__ import annotations

from pathlib import Path

import pytest

from hashwatt.twin import SiteFileError, build_twins, expand_range, load_site


@pytest.mark.parametrize("text", ["127.0.1.9-127.0.1.1", "127.0.0.1-127.9.0.0", "10.0.0.1", "nonsense"])
def test_range_errors_carry_the_range(text: str) -> None:
    with pytest.raises(SiteFileError) as info:
        expand_range(text)
    assert (info.value.field, info.value.value) == ("range", text)


def test_a_crowded_group_names_its_range(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text('[[group]]\nmodel = "S19 Pro"\ncount = 3\nrange = "127.0.1.1-127.0.1.2"\n')
    with pytest.raises(SiteFileError) as info:
        build_twins(load_site(path), now_s=0.0)
    assert (info.value.field, info.value.value) == ("range", "127.0.1.1-127.0.1.2")
