"""The local runtime's effective config: TOML written here reads back as the same validated Config."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from spendwatch.config import ConfigError, parse_config
from spendwatch_local import localconfig, tomlout

USER_CONFIG = """
currency = "EUR"
timezone = "Europe/Berlin"

[[sources]]
name = "do"
type = "digitalocean"
schedule = "cron(0 */6 * * ? *)"

[[budgets]]
name = "total \\"all\\""
amount = "500.00"
period = "month"
scope = {provider = "AWS", tag = {team = "data"}}
thresholds = ["50%", "$150", "forecast:100%"]
"""


def test_dumps_round_trips_through_tomllib() -> None:
    document = {
        "title": 'quotes " and \\ and \n newline and \x7f del and é',
        "count": 3,
        "ratio": 0.25,
        "on": True,
        "skipped": None,
        "list": ["a", 1, False],
        "table": {"inner": {"deep": "x"}, "odd key": 1, "gone": None},
        "rows": [{"name": "a", "tags": {"k": "v"}}, {"name": "b"}],
        "empty": [],
    }
    expected = {key: value for key, value in document.items() if value is not None}
    expected["table"] = {"inner": {"deep": "x"}, "odd key": 1}
    assert tomllib.loads(tomlout.dumps(document)) == expected


def test_none_inside_a_list_cannot_be_written() -> None:
    with pytest.raises(tomlout.TomlWriteError):
        tomlout.dumps({"list": [1, None]})


def test_demo_source_is_added_to_the_user_config() -> None:
    config = localconfig.with_demo(parse_config(USER_CONFIG), "spendwatch-data")
    assert [s.name for s in config.enabled_sources] == ["do", "demo-focus"]
    demo = config.source("demo-focus")
    assert (demo.type, demo.path, demo.schedule) == ("focus", "s3://spendwatch-data/demo/focus/", "rate(1 day)")
    assert config.currency == "EUR"
    assert config.budgets[0].scope == {"provider": "AWS", "tag": {"team": "data"}}


def test_effective_config_file_reads_back_identically(tmp_path: Path) -> None:
    config = localconfig.with_demo(parse_config(USER_CONFIG), "spendwatch-data")
    written = localconfig.write_effective(config, tmp_path)
    assert written == tmp_path.resolve() / ".spendwatch" / "config.toml"
    assert parse_config(written.read_text(encoding="utf-8")) == config


def test_a_user_source_named_like_the_demo_is_a_clear_error() -> None:
    clash = parse_config('[[sources]]\nname = "demo-focus"\ntype = "opencost"\n')
    with pytest.raises(ConfigError, match="duplicate source names"):
        localconfig.with_demo(clash, "spendwatch-data")


def test_config_path_precedence(tmp_path: Path) -> None:
    assert localconfig.config_path("flag.toml", {"SPENDWATCH_CONFIG": "env.toml"}) == Path("flag.toml")
    assert localconfig.config_path(None, {"SPENDWATCH_CONFIG": "env.toml"}) == Path("env.toml")
    assert localconfig.config_path(None, {}) == Path("spendwatch.toml")


def test_missing_config_is_an_error_unless_running_the_demo(tmp_path: Path) -> None:
    missing = tmp_path / "spendwatch.toml"
    with pytest.raises(localconfig.MissingConfigError, match="no config file at"):
        localconfig.read_config(missing)
    assert localconfig.read_config(missing, allow_missing=True).sources == []
