/* Parley's own endpoints, under /parley: what a test drives that the Twilio API has no operation for
 * (the test clock, inbound traffic, a receipt's status, media metadata) and what it reads back (the
 * change feed, the webhook delivery log). api/dispatch.c routes /parley paths to this table. */
#ifndef PARLEY_CONTROL_H
#define PARLEY_CONTROL_H

#include "http/router.h"

struct req;

extern const struct route control_routes[];

int webhooks_log(struct req *r); /* control/webhook_log.c: /parley/webhooks/log */
int clock_fetch(struct req *r);  /* control/clock.c: /parley/clock, --test-clock only */
int clock_update(struct req *r);
int changes_list(struct req *r);   /* control/changes.c: /parley/changes */
int media_register(struct req *r); /* control/media.c: /parley/Media/{ME} */
int media_fetch(struct req *r);
int inbound_post(struct req *r);           /* control/inbound.c: /parley/inbound */
int delivery_status_update(struct req *r); /* control/delivery_status.c: /parley/receipts/{DY} */

#endif
