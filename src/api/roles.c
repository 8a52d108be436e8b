/* Roles: /v1/Roles[/{Sid}] and /v1/Services/{ChatServiceSid}/Roles[/{Sid}] (BEHAVIOUR §3.3). */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/paging.h"
#include "http/response.h"
#include "json/jw.h"
#include "util/sid.h"
#include "util/timefmt.h"

static void render_role(struct jw *w, struct req *r, const struct role *ro)
{
    char base[512], url[600];
    char created[TIME_ISO_LEN + 1], updated[TIME_ISO_LEN + 1];
    api_base_path(r, base, sizeof(base));
    snprintf(url, sizeof(url), "%s/Roles/%s", base, ro->sid);
    time_iso(created, ro->date_created);
    time_iso(updated, ro->date_updated);
    jw_obj_begin(w);
    jw_kstr(w, "sid", ro->sid);
    jw_kstr(w, "account_sid", ro->account_sid);
    jw_kstr(w, "chat_service_sid", ro->service_sid);
    jw_kstr(w, "friendly_name", ro->friendly_name);
    jw_kstr(w, "type", ro->type == ROLE_SERVICE ? "service" : "conversation");
    /* permissions are stored as a JSON array of strings written by Parley itself */
    jw_key(w, "permissions");
    jw_raw(w, ro->permissions);
    jw_kstr(w, "date_created", created);
    jw_kstr(w, "date_updated", updated);
    jw_kstr(w, "url", url);
    jw_obj_end(w);
}

int roles_fetch(struct req *r)
{
    if (!sid_valid(r->param[0], r->param_len[0], "RL"))
        return resp_not_found(r);
    struct role ro;
    int rc = r->db->ops->role_get(r->db, r->service_sid, r->param[0], &r->arena, &ro);
    if (rc == ST_NOT_FOUND)
        return resp_not_found(r);
    if (rc != ST_OK)
        return resp_store_error(r, rc);
    struct jw w;
    api_json_begin(r, &w, 200);
    render_role(&w, r, &ro);
    return 0;
}

struct list_ctx {
    struct req *r;
    struct jw *w;
    struct paging *pg;
};

static int list_row(void *ctx, const struct role *ro)
{
    struct list_ctx *lc = ctx;
    paging_row(lc->pg, lc->w, ro->id);
    render_role(lc->w, lc->r, ro);
    return 0;
}

int roles_list(struct req *r)
{
    struct paging pg;
    if (paging_read(r, 50, &pg) != 0)
        return 0;
    struct jw w;
    api_json_begin(r, &w, 200);
    jw_obj_begin(&w);
    jw_key(&w, "roles");
    jw_arr_begin(&w);
    struct list_ctx lc = {r, &w, &pg};
    int rc = r->db->ops->role_list(r->db, r->service_sid, &pg.req, list_row, &lc);
    if (rc != ST_OK)
        return resp_store_error(r, rc);
    char path[256];
    api_rel_base(r, path, sizeof(path) - 8);
    strcat(path, "/Roles");
    paging_finish(&pg, &w, r, path, "", "roles");
    jw_obj_end(&w);
    return 0;
}
