"""The console's requests: routes, the session and its CSRF check, the role check, and the answers.

Every route but sign-in and the stylesheet needs a signed-in session; every POST needs the session's CSRF token;
every page or action of an integration first checks that the person may see it, and answers 404 when not (the
same answer as for an integration that does not exist, so that its existence is not told either).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError

from ogosync.console import pages, setup
from ogosync.console.deps import ConsoleDeps, SignInRefused
from ogosync.console.session import (
    COOKIE_NAME,
    Identity,
    NewPasswordNeeded,
    Session,
    cleared_cookie,
    csrf_matches,
    decode,
    encode,
    new_session,
    session_hash,
    set_cookie,
)
from ogosync.console.web import Answer, Request, parse, redirect
from ogosync.errors import UnknownIntegrationError
from ogosync.models import Flow, Integration, Platform, ProductAction, ProductState
from ogosync.operator import integrations, orders, products, runs, shipping, status
from ogosync.operator.errors import OperatorError
from ogosync.operator.products import ProductFilters
from ogosync.operator.schemas import CredentialsPatch, IntegrationPatch, ShippingMappingIn

_STYLESHEET = (Path(__file__).parent / "static" / "console.css").read_text()
_INTEGRATION = r"(?P<integration_id>[a-z0-9][a-z0-9-]{2,62})"
_ORDER_ID = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
_ORDER = rf"(?P<order_id>{_ORDER_ID})"
_QUEUE = r"(?P<queue>[a-z][a-z-]{1,40})"
DEAD_LETTERS_SHOWN = 100
PRODUCTS_PER_PAGE = 50
STOCK_PER_PAGE = 100
MAX_PICKED = 2000  # what the operator API's create takes at once
NOTES = {  # what a finished action says on the page it returns to; fixed words, never text from the request
    "paused": "Paused: no flow of this integration runs until it is resumed.",
    "resumed": "Resumed: the flows run again and catch up.",
    "released": "Released: the order is imported again now; it goes to myOGO if nothing holds it any more.",
    "released-all": "Every held order is imported again now.",
    "do-not-send": "The order is marked 'do not send': ogosync will not send it to myOGO.",
    "retried": "The order is imported again now; myOGO is asked first, so it is never created twice.",
    "shipment-retried": "The shipment is pushed to the store again now; the store is looked at first.",
    "redriven": "The dead letters went back to their queue.",
    "redriven-one": "The message went back to its queue.",
    "discarded": "Deleted for good.",
    "created": "Created: both sides accepted the credentials. Connect the webhook now.",
    "webhook-secret": "Saved: webhooks from the store are accepted from now on.",
    "mapped": "Saved: orders with this method get this myOGO shipping code; held ones can be released now.",
    "refreshing": "Refresh started: the store's products and myOGO are being read.",
    "creating": "Create product started: the products go to myOGO.",
}


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Context:
    request: Request
    session: Session
    deps: ConsoleDeps
    new_session: bool = False
    clear_cookie: bool = False

    @property
    def note(self) -> str | None:
        return NOTES.get(self.request.query.get("done", ""))

    def integration(self, integration_id: str) -> Integration:
        """The integration when this person may see it; 404 otherwise, whether it exists or not."""
        found = self.deps.operator.state.get_integration(integration_id)
        if found is None or not may_see(self.session, found):
            raise Refused(404, f"there is no integration {integration_id!r} you may see")
        return found

    def operator_only(self) -> None:
        if self.session.identity is None or not self.session.identity.operator:
            raise Refused(403, "only the warehouse's operators may see this page")


def may_see(session: Session, integration: Integration) -> bool:
    identity = session.identity
    if identity is None:
        return False
    return identity.operator or integration.merchant_name == identity.merchant


Handler = Callable[..., Answer]


def _stylesheet(ctx: Context) -> Answer:
    return Answer(200, _STYLESHEET, content_type="text/css; charset=utf-8")


def _no_icon(ctx: Context) -> Answer:
    return Answer(204, content_type="image/x-icon")


def _sign_in_page(ctx: Context) -> Answer:
    if ctx.session.identity is not None:
        return redirect("/")
    return Answer(200, pages.sign_in(ctx.session))


def _sign_in(ctx: Context) -> Answer:
    form = ctx.request.form
    try:
        identity = ctx.deps.sign_in.sign_in(form.get("username", ""), form.get("password", ""))
    except SignInRefused as exc:
        return Answer(401, pages.sign_in(ctx.session, str(exc)))
    if isinstance(identity, NewPasswordNeeded):
        ctx.session = ctx.session.model_copy(update={"new_password": identity})
        ctx.new_session = True
        return Answer(200, pages.new_password(ctx.session, None))
    return _signed_in(ctx, identity)


def _new_password(ctx: Context) -> Answer:
    challenge = ctx.session.new_password
    if challenge is None:
        return redirect("/sign-in")
    form = ctx.request.form
    if form.get("new_password", "") != form.get("again", ""):
        return Answer(422, pages.new_password(ctx.session, "the two passwords differ"))
    try:
        identity = ctx.deps.sign_in.set_new_password(challenge, form.get("new_password", ""))
    except SignInRefused as exc:
        return Answer(422, pages.new_password(ctx.session, str(exc)))
    return _signed_in(ctx, identity)


def _signed_in(ctx: Context, identity: Identity) -> Answer:
    # A new session (and CSRF token) on sign-in: a token seen before signing in is worth nothing after.
    ctx.session = new_session(identity, ctx.deps.operator.clock())
    ctx.new_session = True
    if ctx.session.sid is not None:
        ctx.deps.sessions.start_session(session_hash(ctx.session.sid), identity.username, ctx.session.expires)
    return redirect("/")


def _sign_out(ctx: Context) -> Answer:
    """The session ends for good (its state item), then Cognito revokes the user's tokens; the cookie is cleared."""
    identity, sid = ctx.session.identity, ctx.session.sid
    if sid is not None:
        ctx.deps.sessions.end_session(session_hash(sid), ctx.deps.operator.clock())
    if identity is not None:
        ctx.deps.sign_in.sign_out(identity.username)
    ctx.clear_cookie = True
    return redirect("/sign-in")


def _integrations(ctx: Context) -> Answer:
    deps = ctx.deps.operator
    visible = [each for each in integrations.list_integrations(deps) if may_see(ctx.session, each)]
    rows = [(each, status.integration_state(each.id, deps)) for each in visible]
    return Answer(200, pages.integrations(ctx.session, rows, deps.clock(), ctx.note))


def _pause_or_resume(ctx: Context, integration_id: str, action: str) -> Answer:
    integration = ctx.integration(integration_id)
    integrations.set_paused(integration.id, action == "pause", ctx.deps.operator)
    return redirect(f"/?done={'paused' if action == 'pause' else 'resumed'}")


def _orders(ctx: Context, integration_id: str) -> Answer:
    integration = ctx.integration(integration_id)
    wanted = ctx.request.query.get("find", "").strip()
    if wanted:
        if not re.fullmatch(_ORDER_ID, wanted):
            raise Refused(422, "an order number has letters, digits, '.', '_' or '-' only")
        return redirect(f"/integrations/{integration.id}/orders/{wanted}")
    deps = ctx.deps.operator
    held = status.held_orders(integration.id, deps)
    warnings = status.order_flow_warnings(integration.id, deps)
    return Answer(200, pages.held_orders(ctx.session, integration, held, warnings, deps.clock(), ctx.note))


def _order(ctx: Context, integration_id: str, order_id: str) -> Answer:
    integration = ctx.integration(integration_id)
    history = status.order_history(integration.id, order_id, True, ctx.deps.operator)
    return Answer(200, pages.order(ctx.session, history, ctx.note))


def _order_action(ctx: Context, integration_id: str, order_id: str, action: str) -> Answer:
    integration = ctx.integration(integration_id)
    deps = ctx.deps.operator
    if action == "release":
        status.release_order(integration.id, order_id, deps)
        done = "released"
    elif action == "retry":
        orders.retry_order(integration.id, order_id, deps)
        done = "retried"
    elif action == "retry-shipment":
        orders.retry_shipment(integration.id, order_id, deps)
        done = "shipment-retried"
    else:
        orders.do_not_send(integration.id, order_id, deps)
        done = "do-not-send"
    return redirect(f"/integrations/{integration.id}/orders/{order_id}?done={done}")


def _release_all(ctx: Context, integration_id: str) -> Answer:
    integration = ctx.integration(integration_id)
    status.release_held_orders(integration.id, ctx.deps.operator)
    return redirect(f"/integrations/{integration.id}/orders?done=released-all")


def _products(ctx: Context, integration_id: str) -> Answer:
    integration = ctx.integration(integration_id)
    query = ctx.request.query
    state = query.get("state") or None
    if state is not None and state not in set(ProductState):
        raise Refused(422, "pick a state from the list")
    filters = ProductFilters(
        state=None if state is None else ProductState(state),
        search=query.get("q", "").strip()[:100] or None,
        page=_page_number(query.get("page", "1")),
        page_size=PRODUCTS_PER_PAGE,
    )
    deps, runs = ctx.deps.operator, ctx.deps.product_runs
    latest = runs.get_product_run(integration.id)
    run = None if latest is None else products.latest_run(integration.id, deps, runs)
    listed = products.product_page(integration.id, filters, deps, runs) if runs.product_report(integration.id) else None
    body = pages.products(ctx.session, integration, run, listed, filters, deps.clock(), ctx.note)
    return Answer(200, body)


def _page_number(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 100_000:
        raise Refused(422, "a page number is a whole number from 1")
    return int(text)


def _product_action(ctx: Context, integration_id: str, action: str) -> Answer:
    integration = ctx.integration(integration_id)
    deps, runs = ctx.deps.operator, ctx.deps.product_runs
    if action == "refresh":
        products.request_action(integration.id, ProductAction.REFRESH, None, deps, runs)
        return redirect(f"/integrations/{integration.id}/products?done=refreshing")
    skus = None if action == "create-all" else _picked_skus(ctx.request.form_lists.get("sku", []))
    products.request_action(integration.id, ProductAction.CREATE, skus, deps, runs)
    return redirect(f"/integrations/{integration.id}/products?done=creating")


def _picked_skus(values: list[str]) -> list[str]:
    picked = list(dict.fromkeys(value.strip() for value in values if value.strip()))
    if not picked:
        raise Refused(422, "pick at least one product, or use Create all")
    if len(picked) > MAX_PICKED or any(len(sku) > 100 for sku in picked):
        raise Refused(422, f"pick at most {MAX_PICKED} products at once, or use Create all")
    return picked


def _shipping(ctx: Context, integration_id: str) -> Answer:
    integration = ctx.integration(integration_id)
    methods = shipping.shipping_methods(integration.id, ctx.deps.operator)
    return Answer(200, pages.shipping(ctx.session, integration, methods, ctx.note))


def _map_shipping(ctx: Context, integration_id: str) -> Answer:
    integration = ctx.integration(integration_id)
    form = ctx.request.form
    values = {"store_method": form.get("store_method", "").strip(), "myogo_code": form.get("myogo_code", "").strip()}
    try:
        request = ShippingMappingIn.model_validate(values)
    except ValidationError:
        raise Refused(422, "give the store's method and a myOGO shipping code, without spaces at either end") from None
    shipping.set_shipping_mapping(integration.id, request, ctx.deps.operator)
    return redirect(f"/integrations/{integration.id}/shipping?done=mapped")


def _new_integration_page(ctx: Context) -> Answer:
    platform = _wizard_platform(ctx.request.query.get("platform", Platform.CENTRA.value))
    return Answer(200, pages.new_integration(ctx.session, {}, _own_merchant(ctx), None, platform))


def _wizard_platform(name: str) -> Platform:
    try:
        return setup.platform_of(name)
    except setup.SetupRefused as exc:
        raise Refused(404, exc.message) from None


def _create_integration(ctx: Context) -> Answer:
    merchant = _own_merchant(ctx)
    kept = setup.kept_values(ctx.request.form)
    platform = _wizard_platform(ctx.request.form.get("platform", Platform.CENTRA.value))
    try:
        request = setup.parse(ctx.request.form, merchant)
        setup.check_urls(request, local_stack=ctx.deps.local_stack, resolve=ctx.deps.resolve)
        created = integrations.create_integration(request, ctx.deps.operator)
    except setup.SetupRefused as exc:
        error = _with_field(exc.message, exc.field)
        return Answer(422, pages.new_integration(ctx.session, kept, merchant, error, platform))
    except OperatorError as exc:
        error = _with_field(exc.message, exc.field)
        return Answer(exc.status, pages.new_integration(ctx.session, kept, merchant, error, platform))
    return redirect(f"/integrations/{created.id}/webhook?done=created")


def _own_merchant(ctx: Context) -> str | None:
    identity = ctx.session.identity
    return None if identity is None or identity.operator else identity.merchant


def _with_field(message: str, field: str | None) -> str:
    return f"{message} (field: {field})" if field else message


def _webhook(ctx: Context, integration_id: str) -> Answer:
    integration = ctx.integration(integration_id)
    info = integrations.webhook_info(integration.id, ctx.deps.operator)
    return Answer(200, pages.webhook(ctx.session, info, ctx.note))


def _webhook_secret(ctx: Context, integration_id: str) -> Answer:
    integration = ctx.integration(integration_id)
    secret = ctx.request.form.get("webhook_secret", "").strip()
    if not secret or len(secret) > 1000:
        raise Refused(422, "type the secret the store signs its webhooks with (as you typed it in the store)")
    patch = IntegrationPatch(credentials=CredentialsPatch(webhook_secret=SecretStr(secret)))
    integrations.update_integration(integration.id, patch, ctx.deps.operator)
    return redirect(f"/integrations/{integration.id}/webhook?done=webhook-secret")


def _stock(ctx: Context, integration_id: str) -> Answer:
    integration = ctx.integration(integration_id)
    search = ctx.request.query.get("q", "").strip()[:100]
    page_number = _page_number(ctx.request.query.get("page", "1"))
    ledger = ctx.deps.stock_ledger
    published = [] if ledger is None else sorted(ledger.all_published(integration.id).values(), key=lambda p: p.sku)
    run_state = None if ledger is None else ledger.run_state(integration.id)

    def matching(skus: list[str]) -> list[str]:
        return [sku for sku in skus if search.lower() in sku.lower()]

    found = [entry for entry in published if search.lower() in entry.sku.lower()]
    view = pages.StockView(
        cursor=ctx.deps.operator.state.get_cursor(integration.id, Flow.STOCK),
        published=found[(page_number - 1) * STOCK_PER_PAGE : page_number * STOCK_PER_PAGE],
        matching=len(found),
        page=page_number,
        pages=max(1, -(-len(found) // STOCK_PER_PAGE)),
        search=search,
        unbound=None if run_state is None else matching(run_state.unbound_skus),
        refused=None if run_state is None else matching(run_state.refused_skus),
    )
    return Answer(200, pages.stock(ctx.session, integration, view))


def _status(ctx: Context) -> Answer:
    ctx.operator_only()
    return Answer(200, pages.status(ctx.session, runs.queue_depths(ctx.deps.operator), ctx.note))


def _redrive(ctx: Context, queue: str) -> Answer:
    ctx.operator_only()
    runs.redrive(queue, 1000, ctx.deps.operator)
    return redirect("/status?done=redriven")


def _dead_letters(ctx: Context, queue: str) -> Answer:
    ctx.operator_only()
    letters = runs.dead_letters(queue, DEAD_LETTERS_SHOWN, ctx.deps.operator)
    return Answer(200, pages.dead_letters(ctx.session, queue, letters, ctx.note))


def _dead_letter_action(ctx: Context, queue: str, message_id: str, action: str) -> Answer:
    ctx.operator_only()
    if action == "redrive":
        runs.redrive_dead_letter(queue, message_id, ctx.deps.operator)
    else:
        runs.discard_dead_letters(queue, message_id, ctx.deps.operator)
    return redirect(f"/status/queues/{queue}?done={'redriven-one' if action == 'redrive' else 'discarded'}")


def _discard_all(ctx: Context, queue: str) -> Answer:
    ctx.operator_only()
    runs.discard_dead_letters(queue, None, ctx.deps.operator)
    return redirect(f"/status/queues/{queue}?done=discarded")


# (method, path, handler, needs a signed-in person)
ROUTES: list[tuple[str, re.Pattern[str], Handler, bool]] = [
    ("GET", re.compile(r"/static/console\.css"), _stylesheet, False),
    ("GET", re.compile(r"/favicon\.ico"), _no_icon, False),
    ("GET", re.compile(r"/sign-in"), _sign_in_page, False),
    ("POST", re.compile(r"/sign-in"), _sign_in, False),
    ("POST", re.compile(r"/sign-out"), _sign_out, False),
    ("POST", re.compile(r"/new-password"), _new_password, False),
    ("GET", re.compile(r"/"), _integrations, True),
    ("POST", re.compile(rf"/integrations/{_INTEGRATION}/(?P<action>pause|resume)"), _pause_or_resume, True),
    ("GET", re.compile(r"/integrations/new"), _new_integration_page, True),
    ("POST", re.compile(r"/integrations/new"), _create_integration, True),
    ("GET", re.compile(rf"/integrations/{_INTEGRATION}/webhook"), _webhook, True),
    ("POST", re.compile(rf"/integrations/{_INTEGRATION}/webhook"), _webhook_secret, True),
    ("GET", re.compile(rf"/integrations/{_INTEGRATION}/orders"), _orders, True),
    ("POST", re.compile(rf"/integrations/{_INTEGRATION}/orders/release-all"), _release_all, True),
    ("GET", re.compile(rf"/integrations/{_INTEGRATION}/orders/{_ORDER}"), _order, True),
    (
        "POST",
        re.compile(
            rf"/integrations/{_INTEGRATION}/orders/{_ORDER}/(?P<action>release|retry-shipment|retry|do-not-send)"
        ),
        _order_action,
        True,
    ),
    ("GET", re.compile(rf"/integrations/{_INTEGRATION}/products"), _products, True),
    (
        "POST",
        re.compile(rf"/integrations/{_INTEGRATION}/products/(?P<action>refresh|create|create-all)"),
        _product_action,
        True,
    ),
    ("GET", re.compile(rf"/integrations/{_INTEGRATION}/shipping"), _shipping, True),
    ("POST", re.compile(rf"/integrations/{_INTEGRATION}/shipping"), _map_shipping, True),
    ("GET", re.compile(rf"/integrations/{_INTEGRATION}/stock"), _stock, True),
    ("GET", re.compile(r"/status"), _status, True),
    ("POST", re.compile(rf"/status/queues/{_QUEUE}/redrive"), _redrive, True),
    ("GET", re.compile(rf"/status/queues/{_QUEUE}"), _dead_letters, True),
    ("POST", re.compile(rf"/status/queues/{_QUEUE}/discard-all"), _discard_all, True),
    (
        "POST",
        re.compile(
            rf"/status/queues/{_QUEUE}/messages/(?P<message_id>[A-Za-z0-9-]{{1,100}})/(?P<action>redrive|discard)"
        ),
        _dead_letter_action,
        True,
    ),
]


def handle(event: Mapping[str, Any], deps: ConsoleDeps) -> dict[str, Any]:
    request = parse(event)
    now = deps.operator.clock()
    session = decode(request.cookies.get(COOKIE_NAME, ""), deps.session_key, now)
    fresh = session is None
    if session is not None and session.identity is not None and not _live(session, deps, now):
        # Signed out (or from before sessions had an id): a visitor again, with the same CSRF token.
        session, fresh = session.model_copy(update={"identity": None, "sid": None}), True
    ctx = Context(request, session or new_session(None, now), deps, new_session=fresh)
    answer = _answer(ctx)
    if ctx.clear_cookie:
        answer.headers["Set-Cookie"] = cleared_cookie(secure=deps.secure_cookies)
    elif ctx.new_session:
        answer.headers["Set-Cookie"] = set_cookie(encode(ctx.session, deps.session_key), secure=deps.secure_cookies)
    return answer.to_event()


def _live(session: Session, deps: ConsoleDeps, now: datetime) -> bool:
    return session.sid is not None and deps.sessions.session_active(session_hash(session.sid), now)


def _answer(ctx: Context) -> Answer:
    route = _route(ctx.request)
    if route is None:
        return Answer(404, pages.error_page(ctx.session, 404, "there is no such page"))
    handler, needs_person, parameters = route
    if ctx.request.method == "POST" and not csrf_matches(ctx.session, ctx.request.form.get("csrf")):
        return Answer(403, pages.error_page(ctx.session, 403, "the form had no valid token: reload the page and retry"))
    if needs_person and ctx.session.identity is None:
        return redirect("/sign-in")
    try:
        return handler(ctx, **parameters)
    except Refused as exc:
        return Answer(exc.status, pages.error_page(ctx.session, exc.status, exc.message))
    except OperatorError as exc:
        return Answer(exc.status, pages.error_page(ctx.session, exc.status, exc.message))
    except UnknownIntegrationError:
        return Answer(404, pages.error_page(ctx.session, 404, "there is no such integration"))


def _route(request: Request) -> tuple[Handler, bool, dict[str, str]] | None:
    for method, pattern, handler, needs_person in ROUTES:
        matched = pattern.fullmatch(request.path)
        if matched and method == request.method:
            return handler, needs_person, matched.groupdict()
    return None
