"""Words the pages show through ``_(variable)``: the statuses of orders, refills, tickets and payments.

Templates translate a status where they show it (``macros.status``); the catalogs learn the words from
here, since a variable cannot be extracted. The values themselves stay English in the database and the API.
"""

from __future__ import annotations

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
