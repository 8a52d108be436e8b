/* Pre-event webhooks for REST calls (BEHAVIOUR §7.4, §10.1): before a change commits, each matching
 * pre-event URL is called in turn; a 200 lets it proceed (a JSON body may replace the fields the event
 * allows), any other status vetoes it, silence or failure follows the configured policy. The request
 * stays suspended meanwhile; no MHD thread waits. */
#ifndef PARLEY_PRE_EVENT_H
#define PARLEY_PRE_EVENT_H

#include "http/request.h"
#include "webhook/events.h"

#define PRE_MAX_FIELDS 4

/* A field a pre-event hook may modify: its snake_case key in the hook's JSON answer. The hook's value
 * (a string) lands in value[i]; NULL when not given. */
struct pre_event_fields {
    const char *key[PRE_MAX_FIELDS];
    size_t n;
};

/* Called (on the webhook thread) when every hook allowed the change; values are the modifications.
 * It must finish the request: normally by api_write(). */
typedef int (*pre_event_proceed_fn)(struct req *r, const char *const value[PRE_MAX_FIELDS]);

/* Returns 1 (the request is suspended and will complete later). fields may be NULL (nothing modifiable).
 * targets/params/strings must live in r's arena. */
int pre_event_run(struct req *r, const char *event, const struct webhook_target *targets, int n,
                  const char *params, const struct pre_event_fields *fields, pre_event_proceed_fn proceed);
/* pre_event_run with the parameters a caller wrote into form (copied to r's arena; form is freed): 1, or
 * ST_ERROR when form failed (nothing runs). */
struct buf;
int pre_event_run_form(struct req *r, const char *event, const struct webhook_target *targets, int n,
                       struct buf *form, const struct pre_event_fields *fields, pre_event_proceed_fn proceed);

#endif
