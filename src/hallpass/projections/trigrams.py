"""pg_trgm, where the server has it: a trigram index for finding students by name (decision 070).

The PostgreSQL packages of most systems ship it (it is in contrib); the embedded pgserver does
not. Without it the index is left out and searches read every allowed student instead.
"""

from __future__ import annotations

import asyncpg


async def enable(conn: asyncpg.Connection) -> bool:
    """Install pg_trgm in this database unless it is there; False if the server cannot."""
    row = await conn.fetchrow("SELECT installed_version FROM pg_available_extensions WHERE name = 'pg_trgm'")
    if row is None:
        return False
    if row["installed_version"] is None:
        try:
            await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except asyncpg.InsufficientPrivilegeError:
            return False
    return True


async def installed(pool: asyncpg.Pool) -> bool:
    return bool(await pool.fetchval("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm')"))
