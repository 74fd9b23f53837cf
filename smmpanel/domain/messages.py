"""The exact error texts of API v2: reseller software matches on them, so they never change."""

INVALID_KEY = "Invalid API key"
INCORRECT_REQUEST = "Incorrect request"
INCORRECT_SERVICE = "Incorrect service ID"
INCORRECT_ORDER = "Incorrect order ID"
INCORRECT_LINK = "Incorrect link"
INCORRECT_QUANTITY = "Incorrect quantity"
NOT_ENOUGH_FUNDS = "Not enough funds on balance"
REFILL_NOT_AVAILABLE = "Refill not available for this service"
REFILL_NOT_AVAILABLE_FOR_ORDER = "Refill not available for this order"
REFILL_NOT_FOUND = "Refill not found"
CANCEL_NOT_AVAILABLE = "Cancel not available for this service"
CANCEL_NOT_AVAILABLE_FOR_ORDER = "Cancel not available for this order"
TOO_MANY_IDS = "Too many ids (max 100)"
ACTIVE_ORDER_WITH_LINK = "You have active order with this link. Please wait until order being completed."
INCORRECT_RUNS = "Incorrect runs"
INCORRECT_INTERVAL = "Incorrect interval"
INCORRECT_COMMENTS = "Incorrect comments"
INCORRECT_USERNAMES = "Incorrect usernames"
INCORRECT_USERNAME = "Incorrect username"
INCORRECT_HASHTAG = "Incorrect hashtag"
INCORRECT_ANSWER_NUMBER = "Incorrect answer number"
INCORRECT_MIN = "Incorrect min"
INCORRECT_MAX = "Incorrect max"
INCORRECT_DELAY = "Incorrect delay"
INCORRECT_POSTS = "Incorrect posts"
INCORRECT_OLD_POSTS = "Incorrect old posts"
INCORRECT_EXPIRY = "Incorrect expiry"
EMAIL_NOT_VERIFIED = "Email not verified"
"""Not PerfectPanel's: ``add`` by a customer without a verified email while the operator requires one."""


def quantity_below_min(minimum: int) -> str:
    return f"Quantity less than minimal {minimum}"


def quantity_above_max(maximum: int) -> str:
    return f"Quantity more than maximum {maximum}"
