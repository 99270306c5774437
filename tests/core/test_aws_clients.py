"""``models.get_boto3_client`` as 4.1.0 documented it: the credential order, the region
it needs, the cache, and ``models.boto3`` as the library clients are made with."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import ANY, patch

import pytest
from botocore.config import Config

from django_aws_api_gateway_websockets import models
from django_aws_api_gateway_websockets.aws import clear_boto3_client_cache


@pytest.fixture(autouse=True)
def aws_settings(settings: Any) -> Iterator[None]:
    settings.AWS_IAM_PROFILE = None
    settings.AWS_ACCESS_KEY_ID = None
    settings.AWS_SECRET_ACCESS_KEY = None
    settings.AWS_GATEWAY_REGION_NAME = "eu-west-1"
    settings.AWS_REGION_NAME = None
    clear_boto3_client_cache()
    yield
    clear_boto3_client_cache()


@pytest.fixture
def profile_with_region(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    """A named profile whose own region is ap-south-1, in files of this test's own."""
    (tmp_path / "credentials").write_text(
        "[websockets]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = s3cret\n"
    )
    (tmp_path / "config").write_text("[profile websockets]\nregion = ap-south-1\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    settings.AWS_IAM_PROFILE = "websockets"


def test_a_profile_without_a_configured_region_uses_the_profiles_region(
    profile_with_region: None, settings: Any
) -> None:
    settings.AWS_GATEWAY_REGION_NAME = ""
    assert models.get_boto3_client().meta.region_name == "ap-south-1"


def test_a_configured_region_wins_over_the_profiles(profile_with_region: None) -> None:
    assert models.get_boto3_client().meta.region_name == "eu-west-1"


def test_keys_or_a_role_need_a_region_in_4_1_0s_words(settings: Any) -> None:
    settings.AWS_GATEWAY_REGION_NAME = ""
    with pytest.raises(RuntimeError) as error:
        models.get_boto3_client("s3")
    assert str(error.value) == (
        "AWS_GATEWAY_REGION_NAME or AWS_REGION_NAME must be set within settings.py"
    )


def test_a_config_made_afresh_with_equal_options_reuses_the_client() -> None:
    first = models.get_boto3_client(config=Config(connect_timeout=1, read_timeout=2))
    again = models.get_boto3_client(config=Config(connect_timeout=1, read_timeout=2))
    other = models.get_boto3_client(config=Config(connect_timeout=1, read_timeout=3))
    assert first is again
    assert other is not first


def test_clients_are_made_with_models_boto3_as_4_1_0_made_them(settings: Any) -> None:
    with patch("django_aws_api_gateway_websockets.models.boto3") as library:
        role = models.get_boto3_client("s3", another="param")
        settings.AWS_ACCESS_KEY_ID, settings.AWS_SECRET_ACCESS_KEY = "key", "secret"
        keys = models.get_boto3_client("s3")
        settings.AWS_IAM_PROFILE, settings.AWS_GATEWAY_REGION_NAME = "websockets", ""
        profile = models.get_boto3_client("s3")

    assert library.client.call_args_list[0].args == ("s3",)
    assert library.client.call_args_list[0].kwargs == {
        "region_name": "eu-west-1",
        "another": "param",
        "config": ANY,
    }
    assert library.client.call_args_list[1].kwargs == {
        "aws_access_key_id": "key",
        "aws_secret_access_key": "secret",
        "region_name": "eu-west-1",
        "config": ANY,
    }
    config = library.client.call_args_list[0].kwargs["config"]
    assert (config.connect_timeout, config.read_timeout) == (5, 20)
    assert config.retries == {"max_attempts": 3, "mode": "standard"}
    library.Session.assert_called_once_with(profile_name="websockets")
    library.Session.return_value.client.assert_called_once_with("s3", config=ANY)
    assert role is keys is library.client.return_value
    assert profile is library.Session.return_value.client.return_value
    assert "boto3" not in vars(models)
