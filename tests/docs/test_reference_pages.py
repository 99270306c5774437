"""The reference pages agree with the code: every setting is documented with its real
default, and every page a page links to exists."""

from __future__ import annotations

import ast
import re

import pytest

from django_aws_api_gateway_websockets import conf

from .blocks import DOCS, pages

SETTINGS_PAGE = DOCS / "settings.rst"


def _documented_defaults() -> dict[str, str]:
    text = SETTINGS_PAGE.read_text(encoding="utf-8")
    pattern = re.compile(r"^``(?P<key>[a-z0-9_]+)``\n\^+\n\n:Default: (?P<default>.+)$", re.M)
    return {m["key"]: m["default"].strip() for m in pattern.finditer(text)}


def _code_default(key: str) -> str:
    for table in (conf.INT_DEFAULTS, conf.BOOLEAN_DEFAULTS, conf.FLOAT_DEFAULTS):
        if key in table:
            return f"``{table[key]!r}``"
    return "unset"


def test_every_setting_is_documented_with_its_default() -> None:
    documented = _documented_defaults()
    assert set(documented) == set(conf.KNOWN_KEYS)
    for key in conf.KNOWN_KEYS:
        assert documented[key] == _code_default(key), key


def test_settings_page_names_the_top_level_settings() -> None:
    text = SETTINGS_PAGE.read_text(encoding="utf-8")
    for name in (
        "AWS_GATEWAY_REGION_NAME",
        "AWS_REGION_NAME",
        "AWS_IAM_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "ALLOWED_HOSTS",
        "CSRF_TRUSTED_ORIGINS",
        "CSRF_COOKIE_DOMAIN",
        "SESSION_COOKIE_DOMAIN",
        "CSRF_COOKIE_SAMESITE",
        "SESSION_COOKIE_SAMESITE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_SECURE",
        "SECRET_KEY_FALLBACKS",
    ):
        assert f"``{name}``" in text, name


DOC_ROLE = re.compile(r":doc:`(?:[^`<]*<)?(?P<target>[^`>]+)>?`")


@pytest.mark.parametrize("page", [p for p in pages() if p.suffix == ".rst"], ids=lambda p: p.name)
def test_linked_pages_exist(page) -> None:
    text = page.read_text(encoding="utf-8")
    missing = {
        m["target"]
        for m in DOC_ROLE.finditer(text)
        if not (page.parent / f"{m['target']}.rst").exists()
        and not (DOCS / f"{m['target'].lstrip('/')}.rst").exists()
    }
    assert not missing, f"{page.name} links to missing pages: {sorted(missing)}"


def test_every_page_is_in_the_table_of_contents() -> None:
    index = (DOCS / "index.rst").read_text(encoding="utf-8")
    listed = set(re.findall(r"^   (\S+)$", index, re.M))
    for page in DOCS.glob("*.rst"):
        if page.stem != "index":
            assert page.stem in listed, f"{page.name} is not in docs/index.rst's toctree"


def test_readme_links_exist() -> None:
    readme = DOCS.parent / "README.md"
    targets = re.findall(r"\]\((?!https?://)([^)#]+)\)", readme.read_text(encoding="utf-8"))
    assert targets
    missing = [t for t in targets if not (readme.parent / t).exists()]
    assert not missing, f"README.md links to missing files: {missing}"


def _documented_bodies() -> list[str]:
    """The literal bodies in the tables of the troubleshooting page."""
    text = (DOCS / "troubleshooting.rst").read_text(encoding="utf-8")
    bodies = []
    for row in re.split(r"^   \* - ", text, flags=re.M)[1:]:
        cells = re.split(r"^     - ", row, flags=re.M)
        if len(cells) >= 2:
            bodies += re.findall(r"``([^`]+)``", cells[1])
    return [b for b in bodies if not b.startswith("{")]


def test_troubleshooting_bodies_are_what_the_package_answers() -> None:
    package = DOCS.parent / "src" / "django_aws_api_gateway_websockets"
    source = "\n".join(p.read_text(encoding="utf-8") for p in package.rglob("*.py"))
    bodies = _documented_bodies()
    assert len(bodies) >= 15
    missing = [b for b in bodies if b.split("<")[0] not in source]
    assert not missing, f"bodies the package never sends: {missing}"


def _documented_view_attributes() -> dict[str, str]:
    text = (DOCS / "configuration.rst").read_text(encoding="utf-8")
    table = text.split("Class attributes", 1)[1].split("Hooks", 1)[0]
    rows = {}
    for row in re.split(r"^   \* - ", table, flags=re.M)[2:]:
        cells = re.split(r"^     - ", row, flags=re.M)
        rows[cells[0].strip().strip("`")] = cells[1].strip()
    return rows


def test_view_attribute_defaults_are_the_code_defaults() -> None:
    from django_aws_api_gateway_websockets.views import WebSocketView

    documented = _documented_view_attributes()
    assert len(documented) >= 20
    for name, default in documented.items():
        assert hasattr(WebSocketView, name), name
        if default.startswith("``"):
            value = ast.literal_eval(default.strip("`"))
            assert getattr(WebSocketView, name) == value, name


ANSWER = re.compile(
    r'(?:HttpResponse\w*|EventError|Refusal|_plain)\((?:\d+, )?(?P<f>f?)"(?P<body>[^"]+)"'
)
#: Bodies of deprecated methods the package never calls itself.
NEVER_SENT = {"route_select_key "}


def test_every_answer_of_the_views_is_documented() -> None:
    package = DOCS.parent / "src" / "django_aws_api_gateway_websockets"
    sources = [package / "views.py", package / "events.py", package / "admission.py"]
    answers = set()
    for path in sources:
        for match in ANSWER.finditer(path.read_text(encoding="utf-8")):
            body = match["body"].split("{")[0] if match["f"] else match["body"]
            answers.add(body)
    assert len(answers) >= 20
    documented = [b.split("<")[0] for b in _documented_bodies()]
    missing = answers - NEVER_SENT - set(documented)
    assert not missing, f"answers missing from troubleshooting.rst: {sorted(missing)}"


def test_upgrading_page_names_the_real_migrations() -> None:
    from django.db.migrations.loader import MigrationLoader

    text = (DOCS / "upgrading_from_original.rst").read_text(encoding="utf-8")
    app = "django_aws_api_gateway_websockets"
    loader = MigrationLoader(None, ignore_no_migrations=True)
    names = sorted(name for label, name in loader.disk_migrations if label == app)
    squashed = loader.disk_migrations[(app, names[0])]
    replaced = [name for _, name in squashed.replaces]
    assert f"``{replaced[0]}``" in text
    assert f"``{replaced[-1]}``" in text
    for name in names[1:]:
        assert f"``{name[:4]}``" in text, f"{name} is not described"


def test_troubleshooting_states_the_real_limits() -> None:
    from django_aws_api_gateway_websockets.events import MAX_BODY_DEPTH
    from django_aws_api_gateway_websockets.views import WebSocketView

    text = " ".join((DOCS / "troubleshooting.rst").read_text(encoding="utf-8").split())
    assert f"more than {MAX_BODY_DEPTH} levels deep" in text
    assert WebSocketView.MAX_BODY_SIZE == 128 * 1024
    assert "``MAX_BODY_SIZE`` (128 KB" in text
