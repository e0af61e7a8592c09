#include <sqlite3.h>

/// SQLITE_TRANSIENT is a macro Swift cannot import: SQLite copies the bound bytes.
static inline sqlite3_destructor_type csqlite_transient(void) { return SQLITE_TRANSIENT; }
/// SQLITE_STATIC: the bound bytes stay valid until the statement is reset.
static inline sqlite3_destructor_type csqlite_static(void) { return SQLITE_STATIC; }
/// `sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0)` (variadic, so Swift cannot call it): SQLite stops
/// counting its allocations, which otherwise takes one process-wide mutex around every malloc
/// and free. Only effective before SQLite initializes; returns SQLITE_MISUSE after.
static inline int csqlite_disable_memstatus(void) { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }
