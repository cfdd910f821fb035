"""Put the site's assets where the distribution serves them, after `sam deploy`.

    python -m infra.tools.upload_assets [--stack-name NAME] [--region REGION]

The files `make assets` builds (.cache/site-assets) go to s3://<AssetsBucketName>/assets/, each
with its Content-Type and Cache-Control; objects under assets/ that are no longer built are
deleted; then CloudFront is told to drop its copies (an invalidation of /assets/*). The bucket
and the distribution are read from the stack's outputs; the stack name and region default to
samconfig.toml's.

Cache-Control: the names carry no content hash (the pages link /assets/site.css), so whatever a
browser holds it uses without asking for up to max-age. One hour bounds how long a visitor may
see new pages with the previous style or script after a deploy, while a visit of several pages
loads them once; CloudFront's copies are dropped at once by the invalidation.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from infra import REPO_ROOT
from infra.assets import build

ASSETS_DIR = build.OUTPUT  # what `make assets` builds

# The stack's outputs naming the bucket and the distribution.
BUCKET_OUTPUT, DISTRIBUTION_OUTPUT = "AssetsBucketName", "DistributionId"
KEY_PREFIX = "assets/"  # the distribution serves /assets/* from the bucket's assets/ keys
CACHE_CONTROL = "public, max-age=3600"
CONTENT_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}
INVALIDATED_PATHS = ["/assets/*"]
SAMCONFIG = REPO_ROOT / "samconfig.toml"


@dataclass(frozen=True)
class Asset:
    key: str
    path: Path
    content_type: str
    cache_control: str = CACHE_CONTROL


def asset(source: Path, path: Path) -> Asset:
    """The object a built file becomes; a file type without a known Content-Type is refused,
    so nothing is served as application/octet-stream."""
    content_type = CONTENT_TYPES.get(path.suffix.lower())
    if content_type is None:
        raise ValueError(f"{path}: no Content-Type for {path.suffix!r} files (CONTENT_TYPES)")
    return Asset(KEY_PREFIX + path.relative_to(source).as_posix(), path, content_type)


def built_assets(source: Path) -> list[Asset]:
    """Refuses an empty or missing directory, which would delete every asset served."""
    found = [asset(source, path) for path in sorted(source.rglob("*")) if path.is_file()]
    if not found:
        raise FileNotFoundError(f"{source} holds no built assets: run `make assets` first")
    return found


@dataclass(frozen=True)
class Published:
    uploaded: list[str]
    deleted: list[str]
    invalidation_id: str


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    (stack,) = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def _keys_under_prefix(s3: Any, bucket: str) -> Iterator[str]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=KEY_PREFIX):
        for item in page.get("Contents", []):
            yield item["Key"]


def publish(
    stack_name: str, source: Path, *, cloudformation: Any, s3: Any, cloudfront: Any
) -> Published:
    """Upload first and delete after, so a page never links an asset that is missing."""
    outputs = stack_outputs(cloudformation, stack_name)
    bucket, distribution_id = outputs[BUCKET_OUTPUT], outputs[DISTRIBUTION_OUTPUT]
    assets = built_assets(source)
    for item in assets:
        s3.put_object(
            Bucket=bucket,
            Key=item.key,
            Body=item.path.read_bytes(),
            ContentType=item.content_type,
            CacheControl=item.cache_control,
        )
    stale = sorted(set(_keys_under_prefix(s3, bucket)) - {item.key for item in assets})
    for start in range(0, len(stale), 1000):  # DeleteObjects takes up to 1000 keys
        s3.delete_objects(
            Bucket=bucket,
            Delete={"Objects": [{"Key": key} for key in stale[start : start + 1000]]},
        )
    invalidation = cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": len(INVALIDATED_PATHS), "Items": INVALIDATED_PATHS},
            "CallerReference": str(uuid.uuid4()),
        },
    )
    return Published([item.key for item in assets], stale, invalidation["Invalidation"]["Id"])


def samconfig_defaults(path: Path = SAMCONFIG) -> dict[str, str]:
    """stack_name and region as `sam deploy` reads them (its deploy section over global)."""
    if not path.exists():
        return {}
    default = tomllib.loads(path.read_text(encoding="utf-8")).get("default", {})
    found: dict[str, str] = {}
    for section in ("global", "deploy"):
        parameters = default.get(section, {}).get("parameters", {})
        found |= {
            key: str(parameters[key]) for key in ("stack_name", "region") if key in parameters
        }
    return found


def main(argv: list[str] | None = None) -> int:
    defaults = samconfig_defaults()
    parser = argparse.ArgumentParser(
        prog="python -m infra.tools.upload_assets", description=__doc__
    )
    parser.add_argument("--stack-name", default=defaults.get("stack_name"))
    parser.add_argument("--region", default=defaults.get("region"))
    parser.add_argument("--source", type=Path, default=ASSETS_DIR, help="the built assets")
    arguments = parser.parse_args(argv)
    if not arguments.stack_name:
        parser.error("no stack name: pass --stack-name or set it in samconfig.toml")
    session = boto3.session.Session(region_name=arguments.region)
    published = publish(
        arguments.stack_name,
        arguments.source,
        cloudformation=session.client("cloudformation"),
        s3=session.client("s3"),
        cloudfront=session.client("cloudfront"),
    )
    print(
        f"Assets: {len(published.uploaded)} uploaded, {len(published.deleted)} stale deleted; "
        f"CloudFront invalidation {published.invalidation_id} of {', '.join(INVALIDATED_PATHS)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
