/* cdr_int.h — private to src/records: the store's columns and a record as
 * a row of them (a JSON array of column values as text, null for NULL). */
#ifndef RECORDS_CDR_INT_H
#define RECORDS_CDR_INT_H

#include <jansson.h>

#include "records/cdr.h"
#include "util/strbuf.h"

enum {
    COL_ID, COL_NODE, COL_CALL_ID, COL_REVISION, COL_ROUTE, COL_SOURCE,
    COL_CALLER_NUMBER, COL_CALLER_NAME, COL_CALLED_NUMBER, COL_START, COL_ANSWER, COL_END,
    COL_DURATION, COL_BILLSEC, COL_DISPOSITION, COL_HANGUP_BY, COL_HANGUP_CAUSE, COL_SIP_CODE,
    COL_AGENT_NUMBER, COL_RECORDING, COL_LEGS, COL_VARS,
    REC_NCOLS
};
extern const char *const rec_columns[REC_NCOLS];

/* R as a row; before the call ended (ENDED false) end and the outcome are null. */
json_t *rec_to_row(const rec_cdr *r, bool ended);
/* ROW (a record a crash left unfinished) ended at LAST_SEEN by the system. */
json_t *rec_row_end_abandoned(json_t *row, double last_seen);

#endif
