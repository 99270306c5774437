"""Sphinx configuration for the django-aws-api-gateway-websockets documentation."""

from __future__ import annotations

from importlib.metadata import version as installed_version

project = "django-aws-api-gateway-websockets"
author = "django-aws-api-gateway-websockets contributors"
copyright = "django-aws-api-gateway-websockets contributors"
release = installed_version(project)
version = release

extensions: list[str] = []
root_doc = "index"
exclude_patterns = ["_build"]
html_theme = "furo"
html_title = f"{project} {release}"
pygments_style = "sphinx"
# Code blocks in the pages are run by tests/docs/ (see tests/docs/blocks.py).
highlight_language = "python3"
