/* GET /parley/changes?After=SEQ&PageSize=N: the caller's account's change records (store/changes.h)
 * after SEQ, ascending; next_after is the SEQ to ask after next (the last one returned, or After when
 * none). For tests and live views that follow the log. */
#include <limits.h>

#include "api/api.h"
#include "api/params.h"
#include "control/control.h"
#include "http/response.h"
#include "store/changes.h"
#include "util/timefmt.h"
#include "json/jw.h"

#define CHANGES_PAGE_DEFAULT 50

static const struct param_spec change_params[] = {
    {"After", PK_INT, 0, 0, LLONG_MAX, 0, NULL, 0},
    {"PageSize", PK_INT, 0, 1, CHANGES_PAGE_MAX, 0, NULL, 0},
};

struct change_page {
    struct jw *w;
    long long last;
};

static int change_row(void *ctx, const struct change *ch)
{
    struct change_page *p = ctx;
    char iso[TIME_ISO_MS_LEN + 1];
    time_iso_ms(iso, ch->date_ms);
    jw_obj_begin(p->w);
    jw_kint(p->w, "seq", ch->seq);
    jw_kstr(p->w, "resource", ch->resource);
    jw_kstr(p->w, "sid", ch->sid);
    jw_kstr(p->w, "parent_sid", ch->parent_sid);
    jw_kstr(p->w, "service_sid", ch->service_sid);
    jw_kstr(p->w, "kind", ch->kind);
    jw_kstr(p->w, "date", iso);
    jw_obj_end(p->w);
    p->last = ch->seq;
    return 0;
}

int changes_list(struct req *r)
{
    struct param_value v[2];
    if (params_read(r, &r->query, change_params, 2, v) != 0) return 0;
    long long after = v[0].present ? v[0].i : 0;
    int limit = v[1].present ? (int)v[1].i : CHANGES_PAGE_DEFAULT;
    struct jw w;
    api_json_begin(r, &w, 200);
    jw_obj_begin(&w);
    jw_key(&w, "changes");
    jw_arr_begin(&w);
    struct change_page page = {&w, after};
    int rc = store_change_list(r->db, r->account.sid, after, limit, change_row, &page);
    if (rc != ST_OK) return resp_store_error(r, rc);
    jw_arr_end(&w);
    jw_kint(&w, "next_after", page.last);
    jw_obj_end(&w);
    return 0;
}
