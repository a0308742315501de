/* config/database.h — a database as plain configuration: what services/
 * opens and queries, and what scenario/ compiles settings.databases,
 * settings.cdr and settings.cluster into (scn_database is this type).
 * A leaf header: it includes nothing of the project, so services/ and
 * records/ read databases without depending on the scenario language. */
#ifndef CONFIG_DATABASE_H
#define CONFIG_DATABASE_H

typedef enum { CFG_DB_SQLITE, CFG_DB_POSTGRESQL } cfg_db_kind;

typedef struct cfg_database {
    const char *name;
    cfg_db_kind kind;
    const char *url;           /* as written */
    const char *target;        /* sqlite: the file path (resolved); pg: the conninfo URL */
} cfg_database;

#endif
