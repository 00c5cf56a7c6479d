"""A failing test that used tether_vm gets the guest's console in its report;
a passing one does not. The inner session (pytester, in this process) is
given this session's guest through a conftest fixture, so nothing boots."""

import pytest

pytest_plugins = ["pytester"]

SESSION_VM = None  # read by the inner session's conftest


def test_a_failing_tests_report_shows_the_console(pytester, tether_vm):
    global SESSION_VM
    SESSION_VM = tether_vm
    pytester.makeconftest("""
        import pytest
        import test_plugin_report

        @pytest.fixture(scope="session")
        def tether_vm():
            return test_plugin_report.SESSION_VM
    """)
    pytester.makepyfile("""
        def test_fails(tether_vm):
            tether_vm.guest.run(["sh", "-c", "echo console-marker-$((6 * 7)) > /dev/console"], check=True)
            assert tether_vm.guest.run(["false"]).returncode == 0

        def test_passes(tether_vm):
            assert tether_vm.guest.run(["true"]).returncode == 0
    """)
    result = pytester.runpytest("-p", "tether.pytest_plugin", "-rA")
    result.assert_outcomes(passed=1, failed=1)
    sections = result.stdout.str().split("tether guest console (")
    assert len(sections) == 2, result.stdout.str()  # the failing test's report only
    # Written by the guest (the source shows the unexpanded $((6 * 7))).
    assert "console-marker-42" in sections[1]
