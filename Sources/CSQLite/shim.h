#include <sqlite3.h>

/// SQLITE_TRANSIENT is a macro Swift cannot import: SQLite copies the bound bytes.
static inline sqlite3_destructor_type csqlite_transient(void) { return SQLITE_TRANSIENT; }
/// SQLITE_STATIC: the bound bytes stay valid until the statement is reset.
static inline sqlite3_destructor_type csqlite_static(void) { return SQLITE_STATIC; }
