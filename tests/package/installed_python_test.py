"""The tether Python package as installed (tests/package/check-python.sh runs
this with PYTHONPATH at an installed tree only: a `cmake --install` prefix or
an unpacked python3-tether .deb): it imports from there, finds libtether
there, ships its stubs and dist-info, calls a real agent, and pytest loads its
plugin through the pytest11 entry point.

Environment: TETHER_INSTALL_ROOT (the installed tree), TETHER_AGENT_BINARY,
TETHER_VERSION (the project's), TETHER_SOURCE_DIR, TETHER_BUILD_DIR."""

import importlib.metadata
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

import tether
from tether import _tether

ROOT = pathlib.Path(os.environ["TETHER_INSTALL_ROOT"]).resolve()
SOURCE = pathlib.Path(os.environ["TETHER_SOURCE_DIR"]).resolve()
BUILD = pathlib.Path(os.environ["TETHER_BUILD_DIR"]).resolve()
PACKAGE = pathlib.Path(tether.__file__).resolve().parent

# The loopback agent as python/tests starts it (one helper, not a copy).
sys.path.append(str(SOURCE / "python" / "tests"))
from conftest import Agent  # noqa: E402


def under(path, root):
    return pathlib.Path(path).resolve().is_relative_to(root)


@pytest.fixture(scope="module")
def agent():
    a = Agent()
    yield a
    a.stop()


def test_the_package_and_libtether_come_from_the_installed_tree():
    assert under(tether.__file__, ROOT), tether.__file__
    assert under(_tether.__file__, ROOT), _tether.__file__
    assert not [p for p in sys.path if p and under(p, BUILD)], sys.path
    # The extension's RUNPATH finds the installed libtether (no LD_LIBRARY_PATH).
    assert "LD_LIBRARY_PATH" not in os.environ
    maps = pathlib.Path("/proc/self/maps").read_text().splitlines()
    libs = {line.split()[-1] for line in maps if "/libtether.so" in line}
    assert libs and all(under(lib, ROOT) for lib in libs), libs


def test_every_source_file_and_stub_is_installed():
    sources = sorted(p for p in (SOURCE / "python" / "tether").iterdir()
                     if p.suffix in (".py", ".pyi") or p.name == "py.typed")
    assert any(p.name == "_tether.pyi" for p in sources)
    for src in sources:
        installed = PACKAGE / src.name
        assert installed.is_file(), f"{src.name} is not installed in {PACKAGE}"
        assert installed.read_bytes() == src.read_bytes(), src.name


def test_the_distribution_metadata_names_the_version_and_the_plugin():
    assert importlib.metadata.version("tether") == os.environ["TETHER_VERSION"]
    dist = importlib.metadata.distribution("tether")
    assert under(dist.locate_file("tether"), ROOT)  # this tree's dist-info, not another one
    plugins = {ep.name: ep.value for ep in dist.entry_points if ep.group == "pytest11"}
    # Named as the module, so that `-p tether.pytest_plugin` (the build tree's
    # way) names this entry point too instead of registering the module twice.
    assert plugins == {"tether.pytest_plugin": "tether.pytest_plugin"}


def test_calls_reach_a_real_agent(agent):
    with tether.Guest(agent.socket_path) as g:
        assert g.ping(b"installed").payload == b"installed"
        assert g.run(["/bin/true"]).returncode == 0
        out = g.run(["echo", "from the installed package"], capture_output=True, text=True)
        assert out.stdout == "from the installed package\n"
        with pytest.raises(subprocess.CalledProcessError):
            g.run(["/bin/false"], check=True)


def test_pytest_loads_the_plugin_through_its_entry_point(agent, tmp_path):
    # A user's test file: no conftest, no -p; only the installed entry point
    # can provide the tether_guest fixture.
    (tmp_path / "test_user.py").write_text(textwrap.dedent("""\
        def test_guest_fixture(tether_guest):
            assert tether_guest.run(["/bin/true"]).returncode == 0
        """))
    env = dict(os.environ, TETHER_SOCKET=agent.socket_path)

    def pytest_run(*args):
        return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", tmp_path,
                               *args, str(tmp_path / "test_user.py")],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)

    loaded = pytest_run("--trace-config")
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    assert "1 passed" in loaded.stdout
    registered = [line for line in loaded.stdout.splitlines() if "tether.pytest_plugin" in line]
    assert registered and all(str(ROOT) in line for line in registered), registered

    # Named explicitly as well (a build tree's command line): loaded once.
    named = pytest_run("-p", "tether.pytest_plugin")
    assert named.returncode == 0, named.stdout + named.stderr

    # Blocked by its entry point's name, the plugin is gone, and the fixture with it.
    blocked = pytest_run("-p", "no:tether.pytest_plugin")
    assert blocked.returncode != 0
    assert "fixture 'tether_guest' not found" in blocked.stdout
