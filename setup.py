"""Packaging beyond what pyproject.toml can say: the top-level playbooks/ folder is shipped
inside the package as `bot.shipped_playbooks`, so an installed warroom has its default
playbooks (pyproject.toml cannot combine found packages with a mapped one)."""

from setuptools import find_namespace_packages, setup

setup(
    packages=[
        *find_namespace_packages(include=["bot", "bot.*"], exclude=["*.__pycache__"]),
        "bot.shipped_playbooks",
    ],
    package_dir={"bot.shipped_playbooks": "playbooks"},
)
