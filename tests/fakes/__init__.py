"""Fake provider APIs for the tests: the package's fakes (spendwatch_local.fakes) plus fixture-based data."""
