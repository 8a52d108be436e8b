/* X-Twilio-Signature: Base64(HMAC-SHA1(auth token, URL + for each param name in byte order,
 * name + value; repeated names contribute each distinct value, sorted)). BEHAVIOUR §7.6. */
#ifndef PARLEY_SIGN_H
#define PARLEY_SIGN_H
#include <stddef.h>

struct form_pair;

#define SIGNATURE_LEN 28

/* params may be NULL when n == 0 (GET webhooks: the URL carries everything). Returns 0 or -1. */
int sign_twilio(const char *token, const char *url, const struct form_pair *params, size_t n,
                char out[SIGNATURE_LEN + 1]);

#endif
