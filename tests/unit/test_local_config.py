"""The local runtime's effective config: TOML written here reads back as the same validated Config."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from spendwatch.domain.config import ConfigError, parse_config

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


def test_demo_sources_are_added_to_the_user_config() -> None:
    urls = localconfig.DemoUrls(digitalocean="http://127.0.0.1:4001", opencost="http://127.0.0.1:4002")
    config = localconfig.with_demo(parse_config(USER_CONFIG), "spendwatch-data", urls)
    assert [s.name for s in config.enabled_sources] == ["do", "demo-focus", "demo-aws", "demo-do", "demo-k8s"]
    demo = config.source("demo-focus")
    assert (demo.type, demo.path, demo.schedule) == ("focus", "s3://spendwatch-data/demo/focus/", "rate(1 day)")
    aws, do, k8s = (config.source(name) for name in ("demo-aws", "demo-do", "demo-k8s"))
    assert (aws.type, do.type, k8s.type) == ("aws_ce", "digitalocean", "opencost")
    assert (do.url, k8s.url) == (urls.digitalocean, urls.opencost)
    assert (k8s.aggregate, k8s.cluster) == ("namespace", "demo-cluster")
    assert {s.schedule for s in (aws, do, k8s)} == {"rate(1 day)"}
    # One day more than the history: the collectors' windows end today, the history yesterday.
    assert {s.lookback_days for s in (aws, do, k8s)} == {121}
    assert config.currency == "EUR"
    assert config.budgets[0].scope == {"provider": "AWS", "tag": {"team": "data"}}


def test_effective_config_file_reads_back_identically(tmp_path: Path) -> None:
    config = localconfig.with_demo(parse_config(USER_CONFIG), "spendwatch-data")
    written = localconfig.write_effective(config, tmp_path)
    assert written == tmp_path.resolve() / ".spendwatch" / "config.toml"
    assert parse_config(written.read_text(encoding="utf-8")) == config


@pytest.mark.parametrize("name", ["demo-focus", "demo-aws", "demo-do", "demo-k8s"])
def test_a_user_source_named_like_a_demo_source_is_a_clear_error(name: str) -> None:
    clash = parse_config(f'[[sources]]\nname = "{name}"\ntype = "opencost"\n')
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
