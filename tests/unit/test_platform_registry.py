"""The platform registry: each store platform is one package behind one entry, and nothing outside the packages
names a platform (issue 11: adding a platform touches its folder, the registry and the template's list)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from ogosync.errors import ConfigurationError
from ogosync.models import Credentials, Platform
from ogosync.stores import registry
from ogosync.stores.credentials import CentraCredentials, ShopifyCredentials
from tests.factories import make_integration
from tests.fakes import make_credentials

PACKAGE = Path(__file__).parents[2] / "layers/common/python/ogosync"
# Where a platform may be named: its own package, the registry and the credential models, the models' enum.
PLATFORM_CODE = ("stores/", "models.py")


@pytest.mark.parametrize("platform", registry.supported())
def test_each_entry_is_its_platforms_own(platform: Platform) -> None:
    adapter = registry.adapter(platform)

    assert adapter.platform is platform
    assert adapter.credentials_model.model_fields["platform"].default == platform.value
    assert adapter.setup_text.strip()
    assert callable(adapter.build_verifier().verify)
    with pytest.raises(ValidationError):
        adapter.options_model.model_validate({"no_such_option": 1})


def test_a_platform_without_an_adapter_is_a_configuration_error_naming_the_supported_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(registry._PACKAGES, Platform.WOOCOMMERCE)  # every platform has one now: take one away
    with pytest.raises(ConfigurationError, match=r"woocommerce is not supported yet .*centra"):
        registry.adapter(Platform.WOOCOMMERCE)


def test_the_store_is_built_by_its_platforms_factory_with_its_credentials() -> None:
    integration = make_integration(settings={"pricelist": "Europe"})

    store = registry.adapter(Platform.CENTRA).build_store(integration, make_credentials(), None, None)

    assert type(store).__module__ == "ogosync.stores.centra.client"
    store.close()


def test_options_of_another_shape_are_refused_with_their_names() -> None:
    integration = make_integration(store_options={"location": 5})

    with pytest.raises(ConfigurationError, match="location"):
        registry.store_options(integration)


def test_a_secret_written_before_platforms_had_credentials_of_their_own_is_read_as_centras() -> None:
    old = make_credentials().revealed() | {"store_api_key": "old-key"}
    del old["store"]

    credentials = Credentials.model_validate_json(json.dumps(old))

    assert credentials.store == CentraCredentials(api_key=SecretStr("old-key"))


@pytest.mark.parametrize(
    ("values", "valid"),
    [
        ({"client_id": "c", "client_secret": "s"}, True),
        ({"access_token": "t"}, True),
        ({"client_id": "c"}, False),
        ({"client_id": "c", "client_secret": "s", "access_token": "t"}, False),
        ({}, False),
    ],
)
def test_shopify_takes_a_client_id_and_secret_or_an_access_token(values: dict[str, str], valid: bool) -> None:
    if valid:
        assert ShopifyCredentials.model_validate(values).platform == "shopify"
    else:
        with pytest.raises(ValidationError):
            ShopifyCredentials.model_validate(values)


def test_engines_ports_runtime_and_operator_name_no_platform() -> None:
    named = re.compile(r"\b(centra|shopify|woocommerce)\b", re.IGNORECASE)
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith(PLATFORM_CODE) or relative.startswith("console/"):
            continue  # the console's wizard pages are per platform (issue 13)
        code = [line for line in path.read_text().splitlines() if "import" in line and named.search(line)]
        offenders += [f"{relative}: {line.strip()}" for line in code]
    assert offenders == []
