"""Creating the template's resources on the local engines, and what Ref/GetAtt give for them.

Tables go to DynamoDB Local (or moto), everything else to moto's server. Creation is
idempotent, so `make run` twice reuses what is there. Generated secrets are kept in the data
directory, because PIN hashes depend on them and must survive a restart like the tables do.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.exceptions import ClientError

from infra.local.template import (
    References,
    create_tables,
    parameter_defaults,
    resolve,
    resources_of_type,
    table_names,
)

REGION = "us-east-1"
ACCOUNT = "123456789012"


@dataclass(frozen=True)
class Endpoints:
    dynamodb: str
    moto: str
    site: str  # the local distribution (infra/local/distribution.py), in front of the API


def local_client(service: str, endpoint: str) -> Any:
    """A client of a local engine (any credentials are accepted there)."""
    session = boto3.session.Session()
    return session.client(  # type: ignore[call-overload]
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - local engines accept any credentials
    )


def create_resources(
    template: dict[str, Any],
    endpoints: Endpoints,
    stack_name: str,
    data_dir: Path,
    parameter_overrides: Mapping[str, str] | None = None,
) -> References:
    references = References()
    references.pseudo["AWS::StackName"] = stack_name
    references.refs.update(parameter_defaults(template))
    references.refs.update(parameter_overrides or {})
    references.conditions = dict(template.get("Conditions", {}))
    _tables(template, endpoints, stack_name, references)
    _buckets(template, endpoints, stack_name, references)
    _queues(template, endpoints, stack_name, references)
    _secrets(template, endpoints, stack_name, references, data_dir / "secrets.json")
    _email_identities(template, endpoints, references)
    _configuration_sets(template, endpoints, stack_name, references)
    _edge(template, endpoints, stack_name, references)
    for logical_id in resources_of_type(template, "AWS::Serverless::Function"):
        name = f"{stack_name}-{logical_id}"
        references.refs[logical_id] = name
        references.attributes[(logical_id, "Arn")] = (
            f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
        )
    # Log groups: locally every process's output goes to the stack's own log (their names
    # only let the template's references resolve, such as the API's access log destination).
    for logical_id in resources_of_type(template, "AWS::Logs::LogGroup"):
        name = f"/local/{stack_name}/{logical_id}"
        references.refs[logical_id] = name
        references.attributes[(logical_id, "Arn")] = (
            f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*"
        )
    for logical_id, resource in resources_of_type(template, "AWS::Serverless::Api").items():
        # SAM's `Ref: <Api>.Stage`: the stage it creates
        references.refs[f"{logical_id}.Stage"] = str(
            resolve(resource["Properties"]["StageName"], references)
        )
    for logical_id in template.get("Resources", {}):
        references.refs.setdefault(logical_id, f"{stack_name}-{logical_id}")
    return references


def _tables(
    template: dict[str, Any], endpoints: Endpoints, stack_name: str, references: References
) -> None:
    client = local_client("dynamodb", endpoints.dynamodb)
    names = table_names(template, stack_name)
    create_tables(client, names, template)
    for logical_id, name in names.items():
        table = client.describe_table(TableName=name)["Table"]
        references.refs[logical_id] = name
        references.attributes[(logical_id, "Arn")] = table["TableArn"]
        if "LatestStreamArn" in table:
            references.attributes[(logical_id, "StreamArn")] = table["LatestStreamArn"]


def _buckets(
    template: dict[str, Any], endpoints: Endpoints, stack_name: str, references: References
) -> None:
    client = local_client("s3", endpoints.moto)
    for logical_id, resource in resources_of_type(template, "AWS::S3::Bucket").items():
        name = resource.get("Properties", {}).get("BucketName")
        if not isinstance(name, str):
            name = f"{stack_name}-{logical_id}".lower()
        try:
            client.create_bucket(Bucket=name)
        except ClientError as error:
            if error.response["Error"]["Code"] != "BucketAlreadyOwnedByYou":
                raise
        references.refs[logical_id] = name
        references.attributes[(logical_id, "Arn")] = f"arn:aws:s3:::{name}"
        references.attributes[(logical_id, "DomainName")] = f"{name}.s3.amazonaws.com"
        references.attributes[(logical_id, "RegionalDomainName")] = (
            f"{name}.s3.{REGION}.amazonaws.com"
        )


def _queues(
    template: dict[str, Any], endpoints: Endpoints, stack_name: str, references: References
) -> None:
    client = local_client("sqs", endpoints.moto)
    for logical_id in resources_of_type(template, "AWS::SQS::Queue"):
        url = client.create_queue(QueueName=f"{stack_name}-{logical_id}")["QueueUrl"]
        arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        references.refs[logical_id] = url
        references.attributes[(logical_id, "Arn")] = arn["Attributes"]["QueueArn"]
        references.attributes[(logical_id, "QueueName")] = f"{stack_name}-{logical_id}"


def _secrets(
    template: dict[str, Any],
    endpoints: Endpoints,
    stack_name: str,
    references: References,
    store: Path,
) -> None:
    client = local_client("secretsmanager", endpoints.moto)
    values: dict[str, str] = json.loads(store.read_text()) if store.exists() else {}
    for logical_id in resources_of_type(template, "AWS::SecretsManager::Secret"):
        values.setdefault(logical_id, secrets.token_urlsafe(48))
        name = f"{stack_name}/{logical_id}"
        try:
            arn = client.create_secret(Name=name, SecretString=values[logical_id])["ARN"]
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceExistsException":
                raise
            arn = client.describe_secret(SecretId=name)["ARN"]
        references.refs[logical_id] = arn
        references.attributes[(logical_id, "Id")] = arn
        references.secret_strings[arn] = values[logical_id]
    store.parent.mkdir(parents=True, exist_ok=True)
    temporary = store.with_suffix(".tmp")
    temporary.write_text(json.dumps(values))
    temporary.chmod(0o600)
    temporary.replace(store)


def _email_identities(
    template: dict[str, Any], endpoints: Endpoints, references: References
) -> None:
    """Verified sender identities, so the local SES accepts the mail the functions send."""
    client = local_client("ses", endpoints.moto)
    for logical_id, resource in resources_of_type(template, "AWS::SES::EmailIdentity").items():
        identity = resource["Properties"]["EmailIdentity"]
        identity = str(resolve(identity, references))
        if "@" in identity:
            client.verify_email_identity(EmailAddress=identity)
        else:
            client.verify_domain_identity(Domain=identity)
        references.refs[logical_id] = identity


def _configuration_sets(
    template: dict[str, Any], endpoints: Endpoints, stack_name: str, references: References
) -> None:
    """The mail's configuration sets, so the local SES accepts mail sent with one (the local
    SES sends no bounce or complaint feedback)."""
    client = local_client("ses", endpoints.moto)
    for logical_id in resources_of_type(template, "AWS::SES::ConfigurationSet"):
        name = f"{stack_name}-{logical_id}"
        try:
            client.create_configuration_set(ConfigurationSet={"Name": name})
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConfigurationSetAlreadyExists":
                raise
        references.refs[logical_id] = name


def _edge(
    template: dict[str, Any], endpoints: Endpoints, stack_name: str, references: References
) -> None:
    """Nothing to create: the gateway plays the distribution (infra/local/distribution.py),
    at the site's local address."""
    for logical_id in resources_of_type(template, "AWS::CloudFront::Distribution"):
        references.refs[logical_id] = f"{stack_name}-{logical_id}"
        references.attributes[(logical_id, "DomainName")] = urlsplit(endpoints.site).netloc
    for logical_id in resources_of_type(template, "AWS::WAFv2::IPSet"):
        references.attributes[(logical_id, "Arn")] = (
            f"arn:aws:wafv2:{REGION}:{ACCOUNT}:global/ipset/{stack_name}-{logical_id}/local"
        )
    for logical_id in resources_of_type(template, "AWS::WAFv2::WebACL"):
        references.attributes[(logical_id, "Arn")] = (
            f"arn:aws:wafv2:{REGION}:{ACCOUNT}:global/webacl/{stack_name}-{logical_id}/local"
        )
    for logical_id in resources_of_type(template, "AWS::CloudFront::OriginAccessControl"):
        references.attributes[(logical_id, "Id")] = f"{stack_name}-{logical_id}"
