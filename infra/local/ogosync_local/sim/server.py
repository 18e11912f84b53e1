"""A small threaded HTTP server base shared by the Centra and myOGO simulators."""

from __future__ import annotations

import collections
import functools
import json
import re
import sys
import threading
import time
import traceback
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self, TypeVar, cast

from ogosync_local.sim.faults import FaultConfig, FaultDecision, FaultRule, Faults

Clock = Callable[[], datetime]
F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R")


def utc_now() -> datetime:
    """The default simulator clock: the real time, aware, in UTC."""
    return datetime.now(UTC)


class ManualClock:
    """A settable clock for tests: call it to read the time, `advance()` to move it."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = _aware_utc(start or utc_now())

    def __call__(self) -> datetime:
        return self._now

    def advance(self, seconds: float = 0.0) -> datetime:
        """Move forward by `seconds` and return the new time."""
        self._now += timedelta(seconds=seconds)
        return self._now

    def set(self, when: datetime) -> None:
        """Jump to `when` (must be timezone-aware)."""
        self._now = _aware_utc(when)


class HttpError(Exception):
    """Raised by handlers to answer `status` with `body` (default: the simulator's error body)."""

    def __init__(self, status: int, message: str, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.body = body


@dataclass
class Request:
    """One parsed request; `path` is relative to the simulator's base path."""

    method: str
    path: str
    query: dict[str, str]
    headers: Message[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    principal: str | None = None

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-case."""
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def json(self) -> Any:
        """The body parsed as JSON; 400 when it is not JSON."""
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            raise HttpError(400, "Request body is not valid JSON") from None

    def json_object(self) -> dict[str, Any]:
        """The body parsed as a JSON object; 400 otherwise."""
        data = self.json()
        if not isinstance(data, dict):
            raise HttpError(400, "Request body must be a JSON object")
        return data

    def form(self) -> dict[str, str]:
        """The body parsed as application/x-www-form-urlencoded (first value per key)."""
        pairs = urllib.parse.parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return dict(reversed(pairs))


@dataclass
class Response:
    """A raw response; build it with `json_response` or `empty_response`."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """Serialise `data` as JSON (None gives the literal body `null`)."""
    body = json.dumps(data).encode()
    return Response(status, body, {"Content-Type": "application/json; charset=utf-8", **(headers or {})})


def empty_response(status: int = 204) -> Response:
    """A response without a body."""
    return Response(status)


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    """A (method, path template) pair; `key` is what `SimServer.calls` counts."""

    method: str
    template: str
    pattern: re.Pattern[str]
    handler: Handler
    auth: bool

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"


def compile_template(template: str, ignore_case: bool = False) -> re.Pattern[str]:
    """Turn "/shipments/{id}" into a regex with named groups; a trailing slash is allowed."""
    parts = re.split(r"\{(\w+)\}", template)
    regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+)" for i, part in enumerate(parts))
    return re.compile(f"^{regex}/?$", re.IGNORECASE if ignore_case else 0)


def int_param(query: Mapping[str, str], name: str, default: int, minimum: int = 0, maximum: int | None = None) -> int:
    """Read an integer query parameter; ValueError when malformed or out of range."""
    raw = query.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer") from None
    if value < minimum or (maximum is not None and value > maximum):
        upper = "" if maximum is None else f" and at most {maximum}"
        raise ValueError(f"{name} must be at least {minimum}{upper}")
    return value


def locked(method: F) -> F:
    """Run a simulator method under the simulator's lock."""

    @functools.wraps(method)
    def wrapper(self: SimServer, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            return method(self, *args, **kwargs)

    return cast(F, wrapper)


class SimServer:
    """Runs a ThreadingHTTPServer on a free local port with routing, call counts, faults and `/_sim/` control.

    API handlers run under `self.lock` (an RLock that the public Python methods share); control
    handlers do not, so a control call may do slow work such as delivering webhooks.
    """

    def __init__(
        self,
        *,
        base_path: str = "",
        clock: Clock | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        ignore_case_paths: bool = False,
    ) -> None:
        self.lock = threading.RLock()
        self.faults = Faults()
        self.calls: collections.Counter[str] = collections.Counter()
        self.clock: Clock = clock or utc_now
        self._base_path = base_path.rstrip("/")
        self._address = (host, port)
        self._ignore_case = ignore_case_paths
        self._calls_lock = threading.Lock()
        self._routes: list[Route] = []
        self._control_routes: list[Route] = []
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.add_control_route("GET", "/_sim/state", self._control_state)
        self.add_control_route("POST", "/_sim/faults", self._control_faults)
        self.add_control_route("POST", "/_sim/reset", self._control_reset)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> Self:
        """Bind and serve in a daemon thread; returns self."""
        if self._httpd is None:
            self._httpd = _HTTPServer(self._address, self)
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, args=(0.01,), name=type(self).__name__, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (requests still hanging are abandoned)."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (only while started)."""
        if self._httpd is None:
            raise RuntimeError("simulator is not started")
        return int(self._httpd.server_address[1])

    @property
    def root_url(self) -> str:
        """`http://host:port` without the base path; the control surface lives at root_url + "/_sim/"."""
        return f"http://{self._address[0]}:{self.port}"

    @property
    def base_url(self) -> str:
        """The URL a product adapter is configured with."""
        return self.root_url + self._base_path

    # -- clock, counters ---------------------------------------------------------------------
    def now(self) -> datetime:
        """The simulator's current time, aware UTC (from `self.clock`)."""
        return _aware_utc(self.clock())

    def reset_calls(self) -> None:
        """Zero the per-route call counter."""
        with self._calls_lock:
            self.calls.clear()

    # -- routing -------------------------------------------------------------------------------
    def add_route(self, method: str, template: str, handler: Handler, *, auth: bool = True) -> None:
        """Register an API route (relative to the base path); counted, faulted, and authenticated if `auth`."""
        self._routes.append(Route(method, template, compile_template(template, self._ignore_case), handler, auth))

    def add_control_route(self, method: str, template: str, handler: Handler) -> None:
        """Register a `/_sim/...` route: no auth, no faults, not counted, not under the lock."""
        self._control_routes.append(Route(method, template, compile_template(template), handler, False))

    # -- hooks for subclasses --------------------------------------------------------------------
    def authenticate(self, request: Request) -> Response | None:
        """Return a denial response, or None to let the request through (may set request.principal)."""
        return None

    def error_body(self, status: int, message: str) -> Any:
        """The JSON body this API uses for an HTTP-level error."""
        return {"error": message}

    def state(self) -> dict[str, Any]:
        """A JSON summary of the simulated data for `GET /_sim/state`."""
        return {}

    def reset(self) -> None:
        """Forget faults and call counts; subclasses also drop their data."""
        self.faults.clear()
        self.reset_calls()

    def error_response(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
        """`error_body` as a JSON response."""
        return json_response(self.error_body(status, message), status, headers)

    @staticmethod
    def call_with_json(request: Request, method: Callable[..., R]) -> R:
        """Control helper: call `method(**body)` (empty body: no arguments); bad arguments give 400."""
        kwargs = request.json_object() if request.body.strip() else {}
        try:
            return method(**kwargs)
        except (TypeError, ValueError, KeyError) as exc:
            raise HttpError(400, f"{type(exc).__name__}: {exc}") from None

    def _json_control(self, method: Callable[..., Any]) -> Callable[[Request], Response]:
        """A control route answering `method(**body)` as JSON."""
        return lambda request: json_response(self.call_with_json(request, method))

    def _order_control(self, method: Callable[..., Any]) -> Callable[[Request], Response]:
        """A control route answering `method(<the path's orderId>, **body)` as JSON."""
        return lambda request: json_response(
            self.call_with_json(request, functools.partial(method, request.params["orderId"]))
        )

    # -- dispatch ---------------------------------------------------------------------------------
    def handle(self, method: str, raw_path: str, headers: Message[str, str], body: bytes) -> Response:
        """Route one request: control routes directly, API routes through count, faults, auth and lock."""
        split = urllib.parse.urlsplit(raw_path)
        query = dict(reversed(urllib.parse.parse_qsl(split.query, keep_blank_values=True)))
        request = Request(method, split.path, query, headers, body)
        if split.path.startswith("/_sim/"):
            return self._control(request)
        if not split.path.lower().startswith(self._base_path.lower()):
            return self.error_response(404, "Not found")
        request.path = split.path[len(self._base_path) :] or "/"
        try:
            route = self._match(self._routes, request)
        except HttpError as exc:
            return self.error_response(exc.status, exc.message)
        with self._calls_lock:
            self.calls[route.key] += 1
        return self._faulted(route, request)

    def _faulted(self, route: Route, request: Request) -> Response:
        decision = self.faults.decide(request.method, request.path)
        if decision.delay_s:
            time.sleep(decision.delay_s)
        if decision.status is not None and not decision.after_success:
            return self._fault_response(decision)
        response = self._run(route, request)
        return self._fault_response(decision) if decision.after_success else response

    def _fault_response(self, decision: FaultDecision) -> Response:
        status = cast(int, decision.status)
        if decision.body is not None:
            return json_response(decision.body, status, decision.headers)
        return self.error_response(status, "Simulated fault", decision.headers)

    def _run(self, route: Route, request: Request) -> Response:
        with self.lock:
            try:
                denied = self.authenticate(request) if route.auth else None
                return denied or route.handler(request)
            except HttpError as exc:
                return self._http_error(exc, self.error_body(exc.status, exc.message))

    def _control(self, request: Request) -> Response:
        try:
            route = self._match(self._control_routes, request)
            return route.handler(request)
        except HttpError as exc:
            return self._http_error(exc, {"error": exc.message})

    @staticmethod
    def _http_error(exc: HttpError, default_body: Any) -> Response:
        return json_response(default_body if exc.body is None else exc.body, exc.status)

    @staticmethod
    def _match(routes: list[Route], request: Request) -> Route:
        path_matched = False
        for route in routes:
            found = route.pattern.match(request.path)
            if found is None:
                continue
            path_matched = True
            if route.method == request.method:
                request.params = {k: urllib.parse.unquote(v) for k, v in found.groupdict().items()}
                return route
        raise HttpError(405, "Method not allowed") if path_matched else HttpError(404, "Not found")

    # -- control surface ----------------------------------------------------------------------
    def _control_state(self, request: Request) -> Response:
        with self.lock:
            state = self.state()
        with self._calls_lock:
            calls = dict(self.calls)
        return json_response({**state, "calls": calls, "faults": self.faults.to_json()})

    def _control_faults(self, request: Request) -> Response:
        data = request.json_object()
        try:
            rules = [FaultRule.from_dict(rule) for rule in data.pop("rules", [])]
            self.faults.configure(FaultConfig.from_dict(data), rules)
        except (TypeError, ValueError, AttributeError) as exc:
            raise HttpError(400, f"bad fault config: {exc}") from None
        return json_response(self.faults.to_json())

    def _control_reset(self, request: Request) -> Response:
        self.reset()
        return json_response({"reset": True})


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], sim: SimServer) -> None:
        self.sim = sim
        super().__init__(address, _RequestHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes; avoid the 40 ms delayed-ACK stall

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default per-request stderr log."""

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        sim = cast(_HTTPServer, self.server).sim
        try:
            response = sim.handle(self.command, self.path, self.headers, body)
        except Exception:
            traceback.print_exc()
            response = json_response({"error": "simulator crashed"}, 500)
        self._send(response)

    def _send(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
        except ConnectionError:
            self.close_connection = True


def _aware_utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("simulator clocks must return timezone-aware datetimes")
    return when.astimezone(UTC)
