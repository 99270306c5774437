"""Edits of records reach AWS (and back), read from moto after each change."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from django_aws_api_gateway_websockets import sync
from django_aws_api_gateway_websockets.models import ApiGateway, ApiGatewayAdditionalRoute
from django_aws_api_gateway_websockets.provisioning import (
    ApiGatewaySyncError,
    collect_deferred_sync_errors,
)
from django_aws_api_gateway_websockets.provisioning.routes import ensure_route
from django_aws_api_gateway_websockets.provisioning.spec import RouteSpec
from django_aws_api_gateway_websockets.provisioning.state import read_api_state

from .test_create import add_route, integrations_by_id, routes_by_key

pytestmark = [pytest.mark.aws, pytest.mark.django_db]


@pytest.fixture
def deployed(gateway: ApiGateway, aws: str) -> ApiGateway:
    add_route(gateway, "chat")
    gateway.create_gateway()
    return ApiGateway.objects.get(pk=gateway.pk)


def uri_of(reader, api_id: str, key: str) -> str:
    route = routes_by_key(reader, api_id)[key]
    return integrations_by_id(reader, api_id)[route["Target"].split("/")[1]]["IntegrationUri"]


def deployments(reader, api_id: str) -> int:
    return len(reader.get_deployments(ApiId=api_id)["Items"])


def test_saving_a_changed_endpoint_repoints_integrations_and_redeploys(
    deployed, reader, django_capture_on_commit_callbacks
):
    before = deployments(reader, deployed.api_id)
    deployed.target_base_endpoint = "https://new.example.com/socket"
    deployed.api_description = "new text"

    with django_capture_on_commit_callbacks(execute=True):
        deployed.save()

    assert uri_of(reader, deployed.api_id, "$default") == "https://new.example.com/socket/default"
    assert uri_of(reader, deployed.api_id, "$connect") == "https://new.example.com/socket/connect"
    assert reader.get_api(ApiId=deployed.api_id)["Description"] == "new text"
    assert deployments(reader, deployed.api_id) == before + 1
    deployed.refresh_from_db()
    assert deployed.target_base_endpoint == "https://new.example.com/socket/"


@pytest.mark.parametrize("opt_out", ["argument", "setting"])
def test_pushing_can_be_switched_off(
    deployed, reader, settings, django_capture_on_commit_callbacks, opt_out
):
    deployed.target_base_endpoint = "https://new.example.com/ws/"
    kwargs = {"push_to_aws": False} if opt_out == "argument" else {}
    if opt_out == "setting":
        settings.WEBSOCKETS = {"push_changes_to_aws": False}

    with django_capture_on_commit_callbacks(execute=True):
        deployed.save(**kwargs)
        ApiGatewayAdditionalRoute(
            api_gateway=deployed,
            name="later",
            route_key="later",
            integration_url="https://www.example.com/ws/later",
        ).save(**kwargs)

    assert uri_of(reader, deployed.api_id, "$default") == "https://www.example.com/ws/default"
    # As in 4.1.0, only push_to_aws=False keeps a new route out of AWS: with the setting
    # off it is still created, at once.
    assert ("later" in routes_by_key(reader, deployed.api_id)) is (opt_out == "setting")


def test_a_new_route_is_created_at_once_inside_a_transaction(deployed, reader):
    # 4.1.0: the caller reads the new route's AWS ids right after save().
    route = add_route(deployed, "typing")
    assert route.deployed
    assert routes_by_key(reader, deployed.api_id)["typing"]["RouteId"] == route.route_id


def test_with_pushing_off_a_new_route_failure_raises_the_aws_error(
    deployed, settings, apigw, fail_once
):
    settings.WEBSOCKETS = {"push_changes_to_aws": False}
    fail_once(apigw, "CreateIntegration")
    with pytest.raises(ClientError) as raised:
        add_route(deployed, "typing")
    assert not isinstance(raised.value, ApiGatewaySyncError)


def test_saving_without_changes_calls_nothing(deployed, apigw, django_capture_on_commit_callbacks):
    calls = []
    apigw.meta.events.register("before-call.apigatewayv2", lambda **kw: calls.append(kw))
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            deployed.save()
    finally:
        apigw.meta.events.unregister("before-call.apigatewayv2")
    assert callbacks == []
    assert calls == []


def test_route_records_are_created_changed_and_deleted_in_aws(
    deployed, reader, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        route = add_route(deployed, "typing")
    routes = routes_by_key(reader, deployed.api_id)
    route.refresh_from_db()
    assert route.deployed
    assert routes["typing"]["RouteId"] == route.route_id

    route.route_key = "is-typing"
    route.integration_url = "https://www.example.com/ws/is-typing"
    route.route_response = True
    with django_capture_on_commit_callbacks(execute=True):
        route.save()
    routes = routes_by_key(reader, deployed.api_id)
    assert "typing" not in routes
    assert routes["is-typing"]["RouteId"] == route.route_id
    assert uri_of(reader, deployed.api_id, "is-typing") == "https://www.example.com/ws/is-typing"
    responses = reader.get_route_responses(ApiId=deployed.api_id, RouteId=route.route_id)
    assert len(responses["Items"]) == 1

    route.route_response = False
    with django_capture_on_commit_callbacks(execute=True):
        route.save()
    responses = reader.get_route_responses(ApiId=deployed.api_id, RouteId=route.route_id)
    assert responses["Items"] == []

    integration_id = route.integration_id
    with django_capture_on_commit_callbacks(execute=True):
        route.delete()
    assert "is-typing" not in routes_by_key(reader, deployed.api_id)
    assert integration_id not in integrations_by_id(reader, deployed.api_id)


@pytest.mark.django_db(transaction=True)
def test_deleting_outside_a_transaction_deletes_in_aws_first(deployed, reader, apigw, fail_once):
    route = ApiGatewayAdditionalRoute.objects.get(route_key="chat")
    fail_once(apigw, "DeleteRoute")

    with pytest.raises(ApiGatewaySyncError, match="TooManyRequestsException"):
        route.delete()
    assert ApiGatewayAdditionalRoute.objects.filter(pk=route.pk).exists()

    route.delete()
    assert not ApiGatewayAdditionalRoute.objects.filter(route_key="chat").exists()
    assert "chat" not in routes_by_key(reader, deployed.api_id)


def test_deferred_failures_are_collected_and_recorded(
    deployed, apigw, fail_once, django_capture_on_commit_callbacks
):
    fail_once(apigw, "UpdateIntegration")
    deployed.target_base_endpoint = "https://new.example.com/ws/"

    with (
        collect_deferred_sync_errors() as errors,
        django_capture_on_commit_callbacks(execute=True),
    ):
        deployed.save()

    assert [str(e) for e in errors] == ["ClientError: TooManyRequestsException"]
    deployed.refresh_from_db()
    assert deployed.last_error == "ClientError: TooManyRequestsException"

    assert deployed.sync_to_aws()  # the retry completes the change
    deployed.refresh_from_db()
    assert deployed.last_error == ""


def test_sync_to_aws_restores_what_was_changed_in_aws(deployed, reader):
    routes = routes_by_key(reader, deployed.api_id)
    reader.update_integration(
        ApiId=deployed.api_id,
        IntegrationId=routes["$default"]["Target"].split("/")[1],
        RequestParameters={},
    )
    reader.delete_route(ApiId=deployed.api_id, RouteId=routes["chat"]["RouteId"])

    changes = deployed.sync_to_aws()

    assert "Updated the $default integration: request parameters" in changes
    assert "Created the chat route" in changes
    default = routes_by_key(reader, deployed.api_id)["$default"]
    integration = reader.get_integration(
        ApiId=deployed.api_id, IntegrationId=default["Target"].split("/")[1]
    )
    assert integration["RequestParameters"] == {
        "integration.request.header.connectionId": "context.connectionId"
    }
    assert deployed.sync_to_aws() == []


def test_sync_from_aws_copies_aws_into_the_records(deployed, reader):
    reader.update_api(ApiId=deployed.api_id, Name="Renamed in console")
    integration = reader.create_integration(
        ApiId=deployed.api_id,
        IntegrationType="HTTP_PROXY",
        IntegrationMethod="POST",
        IntegrationUri="https://www.example.com/ws/console",
    )
    reader.create_route(
        ApiId=deployed.api_id,
        RouteKey="console",
        Target=f"integrations/{integration['IntegrationId']}",
    )
    chat = routes_by_key(reader, deployed.api_id)["chat"]
    reader.delete_route(ApiId=deployed.api_id, RouteId=chat["RouteId"])

    changes = deployed.sync_from_aws()

    assert "Added the console route" in changes
    assert "The chat route is not in AWS, so it is marked as not deployed" in changes
    deployed.refresh_from_db()
    assert deployed.api_name == "Renamed in console"
    imported = ApiGatewayAdditionalRoute.objects.get(route_key="console")
    assert imported.integration_url == "https://www.example.com/ws/console"
    assert imported.deployed
    chat_record = ApiGatewayAdditionalRoute.objects.get(route_key="chat")
    assert not chat_record.deployed
    assert chat_record.route_id == ""


def test_a_bad_secret_set_after_creation_fails_the_push_cleanly(
    deployed, settings, django_capture_on_commit_callbacks
):
    settings.WEBSOCKETS = {"gateway_secret": "too short"}
    deployed.target_base_endpoint = "https://other.example.com/ws/"  # repoints integrations

    with (
        collect_deferred_sync_errors() as errors,
        django_capture_on_commit_callbacks(execute=True),
    ):
        deployed.save()

    assert [str(e) for e in errors] == [
        "ValueError: WEBSOCKETS['gateway_secret'] must be 32 or more of A-Z a-z 0-9 . _ ~ + / = -"
    ]
    deployed.refresh_from_db()
    assert deployed.last_error.startswith("ValueError: WEBSOCKETS")


def test_sync_needs_a_created_api(gateway):
    with pytest.raises(ValueError, match="must be deployed before it can be synced to AWS"):
        gateway.sync_to_aws()
    with pytest.raises(ValueError, match="must be deployed before it can be synced from AWS"):
        gateway.sync_from_aws()


def test_push_gateway_sends_only_the_fields_named_as_4_1_0_did(deployed, reader):
    # 4.1.0: ``fields`` names the record fields that changed; only they reach AWS.
    reader.update_api(ApiId=deployed.api_id, Description="set in the console")
    deployed.api_name = "Renamed"

    changes = deployed.sync_to_aws(fields=["api_name"])

    api = reader.get_api(ApiId=deployed.api_id)
    assert api["Name"] == "Renamed"
    assert api["Description"] == "set in the console"
    assert changes == ["Updated the API Name", "Deployed the stage"]


def test_push_gateway_with_no_synced_field_calls_nothing(deployed, reader):
    before = deployments(reader, deployed.api_id)
    assert deployed.sync_to_aws(fields=["tags"]) == []
    assert deployments(reader, deployed.api_id) == before


def test_a_stage_description_change_only_redeploys(deployed, reader):
    before = deployments(reader, deployed.api_id)
    changes = deployed.sync_to_aws(fields=["stage_description"])
    assert changes == ["Updated the stage description", "Deployed the stage"]
    assert deployments(reader, deployed.api_id) == before + 1


def test_a_route_gone_from_aws_is_deleted_locally_without_a_deployment(
    deployed, reader, django_capture_on_commit_callbacks
):
    # 4.1.0 looks the route up first: one already gone changes nothing in AWS.
    route = ApiGatewayAdditionalRoute.objects.get(route_key="chat")
    reader.delete_route(ApiId=deployed.api_id, RouteId=route.route_id)
    before = deployments(reader, deployed.api_id)

    with django_capture_on_commit_callbacks(execute=True):
        route.delete()

    assert not ApiGatewayAdditionalRoute.objects.filter(pk=route.pk).exists()
    assert deployments(reader, deployed.api_id) == before


def test_a_route_not_deployed_is_deleted_locally_only(
    deployed, reader, django_capture_on_commit_callbacks
):
    route = ApiGatewayAdditionalRoute.objects.get(route_key="chat")
    ApiGatewayAdditionalRoute.objects.filter(pk=route.pk).update(deployed=False)

    with django_capture_on_commit_callbacks(execute=True):
        ApiGatewayAdditionalRoute.objects.get(pk=route.pk).delete()

    assert "chat" in routes_by_key(reader, deployed.api_id)


def test_an_update_fields_save_never_pushes(deployed, reader, django_capture_on_commit_callbacks):
    # 4.1.0: a save with update_fields writes those columns only and never calls AWS.
    deployed.api_description = "local only"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        deployed.save(update_fields=["api_description"])
    assert callbacks == []
    assert reader.get_api(ApiId=deployed.api_id).get("Description", "") != "local only"


def test_a_deferred_failure_nobody_collects_is_raised_at_commit(
    deployed, apigw, fail_once, django_capture_on_commit_callbacks
):
    # 4.1.0: "otherwise raised when the transaction commits"; the local change is kept.
    fail_once(apigw, "UpdateApi")
    deployed.api_description = "kept"
    with (
        pytest.raises(ApiGatewaySyncError, match="TooManyRequestsException"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        deployed.save()
    deployed.refresh_from_db()
    assert deployed.api_description == "kept"


def test_a_change_of_api_fields_only_is_sent_without_reading_aws(deployed, apigw):
    # 4.1.0's sequence for a changed description: UpdateApi, then CreateDeployment.
    calls: list[str] = []
    apigw.meta.events.register(
        "before-call.apigatewayv2", lambda model, **kw: calls.append(model.name)
    )
    deployed.api_description = "new"
    try:
        deployed.sync_to_aws(apigw, fields=["api_description"])
    finally:
        apigw.meta.events.unregister("before-call.apigatewayv2")
    assert calls == ["UpdateApi", "CreateDeployment"]


def test_a_changed_url_is_sent_alone(deployed, apigw, reader):
    # 4.1.0's UpdateIntegration for a moved route carries the new IntegrationUri only.
    sent: list[dict] = []
    event = "provide-client-params.apigatewayv2.UpdateIntegration"
    apigw.meta.events.register(event, lambda params, **kw: sent.append(dict(params)))
    route = ApiGatewayAdditionalRoute.objects.get(route_key="chat")
    route.integration_url = "https://www.example.com/ws/chat-v2"
    route.save(push_to_aws=False)
    try:
        deployed.sync_to_aws(apigw)
    finally:
        apigw.meta.events.unregister(event)
    assert [sorted(params) for params in sent] == [["ApiId", "IntegrationId", "IntegrationUri"]]
    assert uri_of(reader, deployed.api_id, "chat") == "https://www.example.com/ws/chat-v2"


def test_a_target_left_out_of_a_listing_is_updated_by_its_id(deployed, apigw, reader):
    state = read_api_state(apigw, deployed.api_id, deployed.effective_stage_name, "")
    state.integrations.clear()  # as a listing that leaves the route's target out
    before = set(integrations_by_id(reader, deployed.api_id))

    ensure_route(apigw, deployed.api_id, state, RouteSpec("chat", "https://a.test/chat", None))

    assert set(integrations_by_id(reader, deployed.api_id)) == before
    assert uri_of(reader, deployed.api_id, "chat") == "https://a.test/chat"


def test_a_full_sync_redeploys_a_changed_stage_description(deployed, reader):
    # 4.1.0's full sync compares the served deployment's description with the record.
    deployed.stage_description = "v2"
    deployed.save(push_to_aws=False)
    before = deployments(reader, deployed.api_id)

    changes = deployed.sync_to_aws()

    assert changes == ["Updated the stage description", "Deployed the stage"]
    assert deployments(reader, deployed.api_id) == before + 1
    assert deployed.sync_to_aws() == []


def test_sync_from_aws_copies_the_served_deployment_and_its_description(deployed, apigw):
    # 4.1.0's pull: the stage's deployment id and the description it was made with. moto
    # cannot point a stage at a deployment, so AWS's answers come from a Stubber.
    api = {"ApiId": deployed.api_id, "Name": deployed.api_name, "ApiEndpoint": "wss://x"}
    with Stubber(apigw) as stub:
        stub.add_response("get_api", api)
        stub.add_response("get_routes", {"Items": []})
        stub.add_response("get_integrations", {"Items": []})
        stub.add_response("get_stage", {"StageName": "production", "DeploymentId": "dep2"})
        stub.add_response("get_deployment", {"DeploymentId": "dep2", "Description": "console"})
        deployed.sync_from_aws(apigw)

    deployed.refresh_from_db()
    assert deployed.deployment_id == "dep2"
    assert deployed.stage_description == "console"


def test_create_route_needs_only_the_api_as_in_4_1_0(deployed, apigw, reader):
    # 4.1.0's create_route worked on an API not yet deployed (it is a provisioning step).
    ApiGateway.objects.filter(pk=deployed.pk).update(deployment_id="", api_created=False)
    gateway = ApiGateway.objects.get(pk=deployed.pk)
    route = ApiGatewayAdditionalRoute(
        api_gateway=gateway, name="late", route_key="late", integration_url="https://a.test/l"
    )

    route.create_route(apigw, deploy=False)

    assert route.deployed
    assert routes_by_key(reader, gateway.api_id)["late"]["RouteId"] == route.route_id
    with pytest.raises(ValueError, match="not been created"):
        ApiGatewayAdditionalRoute(api_gateway=ApiGateway(api_name="x"), route_key="k").create_route(
            apigw
        )


def test_the_sync_functions_let_aws_errors_through_as_4_1_0s_did(deployed, apigw, fail_once):
    # 4.1.0's sync.push_gateway/pull_gateway raise AWS's error and leave last_error alone;
    # ApiGateway.sync_to_aws/sync_from_aws record it and raise ApiGatewaySyncError.
    fail_once(apigw, "GetApi")
    with pytest.raises(ClientError):
        sync.push_gateway(deployed, apigw)
    fail_once(apigw, "GetApi")
    with pytest.raises(ClientError):
        sync.pull_gateway(deployed, apigw)
    deployed.refresh_from_db()
    assert deployed.last_error == ""

    fail_once(apigw, "GetApi")
    with pytest.raises(ApiGatewaySyncError):
        deployed.sync_from_aws()
    deployed.refresh_from_db()
    assert deployed.last_error == "ClientError: TooManyRequestsException"


def test_a_new_route_on_a_row_naming_a_deployment_is_created_without_api_created(deployed, reader):
    # 4.1.0's route save looks at the gateway's deployment, not ``api_created``.
    ApiGateway.objects.filter(pk=deployed.pk).update(api_created=False)
    gateway = ApiGateway.objects.get(pk=deployed.pk)

    route = add_route(gateway, "late")

    assert route.deployed
    assert "late" in routes_by_key(reader, gateway.api_id)


def test_a_new_route_on_a_row_without_an_api_id_stays_local(gateway):
    ApiGateway.objects.filter(pk=gateway.pk).update(deployment_id="d1")
    gateway.refresh_from_db()

    assert not add_route(gateway, "late").deployed


def test_a_listed_route_without_an_id_is_taken_as_it_is(deployed, apigw, reader):
    # A stand-in client's listing (4.1.0's tests have them): nothing to change it by.
    state = read_api_state(apigw, deployed.api_id, deployed.effective_stage_name, "")
    state.routes["chat"] = {"RouteKey": "chat"}
    before = set(integrations_by_id(reader, deployed.api_id))

    ids = ensure_route(apigw, deployed.api_id, state, RouteSpec("chat", "https://a.test/c", None))

    assert (ids.route_id, ids.integration_id, ids.changes) == ("", "", [])
    assert set(integrations_by_id(reader, deployed.api_id)) == before


def test_a_created_integration_is_not_updated_again(deployed, apigw):
    # An answer that leaves out the URI (a stand-in's) does not read as a difference.
    state = read_api_state(apigw, deployed.api_id, deployed.effective_stage_name, "")
    with Stubber(apigw) as stub:
        stub.add_response("create_integration", {"IntegrationId": "i9"})
        stub.add_response("create_route", {"RouteId": "r9"})
        ids = ensure_route(
            apigw, deployed.api_id, state, RouteSpec("extra", "https://a.test/x", None)
        )
        stub.assert_no_pending_responses()

    assert (ids.route_id, ids.integration_id) == ("r9", "i9")
    assert ids.changes == ["Created the extra route"]
