"""Imports run one way: compliance -> transactions, never back."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_transactions_never_imports_compliance():
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name for name in imported_modules(path) if name.split(".")[0] == "compliance"
        )
        for path in (ROOT / "transactions").rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_project_never_needs_the_shared_folder():
    for path in ROOT.rglob("*"):
        if path.is_file() and path.suffix in {".py", ".cfg", ".toml", ".txt", ""} and ".venv" not in path.parts:
            if ".git" in path.parts or path == Path(__file__).resolve():
                continue
            assert "../shared" not in path.read_text(encoding="utf-8", errors="ignore"), path
