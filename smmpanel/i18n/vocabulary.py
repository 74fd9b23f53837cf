"""Words the pages show through ``_(variable)`` or from panel.js, which extraction cannot see in place.

Templates translate a status where they show it (``macros.status``); the values themselves stay English
in the database and the API. ``SCRIPT_TEXTS`` are panel.js's live texts (``t("…")`` there): each page
carries their translations in ``<html data-texts>`` (``script_texts``).
"""

from __future__ import annotations

from smmpanel import i18n
from smmpanel.i18n import N_

STATUSES = (
    N_("Pending"),
    N_("In progress"),
    N_("Processing"),
    N_("Completed"),
    N_("Partial"),
    N_("Canceled"),
    N_("Rejected"),
    N_("Active"),
    N_("Open"),
    N_("Answered"),
    N_("Closed"),
    N_("Failed"),
    N_("Expired"),
    N_("Refunded"),
    N_("Reversed"),
    N_("Paid"),
)

# Ticket subjects (domain.tickets.TicketTopic), report groupings and export kinds, shown through _(x.value).
CHOICES = (
    N_("Refill"),
    N_("Cancel"),
    N_("Speed up"),
    N_("Other"),
    N_("service"),
    N_("provider"),
    N_("customer"),
    N_("orders"),
    N_("payments"),
    N_("ledger"),
)

SCRIPT_TEXTS = (
    N_("per package"),
    N_("per 1000"),
    N_("Refill %(days)s days"),
    N_("Quantity less than minimal %(minimum)s"),
    N_("Quantity more than maximum %(maximum)s"),
    N_("1 package"),
    N_("Fill in min and max per post"),
    N_("Each post costs %(low)s–%(high)s %(currency)s, charged when delivered"),
    N_("Enter the quantity"),
    N_("Enter the number of runs"),
    N_("%(quantity)s × %(runs)s runs = %(total)s × %(rate)s %(currency)s / 1000"),
    N_("Not enough funds on balance"),
    N_("Copied"),
    N_("The card was not read: please check it."),
    N_("The card was not authenticated."),
    N_("The payment could not be sent; please try again."),
)


def script_texts() -> dict[str, str]:
    """panel.js's texts in this request's language (English: none needed, the script has them)."""
    if i18n.current_language().code == i18n.SOURCE:
        return {}
    return {text: i18n.gettext(text) for text in SCRIPT_TEXTS}
