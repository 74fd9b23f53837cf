"""The exact error texts of API v2: reseller software matches on them, so they never change.

Each is a ``Phrase``: the API answers it as it is; the dashboard shows it in the customer's language.
"""

from smmpanel.errors import Phrase

INVALID_KEY = Phrase("Invalid API key")
INCORRECT_REQUEST = Phrase("Incorrect request")
INCORRECT_SERVICE = Phrase("Incorrect service ID")
INCORRECT_ORDER = Phrase("Incorrect order ID")
INCORRECT_LINK = Phrase("Incorrect link")
INCORRECT_QUANTITY = Phrase("Incorrect quantity")
NOT_ENOUGH_FUNDS = Phrase("Not enough funds on balance")
REFILL_NOT_AVAILABLE = Phrase("Refill not available for this service")
REFILL_NOT_AVAILABLE_FOR_ORDER = Phrase("Refill not available for this order")
REFILL_NOT_FOUND = Phrase("Refill not found")
CANCEL_NOT_AVAILABLE = Phrase("Cancel not available for this service")
CANCEL_NOT_AVAILABLE_FOR_ORDER = Phrase("Cancel not available for this order")
TOO_MANY_IDS = Phrase("Too many ids (max 100)")
ACTIVE_ORDER_WITH_LINK = Phrase("You have active order with this link. Please wait until order being completed.")
INCORRECT_RUNS = Phrase("Incorrect runs")
INCORRECT_INTERVAL = Phrase("Incorrect interval")
INCORRECT_COMMENTS = Phrase("Incorrect comments")
INCORRECT_USERNAMES = Phrase("Incorrect usernames")
INCORRECT_USERNAME = Phrase("Incorrect username")
INCORRECT_HASHTAG = Phrase("Incorrect hashtag")
INCORRECT_ANSWER_NUMBER = Phrase("Incorrect answer number")
INCORRECT_MIN = Phrase("Incorrect min")
INCORRECT_MAX = Phrase("Incorrect max")
INCORRECT_DELAY = Phrase("Incorrect delay")
INCORRECT_POSTS = Phrase("Incorrect posts")
INCORRECT_OLD_POSTS = Phrase("Incorrect old posts")
INCORRECT_EXPIRY = Phrase("Incorrect expiry")
EMAIL_NOT_VERIFIED = Phrase("Email not verified")
"""Not PerfectPanel's: ``add`` by a customer without a verified email while the operator requires one."""


def quantity_below_min(minimum: int) -> Phrase:
    return Phrase("Quantity less than minimal %(minimum)s", minimum=minimum)


def quantity_above_max(maximum: int) -> Phrase:
    return Phrase("Quantity more than maximum %(maximum)s", maximum=maximum)
