"""Reading template.yaml, so local engines are built from the same definitions AWS gets.

The local stack and the tests create their tables from the template's own
AWS::DynamoDB::Table resources (keys, indexes, TTL, stream), never from a second copy.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from infra import REPO_ROOT

TEMPLATE_PATH = REPO_ROOT / "template.yaml"
# How long an index added to a table with data may take to be filled.
INDEX_CREATION_SECONDS = 120


class _CloudFormationLoader(yaml.CSafeLoader):
    """A YAML loader that turns short-form intrinsics (!Ref, !GetAtt, !Sub…) into long form;
    libyaml's parser (PyYAML's wheels carry it) reads the template ten times faster than
    PyYAML's own."""


def _intrinsic(loader: yaml.CSafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
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
    for section in ("Conditions", "Resources", "Outputs"):
        if section in document:
            document[section] = _expand_for_each(document[section])
    return document


_FOR_EACH = "Fn::ForEach::"


def _expand_for_each(section: dict[str, Any]) -> dict[str, Any]:
    """The section as the AWS::LanguageExtensions transform gives it to SAM: each
    `Fn::ForEach::Loop: [Identifier, [values], {fragment}]` replaced by a copy of its fragment
    per value, with ${Identifier} and &{Identifier} replaced in keys and strings (a literal
    list of values only: the template loops over names it lists)."""
    expanded: dict[str, Any] = {}
    for key, value in section.items():
        if not key.startswith(_FOR_EACH):
            expanded[key] = value
            continue
        identifier, values, fragment = value
        if not isinstance(values, list):
            raise ValueError(f"{key}: only a literal list of values is expanded locally")
        for item in values:
            copy = _substituted(fragment, identifier, str(item))
            for name in copy:
                if name in expanded:
                    raise ValueError(f"{key}: {name} is declared twice")
            expanded.update(_expand_for_each(copy))
    return expanded


def _substituted(node: Any, identifier: str, item: str) -> Any:
    if isinstance(node, str):
        alphanumeric = re.sub(r"[^A-Za-z0-9]", "", item)
        return node.replace(f"${{{identifier}}}", item).replace(f"&{{{identifier}}}", alphanumeric)
    if isinstance(node, list):
        return [_substituted(element, identifier, item) for element in node]
    if isinstance(node, dict):
        if node == {"Ref": identifier}:
            return item
        replaced = {
            _substituted(key, identifier, item): _substituted(value, identifier, item)
            for key, value in node.items()
        }
        text = replaced.get("Fn::Sub")
        if len(replaced) == 1 and isinstance(text, str) and "${" not in text:
            return text  # a Sub the loop left nothing to substitute in: `Ref: !Sub "${Id}Name"`
        return replaced
    return node


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

    Returns the names created; existing tables keep their data (it survives restarts) and get
    the global secondary indexes the template has added since, as a stack update would.
    """
    existing = set(client.list_tables().get("TableNames", []))
    created = []
    for logical_id, definition in table_definitions(template).items():
        name = table_names[logical_id]
        if name in existing:
            add_missing_indexes(client, name, definition["create_table"])
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


def add_missing_indexes(client: Any, name: str, create_table: dict[str, Any]) -> list[str]:
    """Create the indexes of `create_table` the table lacks, one at a time (DynamoDB creates
    one per update), and wait until each is filled from the items already there."""
    table = client.describe_table(TableName=name)["Table"]
    present = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    added = []
    for index in create_table.get("GlobalSecondaryIndexes", []):
        if index["IndexName"] in present:
            continue
        client.update_table(
            TableName=name,
            AttributeDefinitions=create_table["AttributeDefinitions"],
            GlobalSecondaryIndexUpdates=[{"Create": index}],
        )
        deadline = time.monotonic() + INDEX_CREATION_SECONDS
        while _index_status(client, name, index["IndexName"]) != "ACTIVE":
            if time.monotonic() > deadline:
                raise TimeoutError(f"index {index['IndexName']} of {name} is not active")
            time.sleep(0.1)
        added.append(index["IndexName"])
    return added


def _index_status(client: Any, name: str, index_name: str) -> str | None:
    table = client.describe_table(TableName=name)["Table"]
    statuses = {i["IndexName"]: i["IndexStatus"] for i in table.get("GlobalSecondaryIndexes", [])}
    return statuses.get(index_name)


def table_names(template: dict[str, Any], prefix: str) -> dict[str, str]:
    """Local physical names for the template's tables: "<prefix>-<LogicalId>"."""
    return {
        logical_id: f"{prefix}-{logical_id}"
        for logical_id in resources_of_type(template, "AWS::DynamoDB::Table")
    }


# ------------------------------------------------------------------ functions and intrinsics


@dataclass(frozen=True)
class FunctionSpec:
    """What the local stack needs to run one AWS::Serverless::Function as Lambda would."""

    logical_id: str
    code_dir: Path
    handler: str
    runtime: str
    timeout_seconds: int
    memory_mb: int
    layer_dirs: tuple[Path, ...]  # the Python layers' code, for sys.path
    environment: dict[str, Any]  # unresolved values, Globals merged with the function's own
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    reserved_concurrency: Any = None  # ReservedConcurrentExecutions, unresolved; None: unset


def _merged(global_value: Any, own_value: Any) -> Any:
    """SAM's Globals: maps merge, lists add up (the Globals' entries first), values override."""
    if isinstance(global_value, list) and isinstance(own_value, list):
        return global_value + own_value
    if isinstance(global_value, dict) and isinstance(own_value, dict):
        merged = dict(global_value)
        for key, value in own_value.items():
            merged[key] = _merged(global_value.get(key), value)
        return merged
    return own_value if own_value is not None else global_value


def function_specs(template: dict[str, Any], base_dir: Path) -> list[FunctionSpec]:
    """Every serverless function with Globals applied, as SAM's transform would."""
    globals_ = template.get("Globals", {}).get("Function", {})
    # Layers of Python code go on the path; a native layer's part (the notice renderer's
    # pango and fonts) is the host's own packages locally (make system-packages).
    python_layers = {
        logical_id: layer["Properties"]["ContentUri"]
        for logical_id, layer in resources_of_type(
            template, "AWS::Serverless::LayerVersion"
        ).items()
        if str(layer.get("Metadata", {}).get("BuildMethod", "")).startswith("python")
    }
    specs = []
    for logical_id, resource in resources_of_type(template, "AWS::Serverless::Function").items():
        properties = _merged(globals_, resource.get("Properties", {}))
        layer_dirs = tuple(
            base_dir / python_layers[layer["Ref"]]
            for layer in properties.get("Layers", [])
            if isinstance(layer, dict) and layer.get("Ref") in python_layers
        )
        specs.append(
            FunctionSpec(
                logical_id=logical_id,
                code_dir=base_dir / properties["CodeUri"],
                handler=properties["Handler"],
                runtime=properties.get("Runtime", ""),
                timeout_seconds=int(properties.get("Timeout", 3)),
                memory_mb=int(properties.get("MemorySize", 128)),
                layer_dirs=layer_dirs,
                environment=dict(properties.get("Environment", {}).get("Variables", {})),
                events=dict(properties.get("Events", {})),
                reserved_concurrency=properties.get("ReservedConcurrentExecutions"),
            )
        )
    return specs


# What `Ref: AWS::NoValue` gives: the property or list item holding it is left out.
NO_VALUE: Any = object()


@dataclass
class References:
    """What Ref and Fn::GetAtt give for each logical id, in the local stack, and the
    template's Conditions (unresolved, evaluated where Fn::If asks)."""

    refs: dict[str, str] = field(default_factory=dict)
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)
    secret_strings: dict[str, str] = field(default_factory=dict)  # by secret ARN
    pseudo: dict[str, str] = field(
        default_factory=lambda: {
            "AWS::Region": "us-east-1",
            "AWS::AccountId": "123456789012",
            "AWS::StackName": "local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
    )

    def ref(self, name: str) -> str:
        if name in self.pseudo:
            return self.pseudo[name]
        if name not in self.refs:
            raise KeyError(f"Ref to {name}, which the local stack does not know")
        return self.refs[name]

    def get_att(self, logical_id: str, attribute: str) -> str:
        key = (logical_id, attribute)
        if key not in self.attributes:
            raise KeyError(f"Fn::GetAtt {logical_id}.{attribute}, unknown to the local stack")
        return self.attributes[key]

    def condition_holds(self, resource: dict[str, Any]) -> bool:
        """Whether a resource exists in this stack (its Condition, if it has one, holds)."""
        return "Condition" not in resource or self.condition(resource["Condition"])

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            raise KeyError(f"Condition {name} is not in the template")
        return bool(resolve(self.conditions[name], self))


_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")
_DYNAMIC_REFERENCE = re.compile(r"\{\{resolve:([^}]*)\}\}")
_SECRET_STRING = re.compile(r"secretsmanager:(arn:[^}]+):SecretString")


def _dynamic_references(text: str, references: References) -> str:
    """A whole secret's string, `{{resolve:secretsmanager:<ARN>:SecretString}}`, the one form
    of dynamic reference the template uses; any other stops the start."""

    def secret(match: re.Match[str]) -> str:
        found = _SECRET_STRING.fullmatch(match.group(1))
        if found is None or found.group(1) not in references.secret_strings:
            raise ValueError(f"{match.group(0)}: not played locally")
        return references.secret_strings[found.group(1)]

    return _DYNAMIC_REFERENCE.sub(secret, text)


def _sub(argument: Any, references: References) -> str:
    text, variables = (argument, {}) if isinstance(argument, str) else argument
    resolved = {name: resolve(value, references) for name, value in variables.items()}

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in resolved:
            return str(resolved[name])
        if "." in name:
            logical_id, attribute = name.split(".", 1)
            return references.get_att(logical_id, attribute)
        return references.ref(name)

    return _dynamic_references(_SUB_VARIABLE.sub(substitute, text), references)


def _select(argument: Any, references: References) -> Any:
    index, items = argument
    return resolve(items, references)[int(resolve(index, references))]


def _split(argument: Any, references: References) -> list[str]:
    separator, text = argument
    return str(resolve(text, references)).split(str(separator))


def _if(argument: Any, references: References) -> Any:
    """Only the branch chosen is resolved, as CloudFormation does."""
    condition, if_true, if_false = argument
    return resolve(if_true if references.condition(condition) else if_false, references)


_INTRINSICS: dict[str, Callable[[Any, References], Any]] = {
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::If": _if,
    "Fn::Equals": lambda argument, references: (
        resolve(argument[0], references) == resolve(argument[1], references)
    ),
    "Fn::Not": lambda argument, references: not resolve(argument[0], references),
    "Fn::And": lambda argument, references: all(resolve(item, references) for item in argument),
    "Ref": lambda argument, references: (
        NO_VALUE if argument == "AWS::NoValue" else references.ref(argument)
    ),
    "Fn::GetAtt": lambda argument, references: references.get_att(*argument),
    "Fn::Sub": _sub,
}


def resolve(value: Any, references: References) -> Any:
    """Evaluate the intrinsic functions the template uses (Ref, GetAtt, Sub, Select, Split,
    If and the condition functions) and its dynamic references to secrets."""
    if isinstance(value, list):
        items = [resolve(item, references) for item in value]
        return [item for item in items if item is not NO_VALUE]
    if isinstance(value, str):
        return _dynamic_references(value, references) if "{{resolve:" in value else value
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((name, argument),) = value.items()
        if name in _INTRINSICS:
            return _INTRINSICS[name](argument, references)
    resolved = {key: resolve(item, references) for key, item in value.items()}
    return {key: item for key, item in resolved.items() if item is not NO_VALUE}


def parameter_defaults(template: dict[str, Any]) -> dict[str, str]:
    return {
        name: str(parameter["Default"])
        for name, parameter in template.get("Parameters", {}).items()
        if "Default" in parameter
    }
