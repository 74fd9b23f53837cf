"""PerfectPanel's admin API (``/adminapi/v2`` and the older ``/adminapi/v1``): one more entry
point onto the panel's use cases, for the operator's scripts and fulfilment software."""

from starlette.routing import BaseRoute

from smmpanel.api.adminapi import v1, v2

routes: list[BaseRoute] = [*v1.routes, *v2.routes]
