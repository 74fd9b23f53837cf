"""The provider sync pass: every provider whose sync interval has passed has its catalog synced."""

from __future__ import annotations

import logging

from smmpanel.clock import utcnow
from smmpanel.db.unit_of_work import Database
from smmpanel.errors import Refused
from smmpanel.providers.pool import ClientPool
from smmpanel.usecases import catalog_sync

log = logging.getLogger("smmpanel.engine")


async def sync_due_catalogs(db: Database, pool: ClientPool) -> int:
    """Sync each due provider's catalog; a provider that does not answer is tried at its next interval."""
    synced = 0
    for name in await catalog_sync.claim_due_syncs(db, utcnow()):
        try:
            changes = await catalog_sync.sync_catalog(db, pool, name)
        except Refused as refused:
            log.warning("catalog sync of %s failed: %s", name, refused.message)
            continue
        log.info("catalog sync of %s: %d changes", name, len(changes))
        synced += 1
    return synced
