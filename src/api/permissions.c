#include "api/permissions.h"

#include <string.h>

#include "http/form.h"
#include "util/arena.h"

#define SVC 1u  /* valid for service roles */
#define CONV 2u /* valid for conversation roles */

static const struct {
    const char *name;
    unsigned scope;
} permissions[] = {
    /* both scopes */
    {"addParticipant", SVC | CONV},
    {"addNonChatParticipant", SVC | CONV},
    {"deleteAnyMessage", SVC | CONV},
    {"deleteConversation", SVC | CONV},
    {"deleteOwnMessage", SVC | CONV},
    {"editAnyMessage", SVC | CONV},
    {"editAnyMessageAttributes", SVC | CONV},
    {"editAnyParticipantAttributes", SVC | CONV},
    {"editConversationAttributes", SVC | CONV},
    {"editConversationName", SVC | CONV},
    {"editOwnMessage", SVC | CONV},
    {"editOwnMessageAttributes", SVC | CONV},
    {"editOwnParticipantAttributes", SVC | CONV},
    {"removeParticipant", SVC | CONV},
    /* conversation roles only */
    {"editNotificationLevel", CONV},
    {"leaveConversation", CONV},
    {"sendMessage", CONV},
    {"sendMediaMessage", CONV},
    /* service roles only */
    {"createConversation", SVC},
    {"editAnyUserInfo", SVC},
    {"editOwnUserInfo", SVC},
    {"joinConversation", SVC},
};

int permission_valid(const char *name, size_t n, enum role_type t)
{
    unsigned want = t == ROLE_SERVICE ? SVC : CONV;
    for (size_t i = 0; i < sizeof(permissions) / sizeof(permissions[0]); i++) {
        if (strlen(permissions[i].name) == n && memcmp(permissions[i].name, name, n) == 0)
            return (permissions[i].scope & want) != 0;
    }
    return 0;
}

int role_type_parse(const char *s, size_t n, enum role_type *out)
{
    if (n == 7 && memcmp(s, "service", 7) == 0)
        *out = ROLE_SERVICE;
    else if (n == 12 && memcmp(s, "conversation", 12) == 0)
        *out = ROLE_CONVERSATION;
    else
        return -1;
    return 0;
}

char *permissions_json(const struct form *f, const char *key, enum role_type t, struct arena *a,
                       const char **bad)
{
    /* Valid names are ASCII letters only, so the array needs no escaping; its size is bounded by the
     * form: every name at most once, each with quotes and a comma. */
    size_t cap = 3;
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->pair[i].key, key) == 0) cap += f->pair[i].vlen + 3;
    char *out = arena_alloc(a, cap);
    size_t len = 0;
    out[len++] = '[';
    for (size_t i = 0; i < f->n; i++) {
        const struct form_pair *p = &f->pair[i];
        if (strcmp(p->key, key) != 0) continue;
        /* an empty value beside others names no permission: refused like any other unknown name */
        if (p->vlen == 0 || !permission_valid(p->val, p->vlen, t)) {
            *bad = p->val;
            return NULL;
        }
        int dup = 0;
        for (size_t j = 0; j < i && !dup; j++)
            dup = strcmp(f->pair[j].key, key) == 0 && f->pair[j].vlen == p->vlen &&
                  memcmp(f->pair[j].val, p->val, p->vlen) == 0;
        if (dup) continue;
        if (len > 1) out[len++] = ',';
        out[len++] = '"';
        memcpy(out + len, p->val, p->vlen);
        len += p->vlen;
        out[len++] = '"';
    }
    out[len++] = ']';
    out[len] = '\0';
    return out;
}
