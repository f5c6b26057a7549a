"""Writing fixture files in the format that tests/common/mod.rs reads.

One named array per line: `name shape v0 v1 ...`, shape as dimensions joined by `x`,
values in row-major order printed with `repr` so a float64 round-trips exactly.
Files are written atomically: a temporary file in the same directory, then a rename.
"""

import os
import tempfile

import numpy as np


def format_array(name, values):
    array = np.asarray(values, dtype=np.float64)
    shape = "x".join(str(d) for d in array.shape) if array.ndim else "1"
    body = " ".join(repr(float(v)) for v in array.reshape(-1))
    return f"{name} {shape} {body}\n"


def write_fixture(path, arrays, header):
    """Write `arrays` (a dict name -> array-like, in insertion order) to `path`."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".fixture-")
    try:
        with os.fdopen(fd, "w") as out:
            for line in header.strip().splitlines():
                out.write(f"# {line}\n")
            for name, values in arrays.items():
                if any(c.isspace() for c in name):
                    raise ValueError(f"array name {name!r} contains whitespace")
                out.write(format_array(name, values))
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
