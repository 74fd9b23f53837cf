"""The OpenAPI 3.1 description of both APIs, served at ``/openapi.json``.

The reseller API v2 is described as API_CONTRACT.md defines it, in the default
``perfectpanel`` style (counts as strings, ``"cancel": 1``); the ``viralhub`` style
differs only in those JSON types. The admin API (``/adminapi/v2`` and ``v1``) is
described as ``smmpanel.api.adminapi`` answers it. CI replays both against a live
server with schemathesis (tests/integration/test_openapi.py): no answer may be a 5xx,
and every answer must match what is written here.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smmpanel.api import v2
from smmpanel.api.adminapi.envelope import MAX_IDS, MAX_LIMIT, MAX_NUMBER, ORDER_STATUSES, REFILL_STATUSES
from smmpanel.api.params import MAX_IDS as API_MAX_IDS
from smmpanel.domain.orders import OrderStatus
from smmpanel.domain.refills import RefillStatus

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
BOOLEAN: Schema = {"type": "boolean"}
NULL: Schema = {"type": "null"}
ID: Schema = {"type": "integer", "minimum": 1, "maximum": MAX_NUMBER}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: dict[str, Schema], optional: dict[str, Schema] | None = None, *, extra: bool = False) -> Schema:
    return {
        "type": "object",
        "required": list(required),
        "properties": {**required, **(optional or {})},
        "additionalProperties": extra,
    }


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, NULL]}


def json_answer(schema: Schema, description: str = "the answer (HTTP 200 also for API-level errors)") -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


# --- API v2 (reseller) ------------------------------------------------------------------

V2_ERROR = obj({"error": STRING})
ORDER_ID_OR_TOKEN: Schema = {"anyOf": [INTEGER, STRING]}

V2_SCHEMAS: dict[str, Schema] = {
    "V2Error": V2_ERROR,
    "V2Service": obj(
        {
            "service": INTEGER,
            "name": STRING,
            "type": STRING,
            "category": STRING,
            "rate": STRING,
            "min": STRING,
            "max": STRING,
            "refill": BOOLEAN,
            "cancel": BOOLEAN,
        },
        {"description": STRING},
    ),
    "V2Status": obj(
        {
            "charge": STRING,
            "start_count": STRING,
            "status": {"enum": [status.value for status in OrderStatus]},
            "remains": STRING,
            "currency": STRING,
        }
    ),
    "V2Subscription": obj(
        {
            "id": INTEGER,
            "service": INTEGER,
            "link": STRING,
            "quantity": INTEGER,
            "runs": nullable(INTEGER),  # null: a Subscriptions-type order with no limit of posts
            "interval": nullable(INTEGER),
            "remaining_runs": nullable(INTEGER),
            "status": {"enum": ["Active", "Paused", "Completed", "Canceled"]},
            "created_at": STRING,
        }
    ),
}

_REFILL_STATUS: Schema = {"enum": [status.value for status in RefillStatus]}
V2_ANSWER: Schema = {
    "anyOf": [
        ref("V2Error"),
        {"type": "array", "items": ref("V2Service")},
        obj({"order": INTEGER}),
        ref("V2Status"),
        {"type": "object", "additionalProperties": {"anyOf": [ref("V2Status"), ref("V2Error")]}},
        obj({"refill": STRING}),
        {"type": "array", "items": obj({"order": ORDER_ID_OR_TOKEN, "refill": {"anyOf": [INTEGER, ref("V2Error")]}})},
        obj({"status": _REFILL_STATUS}),
        {"type": "array", "items": obj({"refill": ORDER_ID_OR_TOKEN, "status": {"anyOf": [_REFILL_STATUS, V2_ERROR]}})},
        {"type": "array", "items": obj({"order": ORDER_ID_OR_TOKEN, "cancel": {"anyOf": [{"const": 1}, V2_ERROR]}})},
        obj({"balance": STRING, "currency": STRING}),
        {"type": "array", "items": ref("V2Subscription")},
    ]
}

_V2_FIELDS = (  # noqa: SIM905 (twenty names, read as a sentence rather than a column)
    "service link quantity runs interval order orders refill refills comments usernames hashtag username "
    "answer_number min max delay posts old_posts expiry"
).split()
V2_REQUEST = obj(
    {
        "key": STRING,
        "action": {"enum": list(v2.ACTIONS)},
    },
    {name: STRING for name in _V2_FIELDS},
)

V2_PATHS: dict[str, Schema] = {
    "/api/v2": {
        "post": {
            "tags": ["reseller API v2"],
            "summary": "one action per request (API_CONTRACT.md)",
            "description": f"Lists (`orders`, `refills`) are comma-separated, at most {API_MAX_IDS} ids.",
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {"schema": V2_REQUEST},
                    "application/json": {"schema": V2_REQUEST},
                },
            },
            "responses": {
                "200": json_answer(V2_ANSWER),
                "413": json_answer(ref("V2Error"), "request body too large"),
                "429": json_answer(ref("V2Error"), "rate limited (Retry-After)"),
            },
        }
    }
}

# --- the admin API ------------------------------------------------------------------------

MONEY = obj({"value": STRING, "currency_code": STRING})
PAGINATION = obj(
    {"prev_page_href": nullable(STRING), "next_page_href": nullable(STRING), "offset": INTEGER, "limit": INTEGER}
)
ADMIN_SCHEMAS: dict[str, Schema] = {
    "Money": MONEY,
    "Order": obj(
        {
            "id": INTEGER,
            "user": STRING,
            "service_id": INTEGER,
            "service_name": STRING,
            "service_type": STRING,
            "link": STRING,
            "quantity": INTEGER,
            "start_count": INTEGER,
            "remains": INTEGER,
            "status": {"enum": list(ORDER_STATUSES.values())},
            "charge": ref("Money"),
            "created": STRING,
            "mode": {"enum": ["auto", "manual"]},
            "provider": nullable(STRING),
            "external_id": nullable(STRING),
            "cancel_requested": BOOLEAN,
            "access": obj(
                {
                    name: BOOLEAN
                    for name in (
                        "refill",
                        "set_partial",
                        "cancel_and_refund",
                        "resend_order",
                        "set_start_count",
                        "set_remains",
                    )
                }
            ),
        },
        extra=True,  # the type's own fields: comments, usernames, hashtag, answer_number, runs, interval …
    ),
    "Refill": obj(
        {
            "id": INTEGER,
            "order_id": INTEGER,
            "service_id": INTEGER,
            "link": STRING,
            "status": {"enum": list(REFILL_STATUSES.values())},
            "created": STRING,
        }
    ),
    "User": obj(
        {
            "id": INTEGER,
            "username": STRING,
            "balance": ref("Money"),
            "status": {"enum": ["active", "suspended"]},
            "role": STRING,
            "created": STRING,
        }
    ),
    "Ticket": obj(
        {
            "id": INTEGER,
            "user": STRING,
            "subject": STRING,
            "status": {"enum": ["open", "answered", "closed"]},
            "order_id": nullable(INTEGER),
            "unread": BOOLEAN,
            "created": STRING,
            "updated": STRING,
        }
    ),
    "Payment": obj(
        {
            "id": INTEGER,
            "user": STRING,
            "amount": ref("Money"),
            "balance_after": ref("Money"),
            "memo": STRING,
            "created": STRING,
        }
    ),
    "Result": obj({"id": {}, "success": BOOLEAN, "message": STRING, "error_code": INTEGER}),
}


def envelope(data: Schema, *, paged: bool = False) -> Schema:
    optional = {"pagination": PAGINATION} if paged else {}
    return obj({"data": nullable(data), "error_code": INTEGER, "error_message": STRING}, optional)


def listing(item: str, *, count: bool = True) -> Schema:
    return obj({"list": {"type": "array", "items": ref(item)}, **({"count": INTEGER} if count else {})})


RESULTS = obj({"orders": {"type": "array", "items": ref("Result")}})
LIMIT: Schema = {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}
PULL_LIMIT: Schema = {"type": "integer", "minimum": 1, "maximum": MAX_IDS}
IDS: Schema = {"type": "array", "items": ID, "maxItems": MAX_IDS}
OFFSET: Schema = {"type": "integer", "minimum": 0}


def query(name: str, schema: Schema, description: str = "") -> Schema:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


PATH_ID = {"name": "id", "in": "path", "required": True, "schema": ID}
PAGE = [query("limit", LIMIT), query("offset", OFFSET)]


def operation(
    summary: str, answer: Schema, *, body: Schema | None = None, parameters: list[Schema] | None = None
) -> Schema:
    described: Schema = {
        "tags": ["admin API v2"],
        "summary": summary,
        "security": [{"adminKey": []}],
        "responses": {
            "200": json_answer(answer),
            "413": json_answer(envelope(NULL), "request body too large"),
            "429": json_answer(envelope(NULL), "too many requests for this key (Retry-After)"),
        },
    }
    if parameters:
        described["parameters"] = parameters
    if body is not None:
        described["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return described


BY_IDS = obj({"ids": IDS})
ORDER_STATUS: Schema = {"enum": list(ORDER_STATUSES.values())}
UPDATE_ITEM = obj({"id": ID}, {"status": ORDER_STATUS, "remains": OFFSET, "start_count": OFFSET, "reason": STRING})

ADMIN_PATHS: dict[str, Schema] = {
    "/adminapi/v2/orders": {
        "get": operation(
            "everyone's orders, filtered",
            envelope(listing("Order"), paged=True),
            parameters=[
                *PAGE,
                query("ids", STRING, "comma-separated order ids"),
                query("created_from", STRING, "Unix seconds, YYYY-MM-DD or YYYY-MM-DD HH:MM:SS (UTC)"),
                query("created_to", STRING),
                query("order_status", STRING, "comma-separated: " + ", ".join(ORDER_STATUSES.values())),
                query("user", STRING, "a username"),
                query("service_ids", STRING, "comma-separated service ids"),
                query("sort", {"enum": ["date-desc", "date-asc"]}),
            ],
        )
    },
    "/adminapi/v2/orders/{id}": {"get": operation("one order", envelope(ref("Order")), parameters=[PATH_ID])},
    "/adminapi/v2/orders/pull": {
        "post": operation(
            "hand out waiting manual orders, each to this key only, for a lease",
            envelope(listing("Order", count=False)),
            body=obj({}, {"service_ids": IDS, "limit": PULL_LIMIT}),
        )
    },
    "/adminapi/v2/orders/update": {
        "post": operation(
            "set status, remains, start count of many orders",
            envelope(RESULTS),
            body=obj({"orders": {"type": "array", "items": UPDATE_ITEM, "minItems": 1, "maxItems": MAX_IDS}}),
        )
    },
    "/adminapi/v2/orders/{id}/edit-link": {
        "post": operation("correct the link", envelope(ref("Order")), body=obj({"link": STRING}), parameters=[PATH_ID])
    },
    "/adminapi/v2/orders/{id}/change-status": {
        "post": operation(
            "set the status",
            envelope(ref("Order")),
            body=obj({"status": ORDER_STATUS}, {"start_count": OFFSET, "remains": OFFSET}),
            parameters=[PATH_ID],
        )
    },
    "/adminapi/v2/orders/{id}/set-partial": {
        "post": operation(
            "Partial with remains: refunds charge × remains / quantity, once",
            envelope(ref("Order")),
            body=obj({"remains": OFFSET}),
            parameters=[PATH_ID],
        )
    },
    "/adminapi/v2/orders/request-cancel": {
        "post": operation("what the customer's cancel does", envelope(RESULTS), body=BY_IDS)
    },
    "/adminapi/v2/orders/resend": {
        "post": operation("release a pulled order; resend one on the attention list", envelope(RESULTS), body=BY_IDS)
    },
    "/adminapi/v2/orders/cancel": {"post": operation("cancel and refund", envelope(RESULTS), body=BY_IDS)},
    "/adminapi/v2/refill/pull": {
        "post": operation(
            "hand out Pending refills of manual orders (they become in_progress)",
            envelope(listing("Refill", count=False)),
            body=obj({}, {"limit": PULL_LIMIT}),
        )
    },
    "/adminapi/v2/refill/change-status": {
        "post": operation(
            "set a refill's status",
            envelope(ref("Refill")),
            body=obj({"id": ID, "status": {"enum": list(REFILL_STATUSES.values())}}),
        )
    },
    "/adminapi/v2/cancel/pull": {
        "post": operation(
            "unfinished orders whose customer asked to cancel",
            envelope(listing("Order", count=False)),
            body=obj({}, {"limit": PULL_LIMIT}),
        )
    },
    "/adminapi/v2/cancel/reject": {"post": operation("drop cancel requests", envelope(RESULTS), body=BY_IDS)},
    "/adminapi/v2/payments": {
        "get": operation(
            "top-up ledger entries, newest first",
            envelope(listing("Payment"), paged=True),
            parameters=[*PAGE, query("user", STRING)],
        )
    },
    "/adminapi/v2/payments/add": {
        "post": operation(
            "a top-up with a note: one ledger entry",
            envelope(obj({"user": STRING, "amount": ref("Money"), "balance": ref("Money"), "memo": STRING})),
            body=obj(
                {"user": STRING, "amount": {"type": "string", "pattern": r"^\d{1,9}(\.\d{1,5})?$"}}, {"memo": STRING}
            ),
        )
    },
    "/adminapi/v2/users": {
        "get": operation(
            "customers", envelope(listing("User"), paged=True), parameters=[*PAGE, query("username", STRING)]
        )
    },
    "/adminapi/v2/users/add": {
        "post": operation(
            "a new customer; their API key is shown once",
            envelope(obj({"username": STRING, "api_key": STRING})),
            body=obj({"username": STRING}, {"password": STRING}),
        )
    },
    "/adminapi/v2/tickets": {
        "get": operation(
            "tickets, unread first",
            envelope(listing("Ticket")),
            parameters=[query("status", {"enum": ["open", "answered", "closed"]}), query("limit", LIMIT)],
        )
    },
    "/adminapi/v2/tickets/{id}/reply": {
        "post": operation(
            "the operator's answer", envelope(obj({"id": INTEGER})), body=obj({"message": STRING}), parameters=[PATH_ID]
        )
    },
    "/adminapi/v2/tickets/add": {
        "post": operation(
            "a ticket the operator opens to a customer",
            envelope(obj({"id": INTEGER})),
            body=obj({"user": STRING, "subject": STRING, "message": STRING}),
        )
    },
}

V1_ACTIONS = [
    "getOrders",
    "getOrders-by-id",
    "updateOrders",
    "setCompleted",
    "setInprogress",
    "setCanceled",
    "setPartial",
    "addPayment",
    "deductPayment",
    "getUser",
    "addTicket",
]
V1_REQUEST = obj(
    {"key": STRING, "action": {"enum": V1_ACTIONS}},
    {
        name: STRING
        for name in (
            "type",
            "limit",
            "orders",
            "id",
            "remains",
            "start_count",
            "username",
            "amount",
            "memo",
            "subject",
            "message",
        )
    },
)
V1_ANSWER: Schema = {
    "anyOf": [
        obj({"status": {"const": "success"}}, extra=True),
        obj({"status": {"const": "error"}, "error": STRING, "error_code": INTEGER}),
    ]
}
ADMIN_PATHS["/adminapi/v1"] = {
    "post": {
        "tags": ["admin API v1"],
        "summary": "the older admin API: key and action as form fields",
        "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": V1_REQUEST}}},
        "responses": {
            "200": json_answer(V1_ANSWER),
            "413": json_answer(V1_ANSWER, "request body too large"),
            "429": json_answer(V1_ANSWER, "too many requests for this key"),
        },
    }
}


def document() -> Schema:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "smmpanel",
            "version": "1",
            "description": "The reseller API v2 (perfectpanel style) and the PerfectPanel-compatible admin API.",
        },
        "paths": {**V2_PATHS, **ADMIN_PATHS},
        "components": {
            "schemas": {**V2_SCHEMAS, **ADMIN_SCHEMAS},
            "securitySchemes": {"adminKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}},
        },
    }


_DOCUMENT = orjson.dumps(document())


async def openapi_json(request: Request) -> Response:
    return Response(_DOCUMENT, media_type="application/json")


routes = [Route("/openapi.json", openapi_json, methods=["GET"])]
