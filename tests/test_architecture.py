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


def test_transactions_and_accounts_never_import_compliance():
    """The facts and the user's own (sign-in, two-factor, language) stand below the policy."""
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name for name in imported_modules(path) if name.split(".")[0] == "compliance"
        )
        for app in ("transactions", "accounts")
        for path in (ROOT / app).rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_project_never_needs_the_shared_folder():
    for path in ROOT.rglob("*"):
        if path.is_file() and path.suffix in {".py", ".cfg", ".toml", ".txt", ""} and ".venv" not in path.parts:
            if ".git" in path.parts or path == Path(__file__).resolve():
                continue
            assert "../shared" not in path.read_text(encoding="utf-8", errors="ignore"), path


# --- No circle of imports, lazy imports included ------------------------------------------------------------

PACKAGES = ("accounts", "audit", "compliance", "config", "transactions")


def project_modules() -> dict[str, Path]:
    """Every module of the project's packages, by dotted name (a package by its __init__)."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def import_edges(name: str, path: Path, known: set[str]) -> set[str]:
    """The project's modules that `name` imports anywhere in its file, inside functions too: an import put in
    a function to dodge a circle is a circle all the same. `from package import module` is an edge to the
    module; importing a module also runs its package's __init__."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                submodule = f"{module}.{alias.name}"
                targets.add(submodule if submodule in known else module)
    edges = set()
    for target in targets:
        parts = target.split(".")
        edges.update(".".join(parts[:end]) for end in range(1, len(parts) + 1))
    return {edge for edge in edges if edge in known and edge != name and not name.startswith(edge + ".")}


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    circles.append(sorted(component))
    return circles


def project_import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: import_edges(name, path, set(modules)) for name, path in modules.items()}


def test_the_import_graph_finds_a_circle_when_there_is_one():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert import_circles(graph) == [["a", "b", "c"]]


def test_no_module_of_the_project_imports_itself_through_others():
    graph = project_import_graph()
    assert "compliance.alerts.recording" in graph["compliance.caps.ledger"]  # the graph sees the project's imports
    assert import_circles(graph) == []


# --- One direction between the rooms of compliance/ ---------------------------------------------------------

# The sub-packages of compliance/, lowest first: a module may import its own room and the rooms below it,
# never one above. The doors (admin pages, API, tasks, commands, views, template tags, the demo) stand on
# top; nothing but a door imports a door. See the README's layout section.
ROOMS = (
    "common",  # days, business days, queueing by task name: leaves
    "models",
    "rules",  # figures and rules that move nothing: allocation, utilisation, terms, classification, quote rule
    "alerts",  # recording alerts and breaches, who receives them
    "caps",  # what moves the cap ledger: the gates, invoices, credit notes, rates, caps and categories
    "lifecycle",  # cap revisions and renewals
    "imports",  # imports from the ERP and the completeness check
    "delivery",  # links, messages, the outbox
    "reports",  # what the reports read, and each report as workbook and PDF
    "evidence",  # monthly sign-offs, acknowledgements, the auditors' timetable, evidence binders
    "jobs",  # periodic sweeps, mailings, reconciliation, report jobs
)
DOORS = ("admin", "site", "api", "tasks", "management", "templatetags", "views", "acknowledge", "demo", "apps")


def room(module: str) -> int | None:
    """The rank of a module of compliance/ (doors above every room), None outside compliance."""
    parts = module.split(".")
    if parts[0] != "compliance":
        return None
    if len(parts) == 1 or parts[1] == "migrations":
        return len(ROOMS) + 1
    if parts[1] in DOORS:
        return len(ROOMS)
    return ROOMS.index(parts[1])


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        if room(module) is not None
        for target in targets
        if room(target) is not None and room(target) > room(module) and room(module) <= len(ROOMS)
    )


def test_every_module_of_compliance_is_in_a_room_or_a_door():
    graph = project_import_graph()
    stray = [
        name
        for name in graph
        if name.startswith("compliance.") and name.split(".")[1] not in (*ROOMS, *DOORS, "migrations")
    ]
    assert stray == []


def test_the_direction_check_finds_an_upward_import():
    graph = {"compliance.rules.terms": {"compliance.caps.ledger"}, "compliance.caps.ledger": {"compliance.rules.terms"}}
    assert upward_imports(graph) == ["compliance.rules.terms -> compliance.caps.ledger"]
    assert upward_imports({"compliance.jobs.sweeps": {"compliance.admin.orders"}}) == [
        "compliance.jobs.sweeps -> compliance.admin.orders"
    ]


def test_no_room_of_compliance_imports_a_room_above_it_or_a_door():
    assert upward_imports(project_import_graph()) == []


def test_the_policy_app_holds_no_sign_in_code():
    graph = project_import_graph()
    assert "accounts.access" in graph and "accounts.lockout" in graph
    assert not [n for n in graph if n.startswith("compliance") and n.split(".")[-1] in ("access", "lockout")]


# --- Each module imports first, in a fresh interpreter ----------------------------------------------------

# Django's apps are set up without the admin's autodiscovery (which imports every admin module in its own
# order, hiding a circle), then each module is imported first by a child forked from that interpreter:
# nothing of the project is loaded but what setting up the apps loads (their models and AppConfigs).
IMPORT_EACH_FIRST = """
import importlib, json, os, sys, traceback
from django.contrib.admin.apps import AdminConfig, SimpleAdminConfig
AdminConfig.ready = SimpleAdminConfig.ready
import django
django.setup()
names = json.loads(sys.argv[1])
loaded = sorted(name for name in names if name in sys.modules)
failures = {}
for name in names:
    if name in loaded:
        continue
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            importlib.import_module(name)
            code = 0
        except BaseException:
            os.write(write, traceback.format_exc(limit=-3).encode())
            code = 1
        os._exit(code)
    os.close(write)
    with os.fdopen(read) as pipe:
        error = pipe.read()
    os.waitpid(pid, 0)
    if error:
        failures[name] = error
print(json.dumps({"loaded_by_setup": loaded, "failures": failures}))
"""


def test_every_module_imports_first_in_a_fresh_interpreter():
    import json
    import os
    import secrets
    import subprocess
    import sys

    import pytest

    if not hasattr(os, "fork"):
        pytest.skip("imports each module in a forked child: needs os.fork")
    names = sorted(project_modules())
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        # What config.settings.production asks for; nothing here connects to anything.
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "localhost",
        "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cct"),
    }
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH_FIRST, json.dumps(names)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout.splitlines()[-1])
    assert outcome["failures"] == {}
    # Setting up the apps loads only models, AppConfigs and what they need, never the services or the admin.
    assert "compliance.caps.approval" not in outcome["loaded_by_setup"]
    assert len(names) - len(outcome["loaded_by_setup"]) > 100


# --- Functions short enough to read, and the user they act for typed --------------------------------------

CODE_ROOTS = (*PACKAGES, "bench", "scripts")
LONGEST_FUNCTION = 60  # lines, from `def` (decorators excluded) to the last line of the body

# Functions still longer, each named by path:qualified name. This list only ever shrinks: a function on it
# that is no longer too long fails the test below until it is taken off.
LONG_FUNCTIONS_ALLOWED: set[str] = set()


def functions_in(source: str) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every function and method of a module, nested ones too, by qualified name (`Class.method`)."""
    found = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                found.append((prefix + child.name, child))
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return found


def long_functions(source: str, path: str) -> dict[str, int]:
    """`path:name` to length in lines, for each function of the module longer than LONGEST_FUNCTION."""
    lengths = {f"{path}:{name}": node.end_lineno - node.lineno + 1 for name, node in functions_in(source)}
    return {name: length for name, length in lengths.items() if length > LONGEST_FUNCTION}


def unannotated_user_parameters(source: str, path: str) -> list[str]:
    """`path:line:function` for each parameter named `user` without a type annotation."""
    return [
        f"{path}:{node.lineno}:{name}"
        for name, node in functions_in(source)
        for argument in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)
        if argument.arg == "user" and argument.annotation is None
    ]


def project_sources() -> dict[str, str]:
    """The source of every module of the project's code (migrations and tests excluded), by path."""
    return {
        path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8")
        for root in CODE_ROOTS
        for path in sorted((ROOT / root).rglob("*.py"))
        if "migrations" not in path.parts
    }


def test_the_length_check_finds_a_function_over_sixty_lines():
    statements = [f"x{n} = {n}" for n in range(59)]
    short = "def short():\n" + "".join(f"    {line}\n" for line in statements)  # 60 lines: allowed
    long = "    def long(self):\n" + "".join(f"        {line}\n" for line in [*statements, "return 1"])  # 61
    assert long_functions(f"{short}\n\nclass Report:\n{long}", "m.py") == {"m.py:Report.long": 61}


def test_no_function_of_the_project_is_longer_than_sixty_lines():
    found = {}
    for path, source in project_sources().items():
        found.update(long_functions(source, path))
    offenders = sorted(f"{name}:{length}" for name, length in found.items() if name not in LONG_FUNCTIONS_ALLOWED)
    assert offenders == [], "split by step (path:name:lines): " + ", ".join(offenders)
    # The allowance only shrinks: a function allowed that is now short enough (or gone) comes off the list.
    shortened = sorted(LONG_FUNCTIONS_ALLOWED - set(found))
    assert shortened == [], "no longer over 60 lines, take off LONG_FUNCTIONS_ALLOWED: " + ", ".join(shortened)


def test_the_annotation_check_finds_an_untyped_user():
    source = 'def typed(*, user: "User"):\n    pass\n\n\ndef untyped(order, *, user=None):\n    pass\n'
    assert unannotated_user_parameters(source, "m.py") == ["m.py:5:untyped"]


def test_every_user_parameter_of_the_project_is_typed():
    offenders = [
        line for path, source in project_sources().items() for line in unannotated_user_parameters(source, path)
    ]
    assert offenders == [], 'annotate (user: "User", from transactions.users): ' + ", ".join(offenders)
