/* GET and POST /parley/clock: the test clock (util/clock.h), read and moved by a test. Served only when
 * the server runs with --test-clock (404 otherwise, like any unknown path), behind the same credentials
 * as the rest. The clock is the process's: any account of the server moves it for all. */
#include <string.h>

#include "api/api.h"
#include "api/params.h"
#include "control/control.h"
#include "http/response.h"
#include "store/timers.h"
#include "util/clock.h"
#include "util/duration.h"
#include "util/timefmt.h"
#include "webhook/client.h"
#include "json/jw.h"

/* How long a move waits for the timers it made due to fire before it answers anyway. */
#define CLOCK_SETTLE_MS 5000

enum { C_FREEZE, C_ADVANCE_MS, C_ADVANCE, C_SET, C__COUNT };

static const struct param_spec clock_params[C__COUNT] = {
    [C_FREEZE] = {"Freeze", PK_BOOL, 0, 0, 0, 0, NULL, 0},
    [C_ADVANCE_MS] = {"AdvanceMs", PK_INT, 0, 1, CLOCK_MOVE_MAX_MS, 0, NULL, 0},
    [C_ADVANCE] = {"Advance", PK_STRING, 0, 0, 64, E_INVALID_PARAM, NULL, 0},
    [C_SET] = {"Set", PK_STRING, 0, 0, 64, E_INVALID_PARAM, NULL, 0},
};

static int answer(struct req *r)
{
    char iso[TIME_ISO_MS_LEN + 1];
    long long now = time_now_ms();
    time_iso_ms(iso, now);
    struct jw w;
    api_json_begin(r, &w, 200);
    jw_obj_begin(&w);
    jw_kstr(&w, "now", iso);
    jw_kint(&w, "now_ms", now);
    jw_kbool(&w, "frozen", clock_frozen());
    jw_obj_end(&w);
    return 0;
}

int clock_fetch(struct req *r)
{
    if (!clock_test_enabled()) return resp_not_found(r);
    return answer(r);
}

int clock_update(struct req *r)
{
    if (!clock_test_enabled()) return resp_not_found(r);
    struct param_value v[C__COUNT];
    if (params_read(r, &r->body, clock_params, C__COUNT, v) != 0) return 0;
    if (params_count_present(v, C__COUNT) == 0)
        return resp_error(r, E_INVALID_PARAM, "Missing parameter: one of Freeze, AdvanceMs, Advance or Set");
    if (v[C_ADVANCE_MS].present + v[C_ADVANCE].present + v[C_SET].present > 1)
        return resp_error(r, E_INVALID_PARAM, "Give at most one of AdvanceMs, Advance and Set");
    /* everything is checked before anything moves */
    long long by = v[C_ADVANCE_MS].present ? v[C_ADVANCE_MS].i : 0, to = 0;
    if (v[C_ADVANCE].present) {
        long long seconds;
        if (duration_parse(v[C_ADVANCE].s, v[C_ADVANCE].len, &seconds) != 0 || seconds <= 0 ||
            seconds > CLOCK_MOVE_MAX_MS / 1000)
            return resp_error(r, E_INVALID_PARAM,
                              "Invalid value for Advance: an ISO 8601 duration above zero and at most ten "
                              "years (PT1H, P1DT12H)");
        by = seconds * 1000;
    }
    if (v[C_SET].present) {
        if (time_parse_iso(v[C_SET].s, &to) != 0)
            return resp_error(r, E_INVALID_PARAM,
                              "Invalid value for Set: a UTC time such as 2030-01-01T00:00:00Z");
        long long now = time_now_ms();
        if (to < now)
            return resp_error(r, E_INVALID_PARAM, "Invalid value for Set: the clock never goes back");
        if (to - now > CLOCK_MOVE_MAX_MS)
            return resp_error(r, E_INVALID_PARAM, "Invalid value for Set: at most ten years ahead");
    }
    int freeze = v[C_FREEZE].present && v[C_FREEZE].i, resume = v[C_FREEZE].present && !v[C_FREEZE].i;
    /* frozen first, so that a move in the same request is exact; resumed last */
    if (freeze) clock_freeze(time_now_ms());
    int moved = 0;
    if (by) moved = clock_advance(by) == 0;
    if (v[C_SET].present) moved = clock_set(to) == 0;
    if ((by || v[C_SET].present) && !moved) /* another request moved it past the target meanwhile */
        return resp_error(r, E_INVALID_PARAM, "The clock cannot move there: it never goes back");
    if (resume) clock_resume();
    /* answer once the timers the move made due have fired, so the test sees their effects; webhook
     * retries that came due are claimed at once */
    timers_settle(CLOCK_SETTLE_MS);
    if (r->app->hooks) hook_client_kick(r->app->hooks);
    return answer(r);
}
