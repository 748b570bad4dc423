"""Python values between nodes: what a read or a write job is, and what it answered.

A read of the shards (`Store.read_each`) is a function of a connection and
its arguments, and its answer a value the caller merges; between nodes both
travel pickled, so the same functions answer on every node and the merge is
the single node's. Only messages signed with the cluster secret are
unpickled (`auth.py`), and then only classes of tracker and of a short list
of standard modules: a message that names anything else is refused.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

ALLOWED_MODULES = frozenset({
    "builtins", "collections", "datetime", "decimal", "functools", "zoneinfo", "_operator",
    "copyreg", "msgspec",
})
ALLOWED_BUILTINS = frozenset({
    "set", "frozenset", "tuple", "list", "dict", "int", "float", "str", "bytes", "bool",
    "complex", "range", "slice", "getattr",
})


class Refused(pickle.UnpicklingError):
    """A message named a class or function outside what nodes send each other."""


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module == "tracker" or module.startswith("tracker."):
            return super().find_class(module, name)
        if module not in ALLOWED_MODULES:
            raise Refused(f"{module}.{name}")
        if module == "builtins" and name not in ALLOWED_BUILTINS:
            raise Refused(f"{module}.{name}")
        return super().find_class(module, name)


def dumps(value: Any) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def loads(data: bytes) -> Any:
    return _Unpickler(io.BytesIO(data)).load()
