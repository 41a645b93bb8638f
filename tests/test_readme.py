"""The README and the pages it links: one page for a newcomer, whose links, files and commands all exist.

The commands are checked without running them: each script exists and defines every flag the
README passes it (its own parser would refuse one it lacks), each module and test it names exists.
"""

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
DOCS = ("photos.md", "training.md", "reliability.md", "corrections.md")
PAGES = [README, REPO / "CHANGELOG.md", *(REPO / "docs" / name for name in DOCS)]
MAX_LINES = 300
COMMANDS_WITHIN = 80  # the commands that run the demo and the tests
FOLDERS = ("mnist_demo/", "benchmarks/", "tests/", "docs/", ".ci/")


def text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def anchors(page: Path) -> set[str]:
    """GitHub's anchors for the page's headings: lower case, punctuation dropped, spaces as hyphens."""
    prose = re.sub(r"```.*?```", "", text(page), flags=re.DOTALL)
    headings = re.findall(r"^#+ (.+)$", prose, flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


def links(page: Path) -> list[str]:
    """Every Markdown link and image target, and every <img src>, outside code."""
    prose = re.sub(r"```.*?```", "", text(page), flags=re.DOTALL)
    return re.findall(r"\]\(([^)\s]+)\)", prose) + re.findall(r'<img src="([^"]+)"', prose)


def test_the_readme_fits_on_a_page_with_the_space_block_on_top():
    lines = text(README).splitlines()
    assert len(lines) <= MAX_LINES, f"README.md has {len(lines)} lines"
    assert lines[0] == "---"
    front = lines[1 : lines.index("---", 1)]
    assert "sdk: gradio" in front and "app_file: app.py" in front
    gradio = re.search(r"^gradio==(\S+)", text(REPO / "requirements.txt"), flags=re.MULTILINE).group(1)
    assert f"sdk_version: {gradio}" in front  # the Space runs the Gradio the app was tested with


def test_running_the_demo_and_the_tests_are_within_the_first_lines():
    top = "\n".join(text(README).splitlines()[:COMMANDS_WITHIN])
    assert "pip install -r requirements.txt && python app.py" in top
    assert 'python -m pytest -m "not slow"' in top and "\npython -m pytest " in top


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_link_and_anchor_exists(page):
    for link in links(page):
        if link.startswith(("http://", "https://")):
            continue
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        assert target.exists(), f"{page.name} links to {link}: no such file"
        if anchor:
            assert anchor in anchors(target), f"{page.name} links to {link}: no such heading"


def named_files(page: Path) -> set[str]:
    """Paths in backticks that name a file or folder of the project."""
    names = set(re.findall(r"`([^`\s<>]+)`", text(page)))
    return {name for name in names if name.startswith(FOLDERS) or re.fullmatch(r"[\w./-]+\.(py|md)", name)}


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_file_named_exists(page):
    for name in named_files(page):
        candidates = [REPO / name, REPO / "mnist_demo" / name, REPO / "benchmarks" / name]
        assert any(path.exists() for path in candidates), f"{page.name} names {name}: not in the project"


def commands(page: Path) -> list[str]:
    """The `python ...` commands of the page, in code blocks and in backticks."""
    blocks = re.findall(r"```bash\n(.*?)```", text(page), flags=re.DOTALL)
    lines = [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()]
    spans = re.findall(r"`(python [^`]+)`", text(page))
    return [command for command in lines + spans if command.startswith("python ")]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_command_names_a_script_module_or_test_that_takes_its_flags(page):
    checked = 0
    for command in commands(page):
        words = command.split()
        if words[1] == "-m" and words[2] == "pytest":
            files = [REPO / word for word in words[3:] if word.startswith("tests/")]
            assert all(path.is_file() for path in files), command
            if "-k" in words:
                wanted = words[words.index("-k") + 1]
                assert any(re.search(rf"def test_\w*{wanted}", text(path)) for path in files), command
            continue
        if words[1] == "-m":
            script = REPO / (words[2].replace(".", "/") + ".py")
            if words[2] in ("venv", "pip"):
                continue
        else:
            script = REPO / words[1]
        assert script.is_file(), f"{command}: no {script.relative_to(REPO)}"
        source = text(script)
        for flag in (word.split("=")[0] for word in words[2:] if word.startswith("--") and word != "--help"):
            assert f'"{flag}"' in source, f"{command}: {script.name} has no {flag}"
        checked += 1
    assert checked or page.name != "README.md"
