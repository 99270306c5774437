"""The formats of the AWS names the package puts into URLs: API ids (a host label of
the Management API's address), stage names (its first path segment) and domain names.

Checked in the models' ``clean()`` and again where a URL is built, so a name edited
into the database some other way still never reaches a URL.
"""

from __future__ import annotations

import re

#: AWS's API ids are 10 lower-case letters and digits; 4.1.0 accepted any id, and
#: projects (and their tests) register others, so any one host label is accepted: it
#: can add no host, port or path to a URL.
API_ID = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
STAGE_NAME = re.compile(r"[A-Za-z0-9_-]{1,63}")
DOMAIN_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def is_api_id(value: str) -> bool:
    return API_ID.fullmatch(value) is not None


def is_stage_name(value: str) -> bool:
    return STAGE_NAME.fullmatch(value) is not None


def is_domain_name(value: str) -> bool:
    labels = value.lower().rstrip(".").split(".")
    return len(value) <= 253 and len(labels) >= 2 and all(DOMAIN_LABEL.fullmatch(x) for x in labels)
