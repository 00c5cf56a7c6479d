"""The README's pytest example is python/examples/test_guest_example.py,
which python.vm runs against the fast guest: the quoted copy cannot drift."""

import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_readme_quotes_the_example_file_whole():
    example = (ROOT / "python" / "examples" / "test_guest_example.py").read_text()
    readme = (ROOT / "README.md").read_text()
    assert f"```python\n{example}```\n" in readme
