"""Writing a report to a file on disk (the management commands)."""

import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_file(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write through a temporary file beside `path` and rename it, so that a failed report never leaves
    a half-written file under the report's name."""
    partial = path.with_name(path.name + ".part")
    try:
        with partial.open("wb") as output:
            write(output)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
