"""The type stubs describe what the native module has: every class and
member in _tether.pyi exists, and every public one of the module is in it."""

import ast
import pathlib

import tether
from tether import _tether


def stub_names():
    tree = ast.parse((pathlib.Path(tether.__file__).parent / "_tether.pyi").read_text())
    names = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names[node.name] = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
        elif isinstance(node, ast.FunctionDef):
            names[node.name] = None
    return names


def test_stubs_match_the_native_module():
    stubs = stub_names()
    module = {n for n in dir(_tether) if not n.startswith("__")}
    assert set(stubs) == module
    for cls, members in stubs.items():
        if members is None:
            continue
        actual = {n for n in dir(getattr(_tether, cls)) if not n.startswith("_")}
        declared = {m for m in members if not m.startswith("_")}
        assert declared == actual, cls


def test_package_exports_exist():
    for name in tether.__all__:
        assert hasattr(tether, name), name
