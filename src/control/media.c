/* POST / GET /parley/Media/{Sid}: Parley's own stand-in for Twilio's Media Content Service, which is
 * outside the Conversations API (BEHAVIOUR-conversations §3.2 rule 3). A test registers the metadata
 * (content type, filename, size) a message's MediaSid then renders with; an unregistered ME SID is
 * accepted with synthesized metadata, or refused with 50507 under --media-strict. Behind the account's
 * credentials, like every /parley endpoint. */
#include <string.h>

#include "api/api.h"
#include "api/fail.h"
#include "api/params.h"
#include "control/control.h"
#include "store/messages.h"
#include "util/sid.h"
#include "util/timefmt.h"
#include "json/jw.h"

#define MEDIA_CONTENT_TYPE_MAX 255 /* characters: a MIME type with parameters */
#define MEDIA_FILENAME_MAX 255
#define MEDIA_SIZE_MAX (1LL << 40)

enum { MD_CONTENT_TYPE, MD_FILENAME, MD_SIZE, MD__COUNT };

static const struct param_spec media_params[MD__COUNT] = {
    [MD_CONTENT_TYPE] = {"ContentType", PK_STRING, P_REQUIRED, 0, MEDIA_CONTENT_TYPE_MAX, E_INVALID_PARAM,
                         NULL, 0},
    [MD_FILENAME] = {"Filename", PK_STRING, 0, 0, MEDIA_FILENAME_MAX, E_INVALID_PARAM, NULL, 0},
    [MD_SIZE] = {"Size", PK_INT, 0, 0, MEDIA_SIZE_MAX, 0, NULL, 0},
};

static void render(struct req *r, const struct media_meta *m, int status)
{
    char created[TIME_ISO_LEN + 1];
    time_iso(created, m->date_created);
    struct jw w;
    api_json_begin(r, &w, status);
    jw_obj_begin(&w);
    jw_kstr(&w, "sid", m->sid);
    jw_kstr(&w, "account_sid", m->account_sid);
    jw_kstr(&w, "content_type", m->content_type);
    jw_kstr(&w, "filename", m->filename);
    jw_kint(&w, "size", m->size);
    jw_kstr(&w, "date_created", created);
    jw_obj_end(&w);
}

static int apply_register(struct store_conn *c, struct req *r)
{
    struct media_meta *m = r->ctx;
    int rc = store_media_put(c, m);
    if (rc != ST_OK) return api_fail(r, rc);
    render(r, m, 201);
    return 0;
}

int media_register(struct req *r)
{
    const char *sid = r->param[0];
    if (!sid_valid(sid, strlen(sid), "ME")) return api_fail(r, E_MEDIA_SID_INVALID), 0;
    struct param_value v[MD__COUNT];
    if (params_read(r, &r->body, media_params, MD__COUNT, v) != 0) return 0;
    struct media_meta *m = arena_alloc(&r->arena, sizeof(*m));
    memset(m, 0, sizeof(*m));
    memcpy(m->sid, sid, SID_LEN + 1);
    memcpy(m->account_sid, r->account.sid, SID_LEN + 1);
    m->content_type = (char *)v[MD_CONTENT_TYPE].s;
    m->filename = v[MD_FILENAME].present && v[MD_FILENAME].len ? (char *)v[MD_FILENAME].s : NULL;
    m->size = v[MD_SIZE].present ? v[MD_SIZE].i : 0;
    m->date_created = time_now_ms();
    return api_write(r, apply_register, m);
}

int media_fetch(struct req *r)
{
    const char *sid = r->param[0];
    struct media_meta m;
    int rc = sid_valid(sid, strlen(sid), "ME") ? store_media_get(r->db, r->account.sid, sid, &r->arena, &m)
                                               : ST_NOT_FOUND;
    if (rc != ST_OK) {
        api_fail(r, rc == ST_NOT_FOUND ? E_NOT_FOUND : rc);
        return 0;
    }
    render(r, &m, 200);
    return 0;
}
