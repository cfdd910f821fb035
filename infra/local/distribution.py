"""CloudFront on this machine: the template's distribution, in front of the local gateway.

`make run` answers on its one port what the distribution answers on AWS, read from the
template's `DistributionConfig` and its response headers policy:

- a behaviour whose origin is the bucket `make deploy` fills (`infra/tools/upload_assets.py`)
  serves what that tool uploads: the files `make assets` builds, with the same Content-Type and
  Cache-Control; a missing object is S3's 404;
- a behaviour whose origin is the Api's stage sends the request to the gateway, with the Host
  header of the origin (AllViewerExceptHostHeader forwards every other header, and adds
  CloudFront's own, of which the viewer's address and port, CloudFront-Viewer-Address, is
  played) and the origin's custom headers (`OriginCustomHeaders`), which replace any the
  viewer sent under their names;
- a method the behaviour does not allow is CloudFront's 403;
- every answer gets the response headers policy's headers;
- with `Compress`, and a cache policy that caches compressed objects, it gzips what CloudFront
  does (a compressible type, 1,000 to 10,000,000 bytes, not encoded yet) for a viewer that
  accepts gzip. CachingDisabled caches nothing, and CloudFront then compresses nothing: the
  API's and the site's answers are compressed by API Gateway (`MinimumCompressionSize`).
- a behaviour whose origin is the Api and whose cache policy is one of the template's
  (`AWS::CloudFront::CachePolicy`) keeps the API's GET and HEAD answers as an edge location
  does: the key is the method, the path, the query string as the policy says and whether the
  viewer accepts gzip (the origin then gets `Accept-Encoding: gzip` or none); an answer of a
  status CloudFront caches is kept for its `max-age` (`s-maxage` first), or the policy's
  DefaultTTL without one, held between MinTTL and MaxTTL (`no-store`, `no-cache` and
  `private` give MinTTL); concurrent requests for a key that is not held wait for the one
  that asks the origin (CloudFront's request collapsing); every answer says `X-Cache: Hit
  from cloudfront` or `Miss from cloudfront`. Errors are not kept (CloudFront keeps some for
  its error caching minimum TTL, 10 s unless CustomErrorResponses say otherwise), and one
  cache stands for every edge location.

- its web ACL (WebACLId) is played by web_acl.py: the rate-based rules per client IP and the
  rules on their labels, with the ACL's custom responses.

A property it does not play stops the start with its name. TLS (certificate, redirect to
HTTPS) and the names (`Aliases`) have no local counterpart and are ignored, and so is the
cache of CloudFront's managed policies (the assets are read from disk each time).
"""

from __future__ import annotations

import gzip
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from infra.local.gateway import GatewayAnswer, Origin, accepted_codings, discard_body
from infra.local.template import References, resolve, resources_of_type
from infra.local.web_acl import LocalWebAcl, Request, web_acl_from
from infra.tools import upload_assets

# Managed cache policies, and whether each caches compressed objects (edge compression needs it).
CACHES_COMPRESSED = {
    "658327ea-f89d-4fab-a63d-7e88639e58f6": True,  # CachingOptimized
    "4135ea2d-6df8-44a3-9df3-4b5a84be39ad": False,  # CachingDisabled
}
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # origin request policy
# Of the Content-Types CloudFront compresses, those a web site serves (its list adds streaming
# manifests and older names of font and script types); and the sizes it compresses.
COMPRESSIBLE = frozenset(
    {
        *("text/html", "text/css", "text/javascript", "text/plain", "text/csv", "text/xml"),
        *("application/javascript", "application/json", "application/xml", "image/svg+xml"),
        *("application/xhtml+xml", "application/rss+xml", "application/vnd.ms-fontobject"),
        *("font/ttf", "font/otf", "font/eot", "font/opentype"),
    }
)
COMPRESSIBLE_SIZE = range(1_000, 10_000_001)
# The statuses CloudFront caches for a cache behaviour's TTLs (errors have their own).
CACHED_STATUSES = frozenset({200, 203, 300, 301, 410})
KEPT_AT_MOST = 10_000  # answers held before the expired ones are forgotten
_CACHE_POLICY_KEYS = {"Name", "Comment", "MinTTL", "DefaultTTL", "MaxTTL"}
_CACHE_KEY_KEYS = {
    *("EnableAcceptEncodingGzip", "EnableAcceptEncodingBrotli"),
    *("HeadersConfig", "CookiesConfig", "QueryStringsConfig"),
}
METHOD_REFUSED = GatewayAnswer(
    HTTPStatus.FORBIDDEN,
    {"Content-Type": "text/plain"},
    b"This distribution is not configured to allow the HTTP request method that was used "
    b"for this request.",
)
NO_SUCH_KEY = GatewayAnswer(
    HTTPStatus.NOT_FOUND,
    {"Content-Type": "application/xml"},
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code>'
    b"<Message>The specified key does not exist.</Message></Error>",
)
# Read only to be ignored: TLS, names, HTTP versions.
_IGNORED = {"Enabled", "Comment", "HttpVersion", "IPV6Enabled", "Aliases", "ViewerCertificate"}
_BEHAVIOUR_KEYS = {
    "PathPattern",
    "TargetOriginId",
    "ViewerProtocolPolicy",
    "AllowedMethods",
    "CachedMethods",
    "CachePolicyId",
    "OriginRequestPolicyId",
    "ResponseHeadersPolicyId",
    "Compress",
}
_CONFIG_KEYS = {"Origins", "DefaultCacheBehavior", "CacheBehaviors", "WebACLId"}
_ORIGIN_KEYS = {
    *("Id", "DomainName", "OriginPath", "OriginCustomHeaders"),
    *("CustomOriginConfig", "S3OriginConfig", "OriginAccessControlId"),
}


VIEWER_ADDRESS = "CloudFront-Viewer-Address"


@dataclass(frozen=True)
class ApiOrigin:
    host: str  # the Host header API Gateway gets
    custom_headers: tuple[tuple[str, str], ...] = ()

    def request_headers(self, request: BaseHTTPRequestHandler) -> None:
        """Turn the viewer's headers into the origin request's, as CloudFront does."""
        ip, port = request.client_address[:2]
        added = [("Host", self.host), (VIEWER_ADDRESS, f"{ip}:{port}"), *self.custom_headers]
        for name, value in added:
            del request.headers[name]  # every one of that name, whoever sent it
            request.headers[name] = value


@dataclass(frozen=True)
class BucketOrigin:
    """The assets bucket, as `make deploy` fills it: the built files under KEY_PREFIX."""

    directory: Path

    def get(self, path: str) -> GatewayAnswer:
        key = unquote(path).removeprefix("/")
        relative = key.removeprefix(upload_assets.KEY_PREFIX)
        parts = relative.split("/")
        if key == relative or any(part in ("", ".", "..") or "\\" in part for part in parts):
            return NO_SUCH_KEY  # a key the upload never writes (no traversal out of the files)
        file = self.directory / relative
        if not file.is_file() or not file.resolve().is_relative_to(self.directory.resolve()):
            return NO_SUCH_KEY
        asset = upload_assets.asset(self.directory, file)
        headers = {"Content-Type": asset.content_type, "Cache-Control": asset.cache_control}
        return GatewayAnswer(HTTPStatus.OK, headers, file.read_bytes())


@dataclass(frozen=True)
class CachePolicy:
    """A template's cache policy: how long answers are kept, and what tells them apart."""

    min_ttl: float
    default_ttl: float
    max_ttl: float
    gzip: bool  # Accept-Encoding (gzip or not) in the key
    query_strings: str  # all, none, whitelist, allExcept
    named: frozenset[str] = frozenset()  # the query strings the whitelist or allExcept name

    def key_query(self, query: str) -> str:
        pairs = parse_qsl(query, keep_blank_values=True)
        if self.query_strings == "all":
            return query
        if self.query_strings == "whitelist":
            return urlencode([(name, value) for name, value in pairs if name in self.named])
        if self.query_strings == "allExcept":
            return urlencode([(name, value) for name, value in pairs if name not in self.named])
        return ""

    def ttl(self, cache_control: str | None) -> float:
        directives = {
            name.strip().lower(): value.strip()
            for part in (cache_control or "").split(",")
            if part.strip()
            for name, _, value in [part.partition("=")]
        }
        if {"no-store", "no-cache", "private"} & directives.keys():
            return self.min_ttl
        for name in ("s-maxage", "max-age"):
            if directives.get(name, "").isdigit():
                return min(max(float(directives[name]), self.min_ttl), self.max_ttl)
        return min(max(self.default_ttl, self.min_ttl), self.max_ttl)


@dataclass
class EdgeCache:
    """The answers a behaviour keeps, and one lock per key being fetched."""

    policy: CachePolicy
    kept: dict[tuple[str, ...], tuple[float, GatewayAnswer]] = field(default_factory=dict)
    fetching: dict[tuple[str, ...], threading.Lock] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(
        self, request: BaseHTTPRequestHandler, fetch: Callable[[], GatewayAnswer]
    ) -> GatewayAnswer:
        parts = urlsplit(request.path)
        gzip_accepted = self.policy.gzip and "gzip" in accepted_codings(
            request.headers.get("Accept-Encoding")
        )
        key = (request.command, parts.path, self.policy.key_query(parts.query), str(gzip_accepted))
        del request.headers["Accept-Encoding"]
        if gzip_accepted:
            request.headers["Accept-Encoding"] = "gzip"
        with self.lock:
            fetching = self.fetching.setdefault(key, threading.Lock())
        with fetching:  # one request per key asks the origin; the others wait for its answer
            held = self._held(key)
            if held is not None:
                return _with_header(held, "X-Cache", "Hit from cloudfront")
            answer = fetch()
            if answer.status in CACHED_STATUSES:
                ttl = self.policy.ttl(answer.header("Cache-Control"))
                with self.lock:
                    self.kept[key] = (time.monotonic() + ttl, answer)
                    if len(self.kept) > KEPT_AT_MOST:  # forget what has expired
                        now = time.monotonic()
                        for stale in [k for k, (until, _) in self.kept.items() if until <= now]:
                            del self.kept[stale]
                            self.fetching.pop(stale, None)
        return _with_header(answer, "X-Cache", "Miss from cloudfront")

    def _held(self, key: tuple[str, ...]) -> GatewayAnswer | None:
        with self.lock:
            expires, answer = self.kept.get(key, (0.0, None))
            if answer is not None and time.monotonic() < expires:
                return answer
            self.kept.pop(key, None)
            return None


def _with_header(answer: GatewayAnswer, name: str, value: str) -> GatewayAnswer:
    return replace(answer, headers={**answer.headers, name: value})


@dataclass(frozen=True)
class Behaviour:
    path_pattern: str
    pattern: re.Pattern[str]
    origin: ApiOrigin | BucketOrigin
    methods: frozenset[str]
    compress: bool
    headers: tuple[tuple[str, str, bool], ...]  # name, value, override
    cache: EdgeCache | None = None  # the API's answers kept at the edge
    cached_methods: frozenset[str] = frozenset({"GET", "HEAD"})


class LocalDistribution:
    def __init__(self, behaviours: list[Behaviour], web_acl: LocalWebAcl | None = None) -> None:
        self.behaviours = behaviours  # in CloudFront's order: the default behaviour last
        self.web_acl = web_acl

    def summary(self) -> str:
        return ", ".join(
            f"{b.path_pattern} -> "
            + (str(b.origin.directory) if isinstance(b.origin, BucketOrigin) else "the API")
            for b in self.behaviours
        )

    def answer(self, request: BaseHTTPRequestHandler, origin: Origin) -> GatewayAnswer:
        path = urlsplit(request.path).path
        if self.web_acl is not None:
            seen = Request(
                method=request.command,
                path=path,
                headers={name.lower(): value for name, value in request.headers.items()},
                ip=request.client_address[0],
            )
            if (blocked := self.web_acl.check(seen)) is not None:
                discard_body(request)
                return blocked
        behaviour = next(b for b in self.behaviours if b.pattern.fullmatch(path))
        if request.command not in behaviour.methods:
            discard_body(request)
            answer = METHOD_REFUSED
        elif isinstance(behaviour.origin, BucketOrigin):
            discard_body(request)
            answer = behaviour.origin.get(path)
        else:
            behaviour.origin.request_headers(request)
            if behaviour.cache is not None and request.command in behaviour.cached_methods:
                answer = behaviour.cache.answer(request, lambda: origin(request))
            else:
                answer = origin(request)
        return _to_viewer(behaviour, request.headers.get("Accept-Encoding"), answer)


def _to_viewer(
    behaviour: Behaviour, accept_encoding: str | None, answer: GatewayAnswer
) -> GatewayAnswer:
    headers, body = dict(answer.headers), answer.body
    media_type = (answer.header("Content-Type") or "").split(";")[0].strip().lower()
    if (
        behaviour.compress
        and "gzip" in accepted_codings(accept_encoding)
        and answer.header("Content-Encoding") is None
        and media_type in COMPRESSIBLE
        and len(body) in COMPRESSIBLE_SIZE
    ):
        headers["Content-Encoding"], body = "gzip", gzip.compress(body, mtime=0)
    for name, value, override in behaviour.headers:
        present = [key for key in headers if key.lower() == name.lower()]
        if present and not override:
            continue
        for key in present:
            del headers[key]
        headers[name] = value
    return replace(answer, headers=headers, body=body)


def _path_pattern(pattern: str | None) -> re.Pattern[str]:
    """CloudFront's: * matches any characters (slashes too), ? one; case-sensitive. The
    default behaviour (no pattern) takes every request."""
    if pattern is None:
        return re.compile(".*", re.DOTALL)
    text = re.escape("/" + pattern.removeprefix("/")).replace(r"\*", ".*").replace(r"\?", ".")
    return re.compile(text, re.DOTALL)


def _refuse_unplayed(where: str, properties: Mapping[str, Any], known: set[str]) -> None:
    if unplayed := sorted(set(properties) - known):
        raise ValueError(f"{where}: {', '.join(unplayed)} not played locally")


def _security_headers(policy: Mapping[str, Any]) -> tuple[tuple[str, str, bool], ...]:
    config = policy["Properties"]["ResponseHeadersPolicyConfig"]
    _refuse_unplayed(
        "ResponseHeadersPolicyConfig", config, {"Name", "Comment", "SecurityHeadersConfig"}
    )
    security = dict(config.get("SecurityHeadersConfig", {}))
    headers = []
    if hsts := security.pop("StrictTransportSecurity", None):
        value = f"max-age={hsts['AccessControlMaxAgeSec']}"
        value += "; includeSubDomains" * bool(hsts.get("IncludeSubdomains"))
        value += "; preload" * bool(hsts.get("Preload"))
        headers.append(("Strict-Transport-Security", value, hsts["Override"]))
    if options := security.pop("ContentTypeOptions", None):
        headers.append(("X-Content-Type-Options", "nosniff", options["Override"]))
    if frame := security.pop("FrameOptions", None):
        headers.append(("X-Frame-Options", frame["FrameOption"], frame["Override"]))
    if referrer := security.pop("ReferrerPolicy", None):
        headers.append(("Referrer-Policy", referrer["ReferrerPolicy"], referrer["Override"]))
    if csp := security.pop("ContentSecurityPolicy", None):
        headers.append(("Content-Security-Policy", csp["ContentSecurityPolicy"], csp["Override"]))
    _refuse_unplayed("SecurityHeadersConfig", security, set())
    return tuple((name, str(value), bool(override)) for name, value, override in headers)


def _origins(
    template: dict[str, Any], references: References, config: Mapping[str, Any], assets_dir: Path
) -> dict[str, ApiOrigin | BucketOrigin]:
    """Each origin is the Api's stage or the bucket `make deploy` fills; nothing else is local."""
    region = references.ref("AWS::Region")
    apis = {
        f"{references.ref(api)}.execute-api.{region}.amazonaws.com": resolve(
            resource["Properties"].get("StageName"), references
        )
        for api, resource in resources_of_type(template, "AWS::Serverless::Api").items()
    }
    output = template.get("Outputs", {}).get(upload_assets.BUCKET_OUTPUT, {})
    filled = resolve(output.get("Value"), references)
    buckets = {
        references.get_att(bucket, "RegionalDomainName"): bucket
        for bucket in resources_of_type(template, "AWS::S3::Bucket")
        if references.ref(bucket) == filled
    }
    origins: dict[str, ApiOrigin | BucketOrigin] = {}
    for origin in config["Origins"]:
        where, domain, path = (
            f"origin {origin['Id']}",
            origin["DomainName"],
            origin.get("OriginPath"),
        )
        _refuse_unplayed(where, origin, _ORIGIN_KEYS)
        custom = tuple(
            (str(header["HeaderName"]), str(header["HeaderValue"]))
            for header in origin.get("OriginCustomHeaders", [])
        )
        if domain in apis and path == f"/{apis[domain]}":
            origins[origin["Id"]] = ApiOrigin(host=domain, custom_headers=custom)
        elif domain in buckets and not path and not custom:
            origins[origin["Id"]] = BucketOrigin(assets_dir)
        else:
            raise ValueError(
                f"{where}: only the Api's stage and the bucket of the "
                f"{upload_assets.BUCKET_OUTPUT} output are played locally"
            )
    return origins


def distribution_from(
    template: dict[str, Any],
    references: References,
    assets_dir: Path = upload_assets.ASSETS_DIR,
) -> LocalDistribution | None:
    """The template's distribution (one at most), as the local stack plays it; the assets
    bucket holds what `make deploy` would upload from assets_dir."""
    distributions = resources_of_type(template, "AWS::CloudFront::Distribution")
    if not distributions:
        return None
    (resource,) = distributions.values()
    config = resolve(resource["Properties"]["DistributionConfig"], references)
    _refuse_unplayed("DistributionConfig", config, _IGNORED | _CONFIG_KEYS)
    origins = _origins(template, references, config, assets_dir)
    policies = {
        references.ref(logical_id): policy
        for logical_id, policy in resources_of_type(
            template, "AWS::CloudFront::ResponseHeadersPolicy"
        ).items()
    }
    cache_policies = {
        references.ref(logical_id): _cache_policy(resolve(policy["Properties"], references))
        for logical_id, policy in resources_of_type(
            template, "AWS::CloudFront::CachePolicy"
        ).items()
    }
    behaviours = []
    for properties in [*config.get("CacheBehaviors", []), config["DefaultCacheBehavior"]]:
        where = f"behaviour {properties.get('PathPattern', 'default')}"
        _refuse_unplayed(where, properties, _BEHAVIOUR_KEYS)
        origin = origins[properties["TargetOriginId"]]
        cache_policy = properties.get("CachePolicyId")
        request_policy = properties.get("OriginRequestPolicyId")
        if cache_policy not in CACHES_COMPRESSED and cache_policy not in cache_policies:
            raise ValueError(f"{where}: cache policy {cache_policy} not played locally")
        kept = cache_policies.get(cache_policy)
        if kept is not None and not isinstance(origin, ApiOrigin):
            raise ValueError(f"{where}: a cache policy of the template is played for the Api only")
        if isinstance(origin, ApiOrigin) and request_policy != ALL_VIEWER_EXCEPT_HOST_HEADER:
            raise ValueError(f"{where}: origin request policy {request_policy} not played locally")
        headers_policy = properties.get("ResponseHeadersPolicyId")
        if headers_policy is not None and headers_policy not in policies:
            raise ValueError(f"{where}: response headers policy {headers_policy} not played")
        behaviours.append(
            Behaviour(
                path_pattern=properties.get("PathPattern", "default"),
                pattern=_path_pattern(properties.get("PathPattern")),
                origin=origin,
                methods=frozenset(properties.get("AllowedMethods", ["GET", "HEAD"])),
                compress=bool(properties.get("Compress"))
                and (kept.gzip if kept is not None else CACHES_COMPRESSED[cache_policy]),
                headers=()
                if headers_policy is None
                else _security_headers(policies[headers_policy]),
                cache=None if kept is None else EdgeCache(kept),
                cached_methods=frozenset(properties.get("CachedMethods", ["GET", "HEAD"])),
            )
        )
    return LocalDistribution(behaviours, _web_acl(template, references, config))


def _cache_policy(properties: Mapping[str, Any]) -> CachePolicy:
    """A CachePolicyConfig, as far as it is played: TTLs, gzip and query strings in the key;
    headers and cookies in the key are not."""
    config = properties["CachePolicyConfig"]
    _refuse_unplayed(
        "CachePolicyConfig",
        config,
        {*_CACHE_POLICY_KEYS, "ParametersInCacheKeyAndForwardedToOrigin"},
    )
    parameters = config["ParametersInCacheKeyAndForwardedToOrigin"]
    _refuse_unplayed("ParametersInCacheKeyAndForwardedToOrigin", parameters, _CACHE_KEY_KEYS)
    if parameters.get("EnableAcceptEncodingBrotli"):
        raise ValueError("EnableAcceptEncodingBrotli: not played locally")
    for config_key, behaviour_key in (
        ("HeadersConfig", "HeaderBehavior"),
        ("CookiesConfig", "CookieBehavior"),
    ):
        if parameters[config_key][behaviour_key] != "none":
            raise ValueError(f"{config_key}: only {behaviour_key} none is played locally")
    query_strings = parameters["QueryStringsConfig"]
    return CachePolicy(
        min_ttl=float(config.get("MinTTL", 0)),
        default_ttl=float(config.get("DefaultTTL", 86400)),
        max_ttl=float(config.get("MaxTTL", 31536000)),
        gzip=bool(parameters.get("EnableAcceptEncodingGzip")),
        query_strings=query_strings["QueryStringBehavior"],
        named=frozenset(query_strings.get("QueryStrings", [])),
    )


def _web_acl(
    template: dict[str, Any], references: References, config: Mapping[str, Any]
) -> LocalWebAcl | None:
    """The web ACL the distribution names (WebACLId: its Arn), played by web_acl.py."""
    if "WebACLId" not in config:
        return None
    ip_sets = {
        references.get_att(logical_id, "Arn"): resolve(resource["Properties"], references)[
            "Addresses"
        ]
        for logical_id, resource in resources_of_type(template, "AWS::WAFv2::IPSet").items()
        if references.condition_holds(resource)
    }
    for logical_id, resource in resources_of_type(template, "AWS::WAFv2::WebACL").items():
        if references.get_att(logical_id, "Arn") == config["WebACLId"]:
            return web_acl_from(resolve(resource["Properties"], references), ip_sets)
    raise ValueError(f"WebACLId {config['WebACLId']}: no web ACL of the template")
