"""`make deploy`'s asset upload: objects with their headers, stale ones gone, CloudFront told."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.tools.upload_assets import CACHE_CONTROL, publish, samconfig_defaults

STACK = "appointment-service"


def distribution_config() -> dict[str, Any]:
    origin = {
        "Id": "Assets",
        "DomainName": "assets.s3.us-east-1.amazonaws.com",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
    }
    return {
        "CallerReference": "test",
        "Comment": "",
        "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [origin]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "Assets",
            "ViewerProtocolPolicy": "redirect-to-https",
        },
    }


@pytest.fixture
def stack() -> Iterator[dict[str, Any]]:
    """A deployed stack's outputs on moto: the assets bucket and the distribution."""
    with mock_aws():
        cloudfront = boto3.client("cloudfront")
        distribution = cloudfront.create_distribution(DistributionConfig=distribution_config())
        distribution_id = distribution["Distribution"]["Id"]
        template = {
            "Resources": {"AssetsBucket": {"Type": "AWS::S3::Bucket"}},
            "Outputs": {
                "AssetsBucketName": {"Value": {"Ref": "AssetsBucket"}},
                "DistributionId": {"Value": distribution_id},
            },
        }
        cloudformation = boto3.client("cloudformation")
        cloudformation.create_stack(StackName=STACK, TemplateBody=json.dumps(template))
        (described,) = cloudformation.describe_stacks(StackName=STACK)["Stacks"]
        outputs = {item["OutputKey"]: item["OutputValue"] for item in described["Outputs"]}
        yield {
            "bucket": outputs["AssetsBucketName"],
            "distribution_id": distribution_id,
            "clients": {
                "cloudformation": cloudformation,
                "s3": boto3.client("s3"),
                "cloudfront": cloudfront,
            },
        }


@pytest.fixture
def built(tmp_path: Path) -> Path:
    (tmp_path / "img" / "usa-icons").mkdir(parents=True)
    (tmp_path / "site.css").write_text("body{margin:0}")
    (tmp_path / "uswds.min.js").write_text("(()=>{})();")
    (tmp_path / "img" / "usa-icons" / "close.svg").write_text("<svg/>")
    (tmp_path / "img" / "us_flag_small.png").write_bytes(b"\x89PNG\r\n")
    return tmp_path


def test_each_built_file_is_uploaded_under_assets_with_its_type_and_cache_control(
    stack: dict[str, Any], built: Path
) -> None:
    # When the built assets are published
    publish(STACK, built, **stack["clients"])
    # Then every file is an object under assets/, with its Content-Type and the Cache-Control
    s3 = stack["clients"]["s3"]
    headers = {
        key: (head["ContentType"], head["CacheControl"])
        for key in ("site.css", "uswds.min.js", "img/usa-icons/close.svg", "img/us_flag_small.png")
        for head in [s3.head_object(Bucket=stack["bucket"], Key=f"assets/{key}")]
    }
    assert headers == {
        "site.css": ("text/css; charset=utf-8", CACHE_CONTROL),
        "uswds.min.js": ("text/javascript; charset=utf-8", CACHE_CONTROL),
        "img/usa-icons/close.svg": ("image/svg+xml", CACHE_CONTROL),
        "img/us_flag_small.png": ("image/png", CACHE_CONTROL),
    }
    body = s3.get_object(Bucket=stack["bucket"], Key="assets/site.css")["Body"].read()
    assert body == b"body{margin:0}"


def test_objects_no_longer_built_are_deleted_and_nothing_outside_assets(
    stack: dict[str, Any], built: Path
) -> None:
    # Given an asset of an earlier deploy that is no longer built, and an object elsewhere
    s3 = stack["clients"]["s3"]
    s3.put_object(Bucket=stack["bucket"], Key="assets/img/old-logo.svg", Body=b"<svg/>")
    s3.put_object(Bucket=stack["bucket"], Key="elsewhere/keep.txt", Body=b"kept")
    # When the assets are published
    published = publish(STACK, built, **stack["clients"])
    # Then the stale asset is gone, the other object stays
    keys = {item["Key"] for item in s3.list_objects_v2(Bucket=stack["bucket"])["Contents"]}
    assert published.deleted == ["assets/img/old-logo.svg"]
    assert "assets/img/old-logo.svg" not in keys
    assert "elsewhere/keep.txt" in keys
    assert len(keys) == 5


def test_publishing_invalidates_the_assets_in_the_distribution(
    stack: dict[str, Any], built: Path
) -> None:
    published = publish(STACK, built, **stack["clients"])
    cloudfront = stack["clients"]["cloudfront"]
    invalidation = cloudfront.get_invalidation(
        DistributionId=stack["distribution_id"], Id=published.invalidation_id
    )["Invalidation"]
    assert invalidation["InvalidationBatch"]["Paths"]["Items"] == ["/assets/*"]


def test_a_file_without_a_known_content_type_stops_the_upload(
    stack: dict[str, Any], built: Path
) -> None:
    # Given a built file of a type the tool has no Content-Type for
    (built / "notes.xyz").write_text("?")
    # When publishing, Then it refuses before uploading anything
    with pytest.raises(ValueError, match=r"notes\.xyz"):
        publish(STACK, built, **stack["clients"])
    assert "Contents" not in stack["clients"]["s3"].list_objects_v2(Bucket=stack["bucket"])


def test_nothing_built_deletes_nothing(stack: dict[str, Any], tmp_path: Path) -> None:
    # Given assets already served, and an empty build directory
    s3 = stack["clients"]["s3"]
    s3.put_object(Bucket=stack["bucket"], Key="assets/site.css", Body=b"body{}")
    # When publishing, Then it refuses, and the served assets stay
    with pytest.raises(FileNotFoundError, match="make assets"):
        publish(STACK, tmp_path / "missing", **stack["clients"])
    assert s3.get_object(Bucket=stack["bucket"], Key="assets/site.css")["Body"].read() == b"body{}"


def test_the_stack_and_region_are_samconfigs_deploy_values_over_global(tmp_path: Path) -> None:
    config = tmp_path / "samconfig.toml"
    config.write_text(
        "version = 0.1\n"
        '[default.global.parameters]\nstack_name = "from-global"\n'
        '[default.deploy.parameters]\nstack_name = "from-deploy"\nregion = "us-west-2"\n'
    )
    assert samconfig_defaults(config) == {"stack_name": "from-deploy", "region": "us-west-2"}
