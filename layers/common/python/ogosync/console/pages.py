"""The console's pages, built with ogosync.console.html (every value escaped). No page renders a credential: the
models they get (Integration, the operator schemas) have no field that holds one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from ogosync.console import setup
from ogosync.console.html import Markup, el, table
from ogosync.console.session import Session
from ogosync.models import (
    PROBLEMS_KEPT,
    BindingStatus,
    Cursor,
    Integration,
    IntegrationStatus,
    Platform,
    ProductAction,
    ProductRun,
    ProductState,
    PublishedStock,
)
from ogosync.operator.products import ProductFilters, ProductPage
from ogosync.operator.schemas import (
    FlowStatus,
    HeldOrder,
    IntegrationState,
    OrderHistory,
    ShippingMethods,
    WebhookInfo,
)
from ogosync.ports import DeadLetter, QueueDepth
from ogosync.stores import registry


def layout(
    title: str,
    session: Session,
    *content: object,
    note: str | None = None,
    error: str | None = None,
    refresh_seconds: int | None = None,
) -> str:
    body = el(
        "body",
        None,
        _header(session),
        el(
            "main",
            None,
            el("h1", None, title),
            note and el("div", {"class": "note", "role": "status"}, note),
            error and el("div", {"class": "error", "role": "alert"}, error),
            *content,
        ),
    )
    head = el(
        "head",
        None,
        el("meta", {"charset": "utf-8"}),
        el("meta", {"name": "viewport", "content": "width=device-width, initial-scale=1"}),
        el("title", None, f"{title} · ogosync"),
        el("link", {"rel": "stylesheet", "href": "/static/console.css"}),
        # While a run is under way the page reloads itself: progress without any script.
        refresh_seconds and el("meta", {"http-equiv": "refresh", "content": str(refresh_seconds)}),
    )
    return "<!doctype html>" + el("html", {"lang": "en"}, head, body)


def _header(session: Session) -> Markup | None:
    identity = session.identity
    if identity is None:
        return el("header", None, el("span", None, "ogosync"))
    role = "operator" if identity.operator else f"merchant {identity.merchant}"
    return el(
        "header",
        None,
        el("a", {"href": "/"}, "Integrations"),
        identity.operator and el("a", {"href": "/status"}, "Status"),
        el(
            "span",
            {"class": "who"},
            f"{identity.username} ({role}) ",
            post_button("/sign-out", "Sign out", session, css="quiet"),
        ),
    )


def post_button(action: str, label: str, session: Session, *, css: str | None = None) -> Markup:
    """A form with one button and the CSRF token: every change in the console is a POST like this."""
    return el(
        "form",
        {"method": "post", "action": action},
        csrf_field(session),
        el("button", {"type": "submit", "class": css}, label),
    )


def csrf_field(session: Session) -> Markup:
    return el("input", {"type": "hidden", "name": "csrf", "value": session.csrf})


def sign_in(session: Session, error: str | None = None) -> str:
    form = el(
        "form",
        {"method": "post", "action": "/sign-in", "class": "signin"},
        el("h1", None, "Sign in to ogosync"),
        error and el("div", {"class": "error", "role": "alert"}, error),
        csrf_field(session),
        el("label", {"for": "username"}, "User name"),
        el(
            "input",
            {"type": "text", "id": "username", "name": "username", "autocomplete": "username", "required": True},
        ),
        el("label", {"for": "password"}, "Password"),
        el(
            "input",
            {
                "type": "password",
                "id": "password",
                "name": "password",
                "autocomplete": "current-password",
                "required": True,
            },
        ),
        el("button", {"type": "submit"}, "Sign in"),
    )
    head = el(
        "head",
        None,
        el("meta", {"charset": "utf-8"}),
        el("title", None, "Sign in · ogosync"),
        el("link", {"rel": "stylesheet", "href": "/static/console.css"}),
    )
    return "<!doctype html>" + el("html", {"lang": "en"}, head, el("body", None, form))


def new_password(session: Session, error: str | None) -> str:
    def password(name: str, label: str) -> list[Markup]:
        attributes = {"type": "password", "id": name, "name": name, "autocomplete": "new-password", "required": True}
        return [el("label", {"for": name}, label), el("input", attributes)]

    form = el(
        "form",
        {"method": "post", "action": "/new-password", "class": "signin"},
        el("h1", None, "Choose your password"),
        el(
            "p",
            None,
            "You signed in with the temporary password of your invitation: choose your own (12 characters or "
            "more, with upper and lower case letters and a digit).",
        ),
        error and el("div", {"class": "error", "role": "alert"}, error),
        csrf_field(session),
        password("new_password", "New password"),
        password("again", "The same again"),
        el("button", {"type": "submit"}, "Save and sign in"),
    )
    head = el(
        "head",
        None,
        el("meta", {"charset": "utf-8"}),
        el("title", None, "Choose your password · ogosync"),
        el("link", {"rel": "stylesheet", "href": "/static/console.css"}),
    )
    return "<!doctype html>" + el("html", {"lang": "en"}, head, el("body", None, form))


def integrations(
    session: Session, rows: list[tuple[Integration, IntegrationState]], now: datetime, note: str | None
) -> str:
    new = el("p", None, el("a", {"href": "/integrations/new"}, "New integration"))
    if not rows:
        return layout("Integrations", session, el("p", None, "No integration yet."), new, note=note)
    body = table(
        ["Integration", "Merchant", "Platform", "State", "Flows", "Held orders", "Pages", ""],
        [_integration_row(session, integration, state, now) for integration, state in rows],
        id="integrations",
    )
    return layout("Integrations", session, body, new, note=note)


def _integration_row(
    session: Session, integration: Integration, state: IntegrationState, now: datetime
) -> list[object]:
    paused = integration.status is IntegrationStatus.PAUSED
    base = f"/integrations/{integration.id}"
    toggle = (
        post_button(f"{base}/resume", "Resume", session)
        if paused
        else post_button(f"{base}/pause", "Pause", session, css="quiet")
    )
    return [
        el("a", {"href": f"{base}/orders"}, integration.id),
        integration.merchant_name,
        integration.platform,
        "paused" if paused else "active",
        [_flow_badge(flow, now) for flow in state.flows if flow.deployed],
        el("a", {"href": f"{base}/orders"}, str(state.held_orders)),
        [
            el("a", {"href": f"{base}/products"}, "Products"),
            " · ",
            el("a", {"href": f"{base}/shipping"}, "Shipping"),
            " · ",
            el("a", {"href": f"{base}/orders"}, "Orders"),
            " · ",
            el("a", {"href": f"{base}/stock"}, "Stock"),
        ],
        toggle,
    ]


def _flow_badge(flow: FlowStatus, now: datetime) -> Markup:
    if flow.result == "never_run":
        health, words = "never_run", "not run yet"
    elif flow.overdue:
        health, words = "overdue", f"overdue, last {age(flow.last_run_ended, now)} ago"
    elif flow.result == "errors":
        health, words = "errors", f"errors {age(flow.last_run_ended, now)} ago"
    else:
        health, words = "ok", f"ok {age(flow.last_run_ended, now)} ago"
    return el("span", {"class": f"flow {health}", "title": flow.last_error}, f"{flow.flow}: {words}")


def held_orders(
    session: Session,
    integration: Integration,
    held: list[HeldOrder],
    warnings: list[str],
    now: datetime,
    note: str | None,
) -> str:
    base = f"/integrations/{integration.id}/orders"
    lookup = el(
        "form",
        {"method": "get", "action": base},
        el("label", {"for": "find"}, "Order number "),
        el("input", {"type": "text", "id": "find", "name": "find", "required": True}),
        " ",
        el("button", {"type": "submit"}, "Show its history"),
    )
    rows = [
        [
            el("a", {"href": f"{base}/{order.order_id}"}, order.order_id),
            order.placed_at.strftime("%Y-%m-%d %H:%M") if order.placed_at else "",
            age(order.first_seen_at, now),
            el("ul", {"class": "reasons"}, [el("li", None, hold.detail) for hold in order.holds]),
            [
                post_button(f"{base}/{order.order_id}/release", "Release", session),
                " ",
                post_button(f"{base}/{order.order_id}/do-not-send", "Do not send", session, css="danger"),
            ],
        ]
        for order in held
    ]
    content: list[object] = [lookup]
    if warnings:
        content += [
            el("h2", None, "To check"),
            el("ul", {"class": "warnings", "id": "order-warnings"}, [el("li", None, text) for text in warnings]),
        ]
    content.append(el("h2", None, f"Held orders ({len(held)})"))
    if held:
        content.append(table(["Order", "Placed", "Held for", "Why", ""], rows, id="held-orders"))
        content.append(post_button(f"{base}/release-all", "Release every held order", session))
    else:
        content.append(el("p", None, "No order is held."))
    return layout(f"Orders of {integration.id}", session, *content, note=note)


def order(session: Session, history: OrderHistory, note: str | None) -> str:
    base = f"/integrations/{history.integration_id}/orders/{history.order_id}"
    facts = [
        ["Where it is", history.status or "not seen by ogosync yet"],
        ["myOGO reference", history.reference],
        ["Attempts to send", str(history.attempts)],
    ]
    if history.last_error:
        facts.append(["Last error", history.last_error])
    if history.store is not None:
        store = history.store
        facts.append(["The store says", store.error or (str(store.state) if store.found else "no such order")])
    if history.myogo is not None:
        myogo = history.myogo
        facts.append(["myOGO says", myogo.error or (f"{myogo.status}" if myogo.found else "not in myOGO")])
        if myogo.tracking_number:
            facts.append(["Tracking", myogo.tracking_number])
    actions: list[object] = []
    if history.status is BindingStatus.HELD:
        actions = [
            post_button(f"{base}/release", "Release", session),
            " ",
            post_button(f"{base}/do-not-send", "Do not send", session, css="danger"),
        ]
    elif history.status is BindingStatus.FAILED:
        actions = [post_button(f"{base}/retry", "Retry", session)]
    if history.shipment in ("rejected", "capture_failed"):
        actions.append(post_button(f"{base}/retry-shipment", "Push the shipment again", session))
    timeline = table(
        ["When (UTC)", "Where", "What"],
        [[event.at.strftime("%Y-%m-%d %H:%M:%S"), event.where, event.event] for event in history.timeline],
        id="timeline",
    )
    return layout(
        f"Order {history.order_id} of {history.integration_id}",
        session,
        table(["", ""], facts, id="order-facts"),
        el("div", {"class": "actions"}, actions),
        el("h2", None, "Timeline"),
        timeline,
        el("p", None, el("a", {"href": f"/integrations/{history.integration_id}/orders"}, "Back to the orders")),
        note=note,
    )


def status(session: Session, queues: list[QueueDepth], note: str | None) -> str:
    rows = [
        [
            el("a", {"href": f"/status/queues/{queue.queue}"}, queue.queue) if queue.dead_letters else queue.queue,
            str(queue.waiting),
            str(queue.in_flight),
            "no DLQ" if queue.dead_letters is None else str(queue.dead_letters),
            post_button(f"/status/queues/{queue.queue}/redrive", "Redrive", session) if queue.dead_letters else "",
        ]
        for queue in queues
    ]
    return layout(
        "Status", session, table(["Queue", "Waiting", "In flight", "Dead letters", ""], rows, id="queues"), note=note
    )


def dead_letters(session: Session, queue: str, letters: list[DeadLetter], note: str | None) -> str:
    base = f"/status/queues/{queue}"
    rows = [
        [
            letter.message_id,
            letter.sent_at.strftime("%Y-%m-%d %H:%M:%S") if letter.sent_at else "",
            str(letter.receive_count),
            el("code", None, letter.body),
            [
                post_button(f"{base}/messages/{letter.message_id}/redrive", "Redrive", session),
                " ",
                post_button(f"{base}/messages/{letter.message_id}/discard", "Discard", session, css="danger"),
            ],
        ]
        for letter in letters
    ]
    content: list[object] = [el("p", None, el("a", {"href": "/status"}, "Back to the status"))]
    if letters:
        content += [
            table(["Message", "Sent (UTC)", "Tries", "Message body", ""], rows, id="dead-letters"),
            post_button(f"{base}/redrive", "Redrive all", session),
            " ",
            post_button(f"{base}/discard-all", "Discard all", session, css="danger"),
        ]
    else:
        content.append(el("p", None, "No dead letter."))
    return layout(f"Dead letters of {queue}", session, *content, note=note)


STATE_WORDS = {
    ProductState.NOT_IN_MYOGO: "not in myOGO",
    ProductState.IN_MYOGO_UNLINKED: "in myOGO, not linked",
    ProductState.LINKED: "linked",
    ProductState.CHANGED: "changed",
    ProductState.ERROR: "in error",
    ProductState.DELETED_IN_STORE: "deleted in the store",
}


def products(
    session: Session,
    integration: Integration,
    run: ProductRun | None,
    listed: ProductPage | None,
    filters: ProductFilters,
    now: datetime,
    note: str | None,
) -> str:
    base = f"/integrations/{integration.id}/products"
    content: list[object] = [
        el("div", {"class": "actions"}, post_button(f"{base}/refresh", "Refresh", session)),
        _run_box(run, now),
    ]
    if listed is None:
        content.append(el("p", None, "No refresh yet: press Refresh to read the store's products and myOGO."))
    else:
        content += _product_list(session, base, listed, filters)
    return layout(
        f"Products of {integration.id}",
        session,
        *content,
        note=note,
        refresh_seconds=3 if run is not None and run.active else None,
    )


def _run_box(run: ProductRun | None, now: datetime) -> Markup | None:
    if run is None:
        return None
    what = "Refresh" if run.action is ProductAction.REFRESH else "Create product"
    if run.active:
        progress = (
            el("progress", {"value": str(run.done), "max": str(run.total)}, f"{run.done} of {run.total}")
            if run.total
            else el("progress", None, "working")
        )
        words = f"{what}: {run.status}" + (f", {run.done} of {run.total}" if run.total else "")
        return el("div", {"class": "note", "id": "run", "role": "status"}, words, " ", progress)
    counts = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in sorted(run.counts.items()))
    ended = f"{age(run.ended_at, now)} ago" if run.ended_at else ""
    words = f"{what} {run.status} {ended}" + (f": {counts}" if counts else "") + (f". {run.error}" if run.error else "")
    return el("div", {"class": "error" if run.error else "note", "id": "run"}, words)


def _product_list(session: Session, base: str, listed: ProductPage, filters: ProductFilters) -> list[object]:
    options = [el("option", {"value": ""}, "every state")] + [
        el("option", {"value": state.value, "selected": filters.state is state}, words)
        for state, words in STATE_WORDS.items()
    ]
    search = el(
        "form",
        {"method": "get", "action": base, "class": "filters"},
        el("label", {"for": "state"}, "State "),
        el("select", {"id": "state", "name": "state"}, options),
        " ",
        el("label", {"for": "q"}, "Search "),
        el("input", {"type": "text", "id": "q", "name": "q", "value": filters.search or ""}),
        " ",
        el("button", {"type": "submit"}, "Show"),
    )
    counts = ", ".join(f"{listed.counts.get(state, 0)} {words}" for state, words in STATE_WORDS.items())
    rows = [
        [
            el("input", {"type": "checkbox", "name": "sku", "value": row.sku, "form": "create", "aria-label": row.sku})
            if row.sku
            else "",
            row.sku or "(no SKU)",
            row.name,
            STATE_WORDS[row.state],
            el("ul", {"class": "reasons"}, [el("li", None, problem.detail) for problem in row.problems]),
        ]
        for row in listed.rows
    ]
    refreshed = listed.refreshed_at.strftime("%Y-%m-%d %H:%M UTC")
    stale = " A Create product ended since: refresh to see its effect." if listed.stale else ""
    pager = [
        el("a", {"href": f"{base}?{_query(filters, page)}"}, str(page))
        if page != listed.page
        else el("b", None, str(page))
        for page in range(1, listed.pages + 1)
    ][:50]
    return [
        el("p", None, f"Refreshed {refreshed}: {counts}.{stale}"),
        search,
        el("p", None, f"{listed.matching} matching, page {listed.page} of {listed.pages} "),
        el("p", {"class": "pager"}, [[link, " "] for link in pager]) if listed.pages > 1 else None,
        el(
            "form",
            {"method": "post", "action": f"{base}/create", "id": "create"},
            csrf_field(session),
            el("button", {"type": "submit"}, "Create selected products"),
        ),
        table(["", "SKU", "Name", "State", "What to know"], rows, id="products"),
        post_button(f"{base}/create-all", "Create all products", session, css="quiet"),
    ]


def _query(filters: ProductFilters, page: int) -> str:
    values = {"state": filters.state.value if filters.state else None, "q": filters.search, "page": str(page)}
    return urlencode({key: value for key, value in values.items() if value})


def shipping(session: Session, integration: Integration, methods: ShippingMethods, note: str | None) -> str:
    action = f"/integrations/{integration.id}/shipping"
    offered = methods.myogo_codes

    def mapping_form(store_method: str, code: str | None) -> Markup:
        return el(
            "form",
            {"method": "post", "action": action},
            csrf_field(session),
            el("input", {"type": "hidden", "name": "store_method", "value": store_method}),
            _code_choice(store_method, code, offered),
            " ",
            el("button", {"type": "submit"}, "Save"),
        )

    rows = [
        [
            method.store_method,
            str(method.orders_seen),
            _current_code(method.myogo_code, offered) + (" (the default)" if method.by_default else ""),
            mapping_form(method.store_method, None if method.by_default else method.myogo_code),
        ]
        for method in methods.methods
    ]
    default = methods.default_code
    rows.append(["every other method (*)", "", _current_code(default, offered, "none"), mapping_form("*", default)])
    content: list[object] = [
        el(
            "p",
            None,
            f"The store's shipping methods seen in its last {methods.orders_read} orders, and the myOGO shipping code "
            "each one's orders get (Edit Merchant -> Shipping methods in myOGO).",
        ),
        methods.store_error
        and el("div", {"class": "error"}, f"The store's orders could not be read: {methods.store_error}"),
        _codes_note(methods),
        table(["Store method", "Orders seen", "myOGO code now", "Set the code"], rows, id="shipping"),
    ]
    return layout(f"Shipping methods of {integration.id}", session, *content, note=note)


def _code_choice(store_method: str, code: str | None, offered: list[str] | None) -> Markup:
    """A list of myOGO's codes when myOGO offers one (the server refuses any other code too); a text field else."""
    label = f"myOGO code for {store_method}"
    if offered is None:
        attributes = {"type": "text", "name": "myogo_code", "value": code or "", "required": True, "aria-label": label}
        return el("input", attributes)
    options = [el("option", {"value": "", "disabled": True, "selected": code not in offered}, "choose a code")]
    options += [el("option", {"value": each, "selected": each == code}, each) for each in offered]
    return el("select", {"name": "myogo_code", "required": True, "aria-label": label}, options)


def _current_code(code: str | None, offered: list[str] | None, missing: str = "none: its orders are held") -> str:
    if code is None:
        return missing
    if offered is not None and code not in offered:
        return f"{code} (not enabled in myOGO any more: choose another)"
    return code


def _codes_note(methods: ShippingMethods) -> Markup | None:
    if methods.myogo_codes_error:
        return el("div", {"class": "error"}, f"myOGO's shipping codes could not be read: {methods.myogo_codes_error}")
    if methods.myogo_codes is None:
        return el(
            "p",
            None,
            "myOGO offers no list of this merchant's shipping codes: type each code as myOGO shows it; it is saved "
            "without a check.",
        )
    if not methods.myogo_codes:
        return el("div", {"class": "error"}, "myOGO enables no shipping method for this merchant: enable one there.")
    return None


def new_integration(
    session: Session, values: Mapping[str, str], merchant: str | None, error: str | None, platform: Platform
) -> str:
    name = registry.adapter(platform).title
    links = [
        el("a", {"href": f"/integrations/new?platform={other.value}"}, registry.adapter(other).title)
        for other in registry.supported()
        if other is not platform
    ]
    others = [part for n, link in enumerate(links) for part in ([", "] if n else []) + [link]]
    intro = el(
        "p",
        None,
        f"Set up a {name} store step by step. ogosync checks the credentials with one call to the store and one to "
        "myOGO before anything is saved; secrets go to AWS Secrets Manager and are never shown again. Another "
        "platform: ",
        others,
    )
    return layout(
        f"New {name} integration", session, intro, setup.form(session, values, merchant, platform), error=error
    )


def webhook(session: Session, info: WebhookInfo, note: str | None) -> str:
    secret_form = el(
        "form",
        {"method": "post", "action": f"/integrations/{info.integration_id}/webhook"},
        csrf_field(session),
        el("label", {"for": "webhook_secret"}, "Endpoint secret "),
        el("input", {"type": "password", "id": "webhook_secret", "name": "webhook_secret", "autocomplete": "off"}),
        " ",
        el("button", {"type": "submit"}, "Save the secret"),
    )
    return layout(
        f"Webhook of {info.integration_id}",
        session,
        el("p", None, "Paste this URL into the store's webhook settings:"),
        el("p", None, el("code", {"id": "webhook-url"}, info.url)),
        el("p", {"id": "webhook-instructions"}, info.instructions),
        el(
            "p",
            None,
            "Type the secret the store signs its webhooks with here. The secret is "
            + ("saved." if info.secret_configured else "not saved yet: type it here."),
        ),
        secret_form,
        el("p", None, el("a", {"href": f"/integrations/{info.integration_id}/shipping"}, "Next: shipping methods")),
        note=note,
    )


@dataclass
class StockView:
    """What the stock page shows: the last run, one page of the values published, and the SKUs with a problem
    (None: no stock ledger in this deployment)."""

    cursor: Cursor
    published: list[PublishedStock]
    matching: int
    page: int
    pages: int
    search: str
    unbound: list[str] | None
    refused: list[str] | None


def stock(session: Session, integration: Integration, view: StockView) -> str:
    base = f"/integrations/{integration.id}/stock"
    cursor = view.cursor
    counts = cursor.last_counts
    ended = cursor.last_run_ended.strftime("%Y-%m-%d %H:%M UTC") if cursor.last_run_ended else "never"
    summary = [
        ["Last stock run ended", ended],
        ["SKUs written to the store in the last run", str(counts.get("written", 0))],
        ["SKUs the store did not take in the last run (tried again)", str(counts.get("not_written", 0))],
    ]
    if cursor.last_error:
        summary.append(["Last error", cursor.last_error])
    search_form = el(
        "form",
        {"method": "get", "action": base},
        el("label", {"for": "q"}, "SKU "),
        el("input", {"type": "text", "id": "q", "name": "q", "value": view.search}),
        " ",
        el("button", {"type": "submit"}, "Show"),
    )
    rows = [
        [
            entry.sku,
            str(entry.quantity),
            str(entry.available),
            str(entry.in_transit),
            str(entry.store_quantity),
            entry.published_at.strftime("%Y-%m-%d %H:%M"),
        ]
        for entry in view.published
    ]
    headers = ["SKU", "Published (sellable)", "myOGO available", "In transit", "Store stock set", "Published at (UTC)"]
    query = {"q": view.search} if view.search else {}
    pager = [
        el("a", {"href": f"{base}?{urlencode(query | {'page': str(page)})}"}, str(page))
        if page != view.page
        else el("b", None, str(page))
        for page in range(1, view.pages + 1)
    ][:50]
    return layout(
        f"Stock of {integration.id}",
        session,
        table(["", ""], summary, id="stock-run"),
        search_form,
        el("h2", None, "Last values published"),
        el("p", None, f"{view.matching} SKUs published, page {view.page} of {view.pages}"),
        el("p", {"class": "pager"}, [[link, " "] for link in pager]) if view.pages > 1 else None,
        table(headers, rows, id="stock"),
        _problem_skus(
            "SKUs myOGO has and the store does not",
            "No store item is linked to these myOGO SKUs, so their stock goes nowhere: the store has no such item, "
            "or it is not linked yet (on the Products page: 'in myOGO, not linked').",
            view.unbound,
            "stock-unbound",
        ),
        _problem_skus(
            "SKUs refused by the store",
            "The store refused their stock: it has no such item, or the item is a bundle. Tried again whenever "
            "myOGO's stock of them changes.",
            view.refused,
            "stock-refused",
        ),
    )


def _problem_skus(title: str, meaning: str, skus: list[str] | None, table_id: str) -> list[object]:
    if skus is None:
        return [el("h2", None, title), el("p", None, "Not known in this deployment.")]
    bound = f" (at most {PROBLEMS_KEPT} are kept)" if len(skus) >= PROBLEMS_KEPT else ""
    listed = table(["SKU"], [[sku] for sku in skus], id=table_id) if skus else el("p", None, "None.")
    return [el("h2", None, f"{title} ({len(skus)}{bound})"), el("p", None, meaning), listed]


def error_page(session: Session, status_code: int, message: str) -> str:
    titles = {403: "Not allowed", 404: "Not found", 409: "Not now", 422: "Not accepted"}
    return layout(titles.get(status_code, "Something went wrong"), session, error=message)


def age(since: datetime | None, now: datetime) -> str:
    if since is None:
        return "never"
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{hours // 24} days"
