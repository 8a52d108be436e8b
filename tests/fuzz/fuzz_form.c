/* libFuzzer target: form_decode on arbitrary bytes, with the decoder's contract checked. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/form.h"
#include "util/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct form f;
    /* exactly len + 1 bytes, as the contract allows, so ASan flags any write further */
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);

    int rc = form_decode(buf, size, &f);
    if (rc != FORM_OK) {
        if (f.n != 0 || (rc != FORM_EBADESC && rc != FORM_ENUL && rc != FORM_ETOOMANY && rc != FORM_EUTF8))
            abort();
        free(buf);
        return 0;
    }
    if (f.n > FORM_MAX_PAIRS) abort();
    for (size_t i = 0; i < f.n; i++) {
        const struct form_pair *p = &f.pair[i];
        /* inside the buffer, NUL-terminated, no inner NUL, valid UTF-8 */
        if (p->key < buf || p->key + p->klen > buf + size || p->val < buf || p->val + p->vlen > buf + size)
            abort();
        if (p->key[p->klen] != '\0' || p->val[p->vlen] != '\0') abort();
        if (strlen(p->key) != p->klen || strlen(p->val) != p->vlen) abort();
        if (!utf8_valid(p->key, p->klen) || !utf8_valid(p->val, p->vlen)) abort();
        if (form_count(&f, p->key) == 0 || !form_get(&f, p->key, NULL)) abort();
    }
    free(buf);
    return 0;
}
