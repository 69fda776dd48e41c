"""Asset building without Docker or network: a fake installer stands in for pip."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from infra import bundling
from infra.bundling import BundlingError, Project

ROOT = Path(__file__).resolve().parents[2]


class FakeInstaller:
    """Records each install and writes one module per requirement, as pip --target would."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, requirements: Sequence[str], target: Path) -> None:
        self.calls.append(list(requirements))
        for requirement in requirements:
            name = requirement.split("==")[0].replace("-", "_")
            (target / name).mkdir()
            (target / name / "__init__.py").write_text(f"VERSION = {requirement!r}\n", encoding="utf-8")
        (target / "bin").mkdir()
        (target / "bin" / "tool").write_text("#!/bin/sh\n", encoding="utf-8")


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = tmp_path / "repo"
    package = root / "layers" / "common" / "python" / "spendwatch"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"")
    (root / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = ["pydantic==2.14.3", "httpx==0.28.1"]\n', encoding="utf-8"
    )
    collect = root / "functions" / "collect"
    (collect / "tests").mkdir(parents=True)
    (collect / "handler.py").write_text("def handler(event, context): ...\n", encoding="utf-8")
    (collect / "tests" / "test_handler.py").write_text("", encoding="utf-8")
    return Project(root=root, build_dir=tmp_path / "build")


def test_repository_dependencies_are_all_pinned() -> None:
    requirements = bundling.pinned_requirements(ROOT / "pyproject.toml")
    assert requirements
    assert all("==" in r for r in requirements)


def test_unpinned_requirement_is_refused() -> None:
    with pytest.raises(BundlingError, match="not pinned"):
        bundling.parse_pinned(["httpx>=0.28"], "requirements.txt")


def test_comments_and_blank_lines_are_ignored() -> None:
    assert bundling.parse_pinned(["# heavy", "", "pydo==0.44.0  # DigitalOcean"], "r") == ["pydo==0.44.0"]


def test_digest_ignores_order_but_not_versions() -> None:
    assert bundling.requirements_digest(["a==1", "b==2"]) == bundling.requirements_digest(["b==2", "a==1"])
    assert bundling.requirements_digest(["a==1"]) != bundling.requirements_digest(["a==2"])


def test_install_is_cached_by_requirement_set(tmp_path: Path) -> None:
    fake = FakeInstaller()
    first = bundling.cached_install(["a==1"], tmp_path, fake)
    again = bundling.cached_install(["a==1"], tmp_path, fake)
    other = bundling.cached_install(["a==2"], tmp_path, fake)
    assert first == again != other
    assert fake.calls == [["a==1"], ["a==2"]]
    assert not (first / "bin").exists()


def test_interrupted_install_is_not_a_cache_hit(tmp_path: Path) -> None:
    digest = bundling.requirements_digest(["a==1"])
    (tmp_path / f"{digest}.partial" / "half").mkdir(parents=True)
    fake = FakeInstaller()
    installed = bundling.cached_install(["a==1"], tmp_path, fake)
    assert fake.calls == [["a==1"]]
    assert sorted(p.name for p in installed.iterdir()) == ["a"]


def test_layer_holds_package_and_dependencies_under_python(project: Project) -> None:
    fake = FakeInstaller()
    layer = bundling.build_layer(project, installer=fake)
    assert sorted(p.name for p in (layer / "python").iterdir()) == ["httpx", "pydantic", "spendwatch"]
    assert not list(layer.rglob("__pycache__"))
    bundling.build_layer(project, installer=fake)
    assert len(fake.calls) == 1  # the second build reuses the cached install


def test_layer_without_dependencies_skips_the_installer(project: Project) -> None:
    fake = FakeInstaller()
    layer = bundling.build_layer(project, include_dependencies=False, installer=fake)
    assert fake.calls == []
    assert [p.name for p in (layer / "python").iterdir()] == ["spendwatch"]


def test_function_asset_has_package_config_and_no_tests(project: Project) -> None:
    asset = bundling.build_function(project, "collect", "currency = 'USD'\n", config_file_name="spendwatch.toml")
    assert sorted(p.name for p in asset.iterdir()) == ["collect", "spendwatch.toml"]
    assert sorted(p.name for p in (asset / "collect").iterdir()) == ["handler.py"]
    assert (asset / "spendwatch.toml").read_text(encoding="utf-8") == "currency = 'USD'\n"


def test_function_extras_are_installed_beside_the_package(project: Project) -> None:
    (project.functions_dir / "collect" / "requirements.txt").write_text("pydo==0.44.0\n", encoding="utf-8")
    fake = FakeInstaller()
    asset = bundling.build_function(project, "collect", "", config_file_name="spendwatch.toml", installer=fake)
    assert fake.calls == [["pydo==0.44.0"]]
    assert sorted(p.name for p in asset.iterdir()) == ["collect", "pydo", "spendwatch.toml"]
    assert not (asset / "collect" / "requirements.txt").exists()


def test_rebuild_drops_files_removed_from_the_source(project: Project) -> None:
    extra = project.functions_dir / "collect" / "old.py"
    extra.write_text("", encoding="utf-8")
    bundling.build_function(project, "collect", "", config_file_name="spendwatch.toml")
    extra.unlink()
    asset = bundling.build_function(project, "collect", "", config_file_name="spendwatch.toml")
    assert not (asset / "collect" / "old.py").exists()


def test_missing_function_is_a_clear_error(project: Project) -> None:
    with pytest.raises(BundlingError, match=r"handler\.py not found"):
        bundling.build_function(project, "report", "", config_file_name="spendwatch.toml")
