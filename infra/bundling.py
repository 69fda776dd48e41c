"""Build Lambda assets without Docker: the common layer and one folder per function, under ``.build/``."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from spendwatch.platform.resources import FUNCTIONS

# Lambda's arm64 Python 3.11 runtime: only wheels built for it may go into an asset.
PLATFORM = "manylinux2014_aarch64"
IMPLEMENTATION = "cp"
PYTHON_VERSION = "3.11"

_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "tests", ".pytest_cache", ".mypy_cache", "requirements.txt")

Installer = Callable[[Sequence[str], Path], None]


class BundlingError(RuntimeError):
    """An asset cannot be built: missing sources, unpinned requirements or a failed install."""


@dataclass(frozen=True)
class Project:
    """Where the sources live and where assets are built."""

    root: Path
    build_dir: Path

    @property
    def pyproject(self) -> Path:
        """The file whose ``[project].dependencies`` the layer ships."""
        return self.root / "pyproject.toml"

    @property
    def package_dir(self) -> Path:
        """The shared ``spendwatch`` package."""
        return self.root / "layers" / "common" / "python" / "spendwatch"

    @property
    def functions_dir(self) -> Path:
        """The folder holding one package per function."""
        return self.root / "functions"


@dataclass(frozen=True)
class Assets:
    """Built asset folders, ready for ``lambda.Code.from_asset``."""

    layer: Path
    functions: Mapping[str, Path] = field(default_factory=dict)


def pip_install(requirements: Sequence[str], target: Path) -> None:
    """Install ``requirements`` into ``target`` as binary wheels for Lambda's arm64 CPython 3.11."""
    requirements_file = target.parent / f"{target.name}.requirements.txt"
    requirements_file.write_text("\n".join(requirements) + "\n", encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",  # .pyc files compiled here would only bloat the asset
        "--platform",
        PLATFORM,
        "--implementation",
        IMPLEMENTATION,
        "--python-version",
        PYTHON_VERSION,
        "--only-binary=:all:",
        "--target",
        str(target),
        "-r",
        str(requirements_file),
    ]
    try:
        subprocess.run(command, check=True)  # noqa: S603 - fixed argument list, no shell
    except subprocess.CalledProcessError as exc:
        raise BundlingError(f"pip could not install {', '.join(requirements)} for {PLATFORM}") from exc
    finally:
        requirements_file.unlink(missing_ok=True)


def parse_pinned(lines: Iterable[str], origin: str) -> list[str]:
    """Requirement lines without comments, each pinned with ``==`` so every synth ships the same code."""
    pinned = []
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if "==" not in line:
            raise BundlingError(f"{origin}: {line!r} is not pinned; use name==version")
        pinned.append(line)
    return pinned


def pinned_requirements(pyproject: Path) -> list[str]:
    """The pinned ``[project].dependencies`` of ``pyproject``."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    return parse_pinned(data.get("project", {}).get("dependencies", []), str(pyproject))


def requirements_digest(requirements: Sequence[str]) -> str:
    """A key for an installed requirement set: it changes with any requirement or the target platform."""
    payload = json.dumps(
        {
            "requirements": sorted(requirements),
            "platform": PLATFORM,
            "implementation": IMPLEMENTATION,
            "python": PYTHON_VERSION,
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def cached_install(requirements: Sequence[str], cache_dir: Path, installer: Installer = pip_install) -> Path:
    """A folder with ``requirements`` installed, built once per distinct requirement set."""
    final = cache_dir / requirements_digest(requirements)
    if final.is_dir():
        return final
    # Install beside the final folder and rename, so an interrupted install never looks like a cache hit.
    partial = cache_dir / f"{final.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    installer(requirements, partial)
    shutil.rmtree(partial / "bin", ignore_errors=True)  # console scripts are useless inside Lambda
    partial.rename(final)
    return final


def _link_or_copy(source: str, destination: str) -> None:
    # Hard links make assembling a 50 MB layer from the cache instant; copy where linking is impossible.
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def _fresh(directory: Path) -> Path:
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return directory


def build_layer(project: Project, *, include_dependencies: bool = True, installer: Installer = pip_install) -> Path:
    """Assemble the common layer: ``python/spendwatch`` plus the pinned runtime dependencies."""
    if not project.package_dir.is_dir():
        raise BundlingError(f"shared package not found at {project.package_dir}")
    layer = _fresh(project.build_dir / "layer" / "common")
    python_dir = layer / "python"
    if include_dependencies:
        installed = cached_install(pinned_requirements(project.pyproject), project.build_dir / "cache", installer)
        shutil.copytree(installed, python_dir, copy_function=_link_or_copy)
    shutil.copytree(project.package_dir, python_dir / "spendwatch", ignore=_IGNORE, dirs_exist_ok=True)
    return layer


def entry_modules(package: str) -> list[str]:
    """Files (under ``functions/``) holding the handlers of ``package``: one package may serve several functions."""
    modules = [
        entry.rpartition(".")[0].replace(".", "/") + ".py"
        for entry in FUNCTIONS.values()
        if entry.startswith(f"{package}.")
    ]
    return modules or [f"{package}/handler.py"]


def build_function(
    project: Project,
    name: str,
    config_text: str,
    *,
    config_file_name: str,
    include_dependencies: bool = True,
    installer: Installer = pip_install,
) -> Path:
    """Assemble one function's asset: its package, its own pinned extras if any, and the config file."""
    source = project.functions_dir / name
    for module in entry_modules(name):
        if not (project.functions_dir / module).is_file():
            raise BundlingError(f"function {name!r}: {project.functions_dir / module} not found")
    asset = _fresh(project.build_dir / "functions" / name)
    # Heavy libraries only one function needs go in functions/<name>/requirements.txt, not in the shared layer.
    extras = source / "requirements.txt"
    if include_dependencies and extras.is_file():
        requirements = parse_pinned(extras.read_text(encoding="utf-8").splitlines(), str(extras))
        installed = cached_install(requirements, project.build_dir / "cache", installer)
        shutil.copytree(installed, asset, copy_function=_link_or_copy, dirs_exist_ok=True)
    shutil.copytree(source, asset / name, ignore=_IGNORE)
    (asset / config_file_name).write_text(config_text, encoding="utf-8")
    return asset


def build_assets(
    project: Project,
    functions: Iterable[str],
    config_text: str,
    *,
    config_file_name: str,
    include_dependencies: bool = True,
    installer: Installer = pip_install,
) -> Assets:
    """Build the layer and every named function."""
    layer = build_layer(project, include_dependencies=include_dependencies, installer=installer)
    built = {
        name: build_function(
            project,
            name,
            config_text,
            config_file_name=config_file_name,
            include_dependencies=include_dependencies,
            installer=installer,
        )
        for name in functions
    }
    return Assets(layer=layer, functions=built)
