/* Process-wide state the handlers share: configuration, the writer, the public base URL. */
#ifndef PARLEY_APP_H
#define PARLEY_APP_H
#include <stddef.h>

struct writer;
struct store_ops;

struct app {
    const char *public_url;        /* no trailing slash */
    size_t public_url_len;
    const struct store_ops *store;
    const char *data;              /* backend target */
    int sync_full;
    struct writer *writer;
};

#endif
