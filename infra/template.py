"""Reading template.yaml, so local engines are built from the same definitions AWS gets.

The local stack and the tests create their tables from the template's own
AWS::DynamoDB::Table resources (keys, indexes, TTL, stream), never from a second copy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = REPO_ROOT / "template.yaml"


class _CloudFormationLoader(yaml.SafeLoader):
    """A YAML loader that turns short-form intrinsics (!Ref, !GetAtt, !Sub…) into long form."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CloudFormationLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=_CloudFormationLoader)  # noqa: S506 - safe loader subclass
    if not isinstance(document, dict):
        raise ValueError(f"{path} is not a CloudFormation template")
    return document


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") == resource_type
    }


def table_definitions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """CreateTable arguments (without TableName) and TTL attribute for each table resource."""
    definitions = {}
    for logical_id, resource in resources_of_type(template, "AWS::DynamoDB::Table").items():
        properties = resource["Properties"]
        arguments: dict[str, Any] = {
            "AttributeDefinitions": properties["AttributeDefinitions"],
            "KeySchema": properties["KeySchema"],
            "BillingMode": properties.get("BillingMode", "PROVISIONED"),
        }
        if arguments["BillingMode"] == "PROVISIONED":
            arguments["ProvisionedThroughput"] = properties["ProvisionedThroughput"]
        if "GlobalSecondaryIndexes" in properties:
            arguments["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
        if "StreamSpecification" in properties:
            arguments["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": properties["StreamSpecification"]["StreamViewType"],
            }
        ttl = properties.get("TimeToLiveSpecification", {})
        definitions[logical_id] = {
            "create_table": arguments,
            "ttl_attribute": ttl.get("AttributeName") if ttl.get("Enabled") else None,
        }
    return definitions


def create_tables(client: Any, table_names: dict[str, str], template: dict[str, Any]) -> list[str]:
    """Create the template's tables under the given physical names, if absent.

    Returns the names created; existing tables are left as they are (data survives restarts).
    """
    existing = set(client.list_tables().get("TableNames", []))
    created = []
    for logical_id, definition in table_definitions(template).items():
        name = table_names[logical_id]
        if name in existing:
            continue
        client.create_table(TableName=name, **definition["create_table"])
        client.get_waiter("table_exists").wait(
            TableName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}
        )
        if definition["ttl_attribute"]:
            client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={
                    "Enabled": True,
                    "AttributeName": definition["ttl_attribute"],
                },
            )
        created.append(name)
    return created


def table_names(template: dict[str, Any], prefix: str) -> dict[str, str]:
    """Local physical names for the template's tables: "<prefix>-<LogicalId>"."""
    return {
        logical_id: f"{prefix}-{logical_id}"
        for logical_id in resources_of_type(template, "AWS::DynamoDB::Table")
    }
