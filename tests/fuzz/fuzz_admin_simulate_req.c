/* fuzz_admin_simulate_req.c — libFuzzer target for POST /simulate's body
 * (src/admin/simulate_req.c): whatever the bytes, a request is taken
 * whole (from and to set, counts within their bounds, every mock with its
 * pattern) or refused with a message; nothing leaks either way. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admin/simulate_req.h"

static void check(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    admin_sim_req r;
    char err[300];
    if (admin_sim_req_parse((const char *)data, size, &r, err, sizeof err)) {
        check(r.from && r.to);
        check(r.party_count <= ADMIN_SIM_MAX_ITEMS && r.var_count <= ADMIN_SIM_MAX_ITEMS);
        check(r.http_count <= ADMIN_SIM_MAX_ITEMS && r.db_count <= ADMIN_SIM_MAX_ITEMS);
        check(r.max_time > 0 && r.max_time <= ADMIN_SIM_MAX_TIME);
        for (size_t i = 0; i < r.http_count; i++)
            check(r.http[i].url != NULL);
        for (size_t i = 0; i < r.db_count; i++) {
            check(r.db[i].query != NULL);
            for (size_t c = 0; c < r.db[i].ncols; c++)
                check(r.db[i].cols[c] != NULL);
        }
    } else {
        check(err[0] != '\0');
    }
    admin_sim_req_free(&r);
    return 0;
}
