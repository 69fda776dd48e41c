"""The floor plan (docs/architecture.md) holds: an AST walk over the project's code checks what may import what."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
# Where each import root lives: the shared layer, the functions (each folder a top-level package), local, bench.
SOURCES = {
    "spendwatch": ROOT / "layers" / "common" / "python",
    "collect": ROOT / "functions",
    "api": ROOT / "functions",
    "alert": ROOT / "functions",
    "report": ROOT / "functions",
    "spendwatch_local": ROOT / "local",
    "bench": ROOT,
    "infra": ROOT,
    "tools": ROOT,
}
FUNCTION_PACKAGES = ("collect", "api", "alert", "report")
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60
# Only the store knows the table's keys: these names and string constants appear nowhere else.
KEY_NAMES = {
    "PK",
    "SK",
    "ITEM_TYPE",
    "KEY_ATTRIBUTES",
    "cost_pk",
    "day_agg_pk",
    "month_agg_pk",
    "usage_pk",
    "idempotency_pk",
    "ALERTS_PK",
    "BUDGETS_PK",
    "REPORTS_PK",
    "RUNS_PK",
    "to_item",
    "from_item",
    "strip_keys",
    "encode_token",
    "decode_token",
}
KEY_STRINGS = {"pk", "sk", "item_type"}
STORE_INTERNALS = ("spendwatch.store.keys", "spendwatch.store.base")
# Pure domain code: no AWS SDK, no HTTP client, no store, no Lambda tooling; of the platform, only the clock.
DOMAIN_FORBIDDEN = (
    "boto3",
    "botocore",
    "httpx",
    "aws_lambda_powertools",
    "spendwatch.store",
    "spendwatch.channels",
    "spendwatch_local",
)
DOMAIN_PLATFORM_ALLOWED = ("spendwatch.platform.clock",)


@dataclass
class Module:
    """One source file: its dotted name, its tree, and what it imports (module-level and lazy alike)."""

    name: str
    path: Path
    tree: ast.Module
    imports: set[str] = field(default_factory=set)
    typing_only: set[str] = field(default_factory=set)

    @property
    def package(self) -> str:
        return self.name if self.path.name == "__init__.py" else self.name.rpartition(".")[0]


def _module_name(root: str, path: Path) -> str:
    base = SOURCES[root]
    parts = list(path.relative_to(base).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _source_files() -> Iterator[tuple[str, Path]]:
    for root, base in SOURCES.items():
        top = base / root
        if not top.exists():
            continue
        for path in sorted(top.rglob("*.py")):
            if "__pycache__" not in path.parts:
                yield root, path


def _resolve(module: Module, node: ast.ImportFrom) -> list[str]:
    if node.level:
        anchor = module.package.split(".")
        anchor = anchor[: len(anchor) - node.level + 1]
        base = ".".join([*anchor, *([node.module] if node.module else [])])
    else:
        base = node.module or ""
    # ``from x import y`` may import module x.y or name y of x; both are recorded, unknown ones are dropped later.
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def _type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _collect_imports(module: Module) -> None:
    typing_nodes: set[int] = set()
    for node in ast.walk(module.tree):
        if _type_checking_block(node):
            typing_nodes.update(id(child) for child in ast.walk(node))
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = _resolve(module, node)
        else:
            continue
        (module.typing_only if id(node) in typing_nodes else module.imports).update(names)


def _load() -> dict[str, Module]:
    modules: dict[str, Module] = {}
    for root, path in _source_files():
        name = _module_name(root, path)
        module = Module(name, path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        _collect_imports(module)
        modules[name] = module
    return modules


MODULES = _load()


def _project_imports(module: Module, *, typing: bool = False) -> set[str]:
    found = module.imports | (module.typing_only if typing else set())
    return {name for name in found if name in MODULES}


def _imports_matching(module: Module, prefixes: tuple[str, ...]) -> list[str]:
    every = module.imports | module.typing_only
    return sorted(n for n in every if any(n == p or n.startswith(f"{p}.") for p in prefixes))


def _in(module: Module, package: str) -> bool:
    return module.name == package or module.name.startswith(f"{package}.")


def _relative(module: Module) -> str:
    return str(module.path.relative_to(ROOT))


def test_the_walk_sees_the_whole_project() -> None:
    # A rule that sees nothing cannot fail: the walk must find every part of the plan.
    for package in (
        "spendwatch.domain",
        "spendwatch.store",
        "spendwatch.platform",
        "spendwatch.channels",
        "collect",
        "api",
        "alert",
        "spendwatch_local",
        "bench",
    ):
        assert any(_in(m, package) for m in MODULES.values()), package
    assert len(MODULES) > 100


def test_only_the_store_names_keys() -> None:
    offenders = []
    for module in MODULES.values():
        if _in(module, "spendwatch.store"):
            continue
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Name) and node.id in KEY_NAMES:
                offenders.append(f"{_relative(module)}:{node.lineno} names {node.id}")
            elif isinstance(node, ast.Attribute) and node.attr in KEY_NAMES:
                offenders.append(f"{_relative(module)}:{node.lineno} names {node.attr}")
            elif isinstance(node, ast.alias) and node.name in KEY_NAMES:
                offenders.append(f"{_relative(module)} imports {node.name}")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in KEY_STRINGS:
                offenders.append(f"{_relative(module)}:{node.lineno} writes {node.value!r}")
        for name in _imports_matching(module, STORE_INTERNALS):
            offenders.append(f"{_relative(module)} imports {name}")
    assert offenders == []


def test_domain_is_pure() -> None:
    offenders = []
    for module in MODULES.values():
        if not _in(module, "spendwatch.domain"):
            continue
        offenders += [f"{module.name} imports {n}" for n in _imports_matching(module, DOMAIN_FORBIDDEN)]
        platform = _imports_matching(module, ("spendwatch.platform",))
        allowed = [n for n in platform if any(n == a or n.startswith(f"{a}.") for a in DOMAIN_PLATFORM_ALLOWED)]
        offenders += [f"{module.name} imports {n}" for n in platform if n not in allowed]
    assert offenders == []


def test_platform_and_store_stay_below_the_functions() -> None:
    offenders = []
    for module in MODULES.values():
        if not _in(module, "spendwatch"):
            continue
        banned = ("spendwatch_local", *FUNCTION_PACKAGES)
        if _in(module, "spendwatch.platform"):
            banned += ("spendwatch.domain", "spendwatch.store", "spendwatch.channels")
        if _in(module, "spendwatch.channels"):
            # Channels send what they are given: the outbox (reading and recording state) is the caller's.
            banned += ("spendwatch.store",)
        if _in(module, "spendwatch.store"):
            banned += ("spendwatch.channels",)
        offenders += [f"{module.name} imports {n}" for n in _imports_matching(module, banned)]
    assert offenders == []


def test_functions_do_not_import_each_other_or_local() -> None:
    offenders = []
    for module in MODULES.values():
        own = module.name.split(".")[0]
        if own not in FUNCTION_PACKAGES:
            continue
        others = (*(p for p in FUNCTION_PACKAGES if p != own), "spendwatch_local", "bench", "tests")
        offenders += [f"{module.name} imports {n}" for n in _imports_matching(module, others)]
    assert offenders == []


def test_local_calls_functions_only_through_their_handlers() -> None:
    offenders = []
    for module in MODULES.values():
        if not _in(module, "spendwatch_local"):
            continue
        for name in _imports_matching(module, FUNCTION_PACKAGES):
            if not name.endswith(".handler") and f"{name}.handler" not in module.imports:
                offenders.append(f"{module.name} imports {name}")
    assert offenders == []


def test_bench_never_imports_tests() -> None:
    offenders = [
        f"{module.name} imports {name}"
        for module in MODULES.values()
        if _in(module, "bench")
        for name in _imports_matching(module, ("tests",))
    ]
    assert offenders == []


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module in MODULES.values():
        # A package's __init__ importing its own modules is how packages expose names, not a walk back up.
        targets = _project_imports(module) - {module.name}
        if module.path.name == "__init__.py":
            targets = {t for t in targets if not t.startswith(f"{module.name}.")}
        graph[module.name] = targets
    return graph


def test_no_import_cycle() -> None:
    assert _cycle(_graph()) is None


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def _functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


@pytest.mark.parametrize("limit", [MAX_MODULE_LINES])
def test_no_module_over_the_limit(limit: int) -> None:
    long = [
        f"{_relative(m)}: {n} lines"
        for m in MODULES.values()
        if (n := len(m.path.read_text(encoding="utf-8").splitlines())) > limit
    ]
    assert long == []


def test_no_function_over_the_limit() -> None:
    long = [
        f"{_relative(m)}:{f.lineno} {f.name}: {f.end_lineno - f.lineno + 1} lines"
        for m in MODULES.values()
        for f in _functions(m.tree)
        if f.end_lineno is not None and f.end_lineno - f.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []
