"""Fault injection shared by the simulators: latency, 5xx, 429, hangs and scripted rules."""

from __future__ import annotations

import email.utils
import random
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

RetryAfterFormat = Literal["seconds", "http-date"]


@dataclass
class FaultConfig:
    """Random faults applied to every API request (never to the `/_sim/` control routes)."""

    latency_ms: float = 0
    error_rate: float = 0.0
    rate_limit_rate: float = 0.0
    retry_after_s: float = 1
    retry_after_format: RetryAfterFormat = "seconds"
    timeout_rate: float = 0.0
    hang_s: float = 5.0
    seed: int | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultConfig:
        """Build from JSON-like data; unknown keys or a bad format raise ValueError."""
        config = cls(**_known_fields(cls, data))
        if config.retry_after_format not in ("seconds", "http-date"):
            raise ValueError("retry_after_format must be 'seconds' or 'http-date'")
        return config


@dataclass
class FaultRule:
    """A scripted fault: the matching requests number skip+1 .. skip+times get `status`.

    `path_prefix` is matched case-insensitively against the path relative to the simulator's
    base URL (e.g. "/orders" for Centra, "/api/v1/Orders" for myOGO); `method` "*" matches any.
    With `after_success` the real operation runs first and its answer is replaced by `status`.
    `body` replaces the simulator's usual error body. `seen`/`fired` count matches and faults.
    """

    method: str
    path_prefix: str
    status: int
    times: int = 1
    skip: int = 0
    body: Any = None
    after_success: bool = False
    seen: int = field(default=0, init=False)
    fired: int = field(default=0, init=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultRule:
        """Build from JSON-like data; unknown keys raise ValueError."""
        return cls(**_known_fields(cls, data))

    def matches(self, method: str, path: str) -> bool:
        """True when the rule applies to this request."""
        method_ok = self.method == "*" or self.method.upper() == method.upper()
        return method_ok and path.lower().startswith(self.path_prefix.lower())


@dataclass(frozen=True)
class FaultDecision:
    """What the server must do with one request: wait `delay_s`, then maybe answer `status`."""

    delay_s: float = 0.0
    status: int | None = None
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    after_success: bool = False


class Faults:
    """Thread-safe holder of the fault config and scripted rules; deterministic given a seed."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self._config = FaultConfig()
        self._rules: list[FaultRule] = []
        self._rng = random.Random()
        self.injected: Counter[str] = Counter()  # faults served, by kind ("timeout", "429", "5xx", "rule")
        self.configure(config or FaultConfig())

    @property
    def config(self) -> FaultConfig:
        """The active random-fault configuration."""
        return self._config

    @property
    def rules(self) -> list[FaultRule]:
        """A copy of the scripted rules list (the rule objects are live)."""
        with self._lock:
            return list(self._rules)

    def configure(self, config: FaultConfig, rules: Iterable[FaultRule] | None = None) -> None:
        """Replace the config (re-seeding the RNG) and, if given, the rules."""
        with self._lock:
            self._config = config
            self._rng = random.Random(config.seed)
            if rules is not None:
                self._rules = list(rules)

    def add_rule(self, rule: FaultRule) -> FaultRule:
        """Append a scripted rule; rules are checked in insertion order."""
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        """Back to no faults at all."""
        self.configure(FaultConfig(), [])

    def to_json(self) -> dict[str, Any]:
        """A JSON summary for `/_sim/state`."""
        with self._lock:
            return {"config": asdict(self._config), "rules": [asdict(rule) for rule in self._rules]}

    def decide(self, method: str, path: str) -> FaultDecision:
        """Pick the fault for one request; scripted rules win over random faults."""
        with self._lock:
            delay = self._config.latency_ms / 1000
            rule = self._fire_rule(method, path)
            if rule is not None:
                self.injected["rule"] += 1
                return self._answer(rule.status, delay, body=rule.body, after_success=rule.after_success)
            return self._random(delay)

    def _fire_rule(self, method: str, path: str) -> FaultRule | None:
        for rule in self._rules:
            if not rule.matches(method, path):
                continue
            rule.seen += 1
            if rule.seen > rule.skip and rule.fired < rule.times:
                rule.fired += 1
                return rule
        return None

    def _random(self, delay: float) -> FaultDecision:
        config = self._config
        draw = self._rng.random()
        if draw < config.timeout_rate:
            self.injected["timeout"] += 1
            return FaultDecision(delay_s=delay + config.hang_s)
        draw -= config.timeout_rate
        if draw < config.rate_limit_rate:
            self.injected["429"] += 1
            return self._answer(429, delay)
        draw -= config.rate_limit_rate
        if draw < config.error_rate:
            self.injected["5xx"] += 1
            return self._answer(self._rng.choice((500, 503)), delay)
        return FaultDecision(delay_s=delay)

    def _answer(self, status: int, delay: float, *, body: Any = None, after_success: bool = False) -> FaultDecision:
        headers = {}
        if status == 429:
            headers["Retry-After"] = retry_after_value(self._config.retry_after_s, self._config.retry_after_format)
        return FaultDecision(delay_s=delay, status=status, body=body, headers=headers, after_success=after_success)


def retry_after_value(seconds: float, fmt: RetryAfterFormat) -> str:
    """Format a Retry-After header: delay-seconds, or an HTTP-date `seconds` from now (wall clock).

    Fractional seconds are written as a decimal (not valid HTTP, a convenience for fast tests).
    """
    if fmt == "http-date":
        return email.utils.formatdate(time.time() + seconds, usegmt=True)
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)


def _known_fields(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    allowed = {f.name for f in fields(cls) if f.init}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} fields: {', '.join(unknown)}")
    return dict(data)
