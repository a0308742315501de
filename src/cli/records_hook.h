/* records_hook.h — feeds serve's calls into call detail records. */
#ifndef CLI_RECORDS_HOOK_H
#define CLI_RECORDS_HOOK_H

#include "engine/engine.h"
#include "records/cdr.h"

typedef struct records_hook records_hook;

/* Follows EO's calls (eng_observe):
 * every call gets the variable cdr_id and a record in REC (NULL: records
 * off, cdr_id is still set). Call before eng_engine_new. */
/* NODE: the name records carry (settings.cluster.node); NULL: the host name. */
records_hook *records_hook_new(rec_ctx *rec, const char *node, eng_options *eo);
/* After eng_engine_free. */
void records_hook_free(records_hook *h);

#endif
