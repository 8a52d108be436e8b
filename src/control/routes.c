/* The /parley route table (control/control.h). */
#include "control/control.h"

const struct route control_routes[] = {
    {"/webhooks/log", 0, webhooks_log, NULL, NULL},
    {"/Media/{}", 0, media_fetch, media_register, NULL},
    {"/clock", 0, clock_fetch, clock_update, NULL},
    {"/changes", 0, changes_list, NULL, NULL},
    {"/inbound", 0, NULL, inbound_post, NULL},
    {"/receipts/{}", 0, NULL, delivery_status_update, NULL},
    {NULL, 0, NULL, NULL, NULL},
};
