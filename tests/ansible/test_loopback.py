"""The connection plugin through Debian's Ansible against a real tether-agent
on a unix socket (the "guest" is this machine: nothing here changes it
outside temporary directories)."""

import re

import pytest

from conftest import PLAYBOOK, Agent, ansible, big_file, write_inventory


@pytest.fixture(scope="module")
def agent():
    a = Agent()
    yield a
    a.stop()


@pytest.fixture
def inventory(agent, tmp_path):
    return write_inventory(tmp_path / "hosts.ini", {"loop1": {"ansible_tether_socket": agent.socket_path}})


def test_the_playbook_passes_through_the_plugin(inventory, tmp_path):
    local = tmp_path / "local"
    local.mkdir()
    r = ansible("ansible-playbook", inventory, str(PLAYBOOK), "-e", f"work_dir={tmp_path}/work",
                "-e", f"local_dir={local}", "-e", f"big_file={big_file(local, 5)}")
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"loop1\s*: ok=\d+ .* unreachable=0 +failed=0 .* ignored=1", r.stdout), r.stdout
    assert (local / "fetched-loop1.bin").read_bytes() == (local / "big.bin").read_bytes()


def test_a_task_and_its_loop_share_one_connection_and_pipeline_modules(inventory, tmp_path):
    play = tmp_path / "loop.yml"
    play.write_text("- hosts: all\n  gather_facts: false\n  tasks:\n"
                    "    - ansible.builtin.command: echo {{ item }}\n      loop: [1, 2, 3, 4, 5]\n")
    r = ansible("ansible-playbook", inventory, str(play), "-vvv")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("TETHER CONNECTED") == 1, r.stdout
    # Pipelined: each item is one python3 fed on stdin, no module file put.
    assert "Pipelining is enabled" in r.stdout
    assert "TETHER PUT" not in r.stdout
    assert len(re.findall(r"TETHER EXEC /bin/sh -c '/usr/bin/python3 && sleep 0'", r.stdout)) == 5, r.stdout


def test_a_missing_socket_makes_the_host_unreachable(tmp_path):
    inventory = write_inventory(tmp_path / "hosts.ini",
                                {"gone": {"ansible_tether_socket": str(tmp_path / "no-such.sock"),
                                          "ansible_tether_connect_timeout": "2"}})
    r = ansible("ansible", inventory, "all", "-m", "ping")
    assert r.returncode == 4, r.stdout + r.stderr  # Ansible's exit code for unreachable hosts
    assert "UNREACHABLE" in r.stdout and "tether: cannot reach the agent at" in r.stdout, r.stdout


def test_no_guest_given_is_said_so(tmp_path):
    inventory = write_inventory(tmp_path / "hosts.ini", {"nameless": {}})
    r = ansible("ansible", inventory, "all", "-m", "ping")
    assert r.returncode == 4, r.stdout + r.stderr
    assert "set ansible_tether_socket" in r.stdout, r.stdout


def test_the_agents_refusal_fails_the_task_with_its_message(tmp_path):
    conf = tmp_path / "agent.conf"
    conf.write_text(f"[files]\nroots = {tmp_path}/allowed\n")
    a = Agent("--config", str(conf))
    try:
        inventory = write_inventory(tmp_path / "hosts.ini", {"strict": {"ansible_tether_socket": a.socket_path}})
        r = ansible("ansible", inventory, "all", "-m", "copy", "-a", f"content=x dest={tmp_path}/x")
    finally:
        a.stop()
    assert r.returncode == 2, r.stdout + r.stderr
    assert "FAILED" in r.stdout and "is outside the directories file calls may touch" in r.stdout, r.stdout
    assert not (tmp_path / "x").exists()


def test_a_command_past_its_timeout_fails_the_task(inventory):
    r = ansible("ansible", inventory, "all", "-m", "command", "-a", "sleep 30",
                "-e", "ansible_tether_command_timeout=1")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "command timed out after 1.0 s" in r.stdout, r.stdout
