"""spendwatch.toml's ``[policy]`` and ``[utilisation]`` tables: defaults, the contract's shape, named mistakes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from spendwatch.domain.config import ConfigError, parse_config, parse_percent


def test_defaults_without_the_tables() -> None:
    config = parse_config("")
    assert config.policy.required_tags == []
    assert (config.utilisation.cpu, config.utilisation.memory) == ("70%", "80%")
    assert (config.utilisation.cpu_ratio, config.utilisation.memory_ratio) == (Decimal("0.7"), Decimal("0.8"))


def test_the_tables_load() -> None:
    config = parse_config('[policy]\nrequired_tags = ["team", "env"]\n\n[utilisation]\ncpu = "65.5%"\nmemory = "90%"\n')
    assert config.policy.required_tags == ["team", "env"]
    assert config.utilisation.cpu_ratio == Decimal("0.655")
    assert config.utilisation.memory_ratio == Decimal("0.9")


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[utilisation]\ncpu = "170%"', "utilisation.cpu"),
        ('[utilisation]\ncpu = "0%"', "utilisation.cpu"),
        ('[utilisation]\nmemory = "80"', "utilisation.memory"),
        ("[utilisation]\nmemory = 80", "utilisation.memory"),
        ('[utilisation]\ndisk = "80%"', "utilisation.disk"),
        ('[policy]\nrequired_tags = ["team", "team"]', "policy.required_tags"),
        ('[policy]\nrequired_tags = ["has space"]', "policy.required_tags"),
        ('[policy]\nrequired_tags = "team"', "policy.required_tags"),
        ("[policy]\nrequire_tags = []", "policy.require_tags"),
    ],
)
def test_mistakes_name_table_and_key(text: str, named: str) -> None:
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        parse_config(text)


def test_parse_percent() -> None:
    assert parse_percent("100%") == 1
    with pytest.raises(ValueError, match="percentage"):
        parse_percent("70")
