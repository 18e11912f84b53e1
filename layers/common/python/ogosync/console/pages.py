"""The console's pages, built with ogosync.console.html (every value escaped). No page renders a credential: the
models they get (Integration, the operator schemas) have no field that holds one."""

from __future__ import annotations

from datetime import datetime

from ogosync.console.html import Markup, el, table
from ogosync.console.session import Session
from ogosync.models import BindingStatus, Integration, IntegrationStatus
from ogosync.operator.schemas import FlowStatus, HeldOrder, IntegrationState, OrderHistory
from ogosync.ports import DeadLetter, QueueDepth


def layout(title: str, session: Session, *content: object, note: str | None = None, error: str | None = None) -> str:
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


def integrations(
    session: Session, rows: list[tuple[Integration, IntegrationState]], now: datetime, note: str | None
) -> str:
    if not rows:
        return layout("Integrations", session, el("p", None, "No integration yet."), note=note)
    body = table(
        ["Integration", "Merchant", "Platform", "State", "Flows", "Held orders", ""],
        [_integration_row(session, integration, state, now) for integration, state in rows],
        id="integrations",
    )
    return layout("Integrations", session, body, note=note)


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
    session: Session, integration: Integration, held: list[HeldOrder], now: datetime, note: str | None
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
    content: list[object] = [lookup, el("h2", None, f"Held orders ({len(held)})")]
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
