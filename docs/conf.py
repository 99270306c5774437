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
exclude_patterns = ["_build", "examples"]
html_theme = "furo"
html_title = f"{project} {release}"
pygments_style = "sphinx"
# Examples are plain files under docs/examples/, included with literalinclude and run by
# tests/docs/, so the pages stay readable and every example is known to work.
highlight_language = "python3"
