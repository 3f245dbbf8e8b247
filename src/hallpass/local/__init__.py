"""Running hallpass on one machine: embedded PostgreSQL and Redis, and the process supervisor."""
