"""AWS WAF on this machine: the distribution's web ACL, as far as it can be played locally.

The template's rate-based rules and the rules that act on their labels are played as AWS WAF
plays them: a rate-based rule counts, per client IP (the TCP peer), the requests its scope-down
statement matches over its evaluation window, and while an IP is over the limit its action
applies to them (Count with its labels, or Block); a rule on a label then blocks with its custom
response (status, headers, one of the ACL's custom bodies). Rules run in priority order; a
terminating action (Block, Allow) ends the evaluation, Count does not.

Played statements: ByteMatch, RegexMatch and SizeConstraint on the method, the URI path or a
single header (text transformation NONE or LOWERCASE), And, Or, Not, LabelMatch, IPSetReference
and RateBased (aggregated by IP). Managed rule groups (AWS's common rules, known bad inputs, IP
reputation, Bot Control) are AWS's own and are not played; any other statement, action or key
stops the start with its name.

One difference: AWS WAF looks at the rates every few seconds, so a burst can get through
before the limit bites; here the count is exact, request by request.
"""

from __future__ import annotations

import ipaddress
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from infra.local.gateway import GatewayAnswer

NOT_PLAYED_HERE = frozenset({"ManagedRuleGroupStatement"})
_CONTENT_TYPES = {
    "APPLICATION_JSON": "application/json",
    "TEXT_HTML": "text/html; charset=utf-8",
    "TEXT_PLAIN": "text/plain; charset=utf-8",
}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: Mapping[str, str]  # names in lower case
    ip: str


Matcher = Callable[[Request, frozenset[str]], bool]
IpSets = Mapping[str, list[str]]  # CIDRs by IP set ARN


def _refuse(where: str, found: Mapping[str, Any], known: set[str]) -> None:
    if unplayed := sorted(set(found) - known):
        raise ValueError(f"web ACL {where}: {', '.join(unplayed)} not played locally")


def _field(where: str, spec: Mapping[str, Any]) -> Callable[[Request], str]:
    _refuse(where, spec, {"Method", "UriPath", "SingleHeader"})
    ((kind, detail),) = spec.items()
    if kind == "Method":
        return lambda request: request.method
    if kind == "UriPath":
        return lambda request: request.path
    name = str(detail["Name"]).lower()
    return lambda request: request.headers.get(name, "")


def _transform(where: str, transformations: list[Mapping[str, Any]]) -> Callable[[str], str]:
    kinds = [t["Type"] for t in sorted(transformations, key=lambda t: t["Priority"])]
    _refuse(where, dict.fromkeys(kinds), {"NONE", "LOWERCASE"})
    lower = "LOWERCASE" in kinds
    return (lambda text: text.lower()) if lower else (lambda text: text)


def _byte_match(where: str, spec: Mapping[str, Any]) -> Matcher:
    value = _field(where, spec["FieldToMatch"])
    transform = _transform(where, spec["TextTransformations"])
    text, constraint = str(spec["SearchString"]), spec["PositionalConstraint"]
    tests: dict[str, Callable[[str], bool]] = {
        "EXACTLY": lambda seen: seen == text,
        "STARTS_WITH": lambda seen: seen.startswith(text),
        "ENDS_WITH": lambda seen: seen.endswith(text),
        "CONTAINS": lambda seen: text in seen,
    }
    if constraint not in tests:
        raise ValueError(f"web ACL {where}: PositionalConstraint {constraint} not played locally")
    test = tests[constraint]
    return lambda request, _labels: test(transform(value(request)))


def _regex_match(where: str, spec: Mapping[str, Any]) -> Matcher:
    value = _field(where, spec["FieldToMatch"])
    transform = _transform(where, spec["TextTransformations"])
    pattern = re.compile(str(spec["RegexString"]))
    return lambda request, _labels: pattern.search(transform(value(request))) is not None


def _size_constraint(where: str, spec: Mapping[str, Any]) -> Matcher:
    value = _field(where, spec["FieldToMatch"])
    size, operator = int(spec["Size"]), spec["ComparisonOperator"]
    tests: dict[str, Callable[[int], bool]] = {
        "EQ": lambda n: n == size,
        "NE": lambda n: n != size,
        "LE": lambda n: n <= size,
        "LT": lambda n: n < size,
        "GE": lambda n: n >= size,
        "GT": lambda n: n > size,
    }
    test = tests[operator]
    return lambda request, _labels: test(len(value(request).encode()))


def _label_match(where: str, spec: Mapping[str, Any]) -> Matcher:
    key, scope = str(spec["Key"]), spec["Scope"]
    if scope == "NAMESPACE":
        return lambda _request, labels: any(label.startswith(key) for label in labels)
    if scope == "LABEL":
        return lambda _request, labels: key in labels
    raise ValueError(f"web ACL {where}: label scope {scope} not played locally")


def _ip_set(where: str, spec: Mapping[str, Any], ip_sets: IpSets) -> Matcher:
    _refuse(where, spec, {"Arn"})
    networks = [ipaddress.ip_network(cidr, strict=False) for cidr in ip_sets[spec["Arn"]]]
    return lambda request, _labels: any(
        ipaddress.ip_address(request.ip) in network for network in networks
    )


def statement(where: str, spec: Mapping[str, Any], ip_sets: IpSets | None = None) -> Matcher:
    """A matcher for a (non rate-based) statement; `ip_sets`: addresses by IP set ARN."""
    ((kind, detail),) = spec.items()
    if kind == "IPSetReferenceStatement":
        return _ip_set(where, detail, ip_sets or {})
    if kind in ("AndStatement", "OrStatement"):
        parts = [statement(where, part, ip_sets) for part in detail["Statements"]]
        combine = all if kind == "AndStatement" else any
        return lambda request, labels: combine(part(request, labels) for part in parts)
    if kind == "NotStatement":
        inner = statement(where, detail["Statement"], ip_sets)
        return lambda request, labels: not inner(request, labels)
    makers = {
        "ByteMatchStatement": _byte_match,
        "RegexMatchStatement": _regex_match,
        "SizeConstraintStatement": _size_constraint,
        "LabelMatchStatement": _label_match,
    }
    if kind not in makers:
        raise ValueError(f"web ACL {where}: {kind} not played locally")
    return makers[kind](where, detail)


@dataclass
class RateCounter:
    """Requests per IP in a sliding window, as a rate-based rule aggregates them."""

    limit: int
    window: float
    clock: Callable[[], float] = time.monotonic
    _seen: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def over_limit(self, ip: str) -> bool:
        """Count one request of `ip`; whether its rate is now over the limit."""
        now = self.clock()
        with self._lock:
            seen = self._seen[ip]
            seen.append(now)
            while seen and seen[0] <= now - self.window:
                seen.popleft()
            return len(seen) > self.limit


@dataclass(frozen=True)
class Rule:
    name: str
    priority: int
    applies: Callable[[Request, frozenset[str]], bool]
    action: str  # "Count" | "Block" | "Allow"
    labels: tuple[str, ...]
    block: GatewayAnswer | None


@dataclass(frozen=True)
class LocalWebAcl:
    rules: tuple[Rule, ...]
    default_blocks: bool

    def check(self, request: Request) -> GatewayAnswer | None:
        """The block answer for `request`, or None when it may pass."""
        labels: set[str] = set()
        for rule in self.rules:
            if not rule.applies(request, frozenset(labels)):
                continue
            labels.update(rule.labels)
            if rule.action == "Block":
                return rule.block
            if rule.action == "Allow":
                return None
        return _FORBIDDEN if self.default_blocks else None


_FORBIDDEN = GatewayAnswer(HTTPStatus.FORBIDDEN, {"Content-Type": "text/html"}, b"Forbidden")
_RULE_KEYS = {
    *("Name", "Priority", "Statement", "Action", "OverrideAction"),
    *("RuleLabels", "VisibilityConfig", "CaptchaConfig", "ChallengeConfig"),
}


def _block_answer(
    where: str, action: Mapping[str, Any], bodies: Mapping[str, Any]
) -> GatewayAnswer:
    custom = action.get("CustomResponse")
    if custom is None:
        return _FORBIDDEN
    _refuse(where, custom, {"ResponseCode", "CustomResponseBodyKey", "ResponseHeaders"})
    headers = {str(h["Name"]): str(h["Value"]) for h in custom.get("ResponseHeaders", [])}
    body = b""
    if key := custom.get("CustomResponseBodyKey"):
        chosen = bodies[key]
        headers["Content-Type"] = _CONTENT_TYPES[chosen["ContentType"]]
        body = str(chosen["Content"]).encode()
    return GatewayAnswer(HTTPStatus(int(custom["ResponseCode"])), headers, body)


def _rule(spec: Mapping[str, Any], bodies: Mapping[str, Any], ip_sets: IpSets) -> Rule | None:
    where = f"rule {spec.get('Name')}"
    _refuse(where, spec, _RULE_KEYS)
    ((kind, detail),) = spec["Statement"].items()
    if kind in NOT_PLAYED_HERE:
        return None
    if "Action" not in spec:
        raise ValueError(f"web ACL {where}: a rule without Action not played locally")
    ((action, settings),) = spec["Action"].items()
    if action not in ("Count", "Block", "Allow"):
        raise ValueError(f"web ACL {where}: action {action} not played locally")
    if kind == "RateBasedStatement":
        _refuse(
            where,
            detail,
            {"AggregateKeyType", "Limit", "EvaluationWindowSec", "ScopeDownStatement"},
        )
        if detail["AggregateKeyType"] != "IP":
            raise ValueError(f"web ACL {where}: only rates per IP are played locally")
        scope = (
            statement(where, detail["ScopeDownStatement"], ip_sets)
            if "ScopeDownStatement" in detail
            else (lambda _request, _labels: True)
        )
        counter = RateCounter(int(detail["Limit"]), float(detail.get("EvaluationWindowSec", 300)))
        applies: Matcher = lambda request, labels: (  # noqa: E731 - one expression
            scope(request, labels) and counter.over_limit(request.ip)
        )
    else:
        applies = statement(where, spec["Statement"], ip_sets)
    return Rule(
        name=str(spec["Name"]),
        priority=int(spec["Priority"]),
        applies=applies,
        action=action,
        labels=tuple(str(label["Name"]) for label in spec.get("RuleLabels", [])),
        block=_block_answer(where, settings, bodies) if action == "Block" else None,
    )


def web_acl_from(properties: Mapping[str, Any], ip_sets: IpSets | None = None) -> LocalWebAcl:
    """The web ACL a resource's (resolved) properties describe, as played here; `ip_sets`:
    the template's IP sets' addresses by ARN."""
    _refuse(
        "",
        properties,
        {
            *("Name", "Scope", "Description", "DefaultAction", "VisibilityConfig", "Rules"),
            *("CustomResponseBodies", "Tags"),
        },
    )
    bodies = properties.get("CustomResponseBodies", {})
    rules = [_rule(spec, bodies, ip_sets or {}) for spec in properties.get("Rules", []) if spec]
    return LocalWebAcl(
        rules=tuple(sorted((r for r in rules if r is not None), key=lambda r: r.priority)),
        default_blocks="Block" in properties["DefaultAction"],
    )
