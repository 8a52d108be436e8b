/* `parley inbound` and `parley receipt`: inbound traffic for tests from a shell, through a running server
 * (POST /parley/inbound, POST /parley/receipts/{DY…}) with the account's credentials:
 *
 *   parley inbound --from ADDRESS --to PROXY [--body TEXT] [--media-sid ME…] [--channel sms|whatsapp]
 *   parley receipt DY… --status sent|delivered|read|failed|undelivered [--error-code N]
 *
 * Both take --url (PARLEY_URL; default http://PARLEY_LISTEN, else http://127.0.0.1:8080), --account-sid
 * (PARLEY_ACCOUNT_SID) and --auth-token (PARLEY_AUTH_TOKEN). They call the server rather than write the
 * data file: the server's one writer, its webhook delivery and its validation then do exactly what the
 * endpoint does, on SQLite and on PostgreSQL alike. The answer's JSON goes to stdout; the exit status is 0
 * for a 2xx, 1 for an error answer or no answer, 2 for a usage error. */
#include "cli/inbound.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

#define CLI_URL_MAX 2048
#define CLI_FORM_MAX (256 * 1024)   /* the encoded request: a 32 KB body three times over, with room */
#define CLI_ANSWER_MAX (256 * 1024) /* the server's answer */
#define CLI_TIMEOUT_S 30

static void usage(FILE *out)
{
    fputs(
        "usage: parley inbound --from ADDRESS --to PROXY [--body TEXT] [--media-sid ME...]\n"
        "                      [--channel sms|whatsapp] [--url URL] [--account-sid AC...] [--auth-token T]\n"
        "       parley receipt DY... --status sent|delivered|read|failed|undelivered [--error-code N]\n"
        "                      [--url URL] [--account-sid AC...] [--auth-token T]\n"
        "  through a running server: --url defaults to PARLEY_URL, else http://PARLEY_LISTEN, else\n"
        "  http://127.0.0.1:8080; the credentials to PARLEY_ACCOUNT_SID and PARLEY_AUTH_TOKEN\n",
        out);
}

static size_t collect(char *p, size_t size, size_t n, void *ctx)
{
    struct buf *b = ctx;
    return buf_put(b, p, size * n) == 0 ? size * n : 0;
}

/* name=value (percent-encoded) onto the form; -1 when out of room or memory */
static int form_add(CURL *curl, struct buf *form, const char *name, const char *value)
{
    if (!value) return 0;
    char *enc = curl_easy_escape(curl, value, 0);
    if (!enc) return -1;
    int rc = buf_printf(form, "%s%s=%s", form->len ? "&" : "", name, enc);
    curl_free(enc);
    return rc == 0 && !form->err ? 0 : -1;
}

struct call {
    const char *url, *account, *token;
    const char *pairs[10]; /* name, value, ...: NULL values are left out */
    int n;
};

/* POSTs the form to base + path; prints the answer. Returns the exit status. */
static int post(const struct call *k, const char *path)
{
    char url[CLI_URL_MAX];
    size_t blen = strlen(k->url);
    while (blen && k->url[blen - 1] == '/')
        blen--;
    if (snprintf(url, sizeof(url), "%.*s%s", (int)blen, k->url, path) >= (int)sizeof(url)) {
        fprintf(stderr, "parley: --url is too long\n");
        return 2;
    }
    CURL *curl = curl_easy_init();
    if (!curl) return 1;
    struct buf form, answer;
    buf_init(&form, CLI_FORM_MAX);
    buf_init(&answer, CLI_ANSWER_MAX);
    int status = 1, bad = 0;
    for (int i = 0; i + 1 < k->n && !bad; i += 2)
        bad = form_add(curl, &form, k->pairs[i], k->pairs[i + 1]) != 0;
    if (bad) {
        fprintf(stderr, "parley: the request is too large\n");
        goto out;
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form.p ? form.p : "");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)form.len);
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(curl, CURLOPT_USERNAME, k->account);
    curl_easy_setopt(curl, CURLOPT_PASSWORD, k->token);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)CLI_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    CURLcode res = curl_easy_perform(curl);
    if (res != CURLE_OK) {
        fprintf(stderr, "parley: %s: %s\n", url, curl_easy_strerror(res));
        goto out;
    }
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    fwrite(answer.p ? answer.p : "", 1, answer.len, stdout);
    fputc('\n', stdout);
    status = code >= 200 && code < 300 ? 0 : 1;
out:
    buf_free(&form);
    buf_free(&answer);
    curl_easy_cleanup(curl);
    return status;
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

int inbound_cli_main(int argc, char **argv)
{
    int receipt = strcmp(argv[0], "receipt") == 0;
    char listen_url[CLI_URL_MAX];
    const char *listen = env("PARLEY_LISTEN");
    snprintf(listen_url, sizeof(listen_url), "http://%s", listen ? listen : "127.0.0.1:8080");
    struct call k = {env("PARLEY_URL") ? env("PARLEY_URL") : listen_url,
                     env("PARLEY_ACCOUNT_SID"),
                     env("PARLEY_AUTH_TOKEN"),
                     {0},
                     0};
    const char *from = NULL, *to = NULL, *body = NULL, *media = NULL, *channel = NULL;
    const char *sid = NULL, *status = NULL, *error_code = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        const char **slot = NULL;
        if (strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--url") == 0) {
            slot = &k.url;
        } else if (strcmp(a, "--account-sid") == 0) {
            slot = &k.account;
        } else if (strcmp(a, "--auth-token") == 0) {
            slot = &k.token;
        } else if (!receipt && strcmp(a, "--from") == 0) {
            slot = &from;
        } else if (!receipt && strcmp(a, "--to") == 0) {
            slot = &to;
        } else if (!receipt && strcmp(a, "--body") == 0) {
            slot = &body;
        } else if (!receipt && strcmp(a, "--media-sid") == 0) {
            slot = &media;
        } else if (!receipt && strcmp(a, "--channel") == 0) {
            slot = &channel;
        } else if (receipt && strcmp(a, "--status") == 0) {
            slot = &status;
        } else if (receipt && strcmp(a, "--error-code") == 0) {
            slot = &error_code;
        } else if (receipt && !sid && a[0] != '-') {
            sid = a;
            continue;
        }
        if (!slot || !v) {
            usage(stderr);
            return 2;
        }
        *slot = v;
        i++;
    }
    if (receipt ? !sid || !status : !from || !to || (!body && !media)) {
        usage(stderr);
        return 2;
    }
    if (!k.account || !k.token) {
        fprintf(stderr,
                "parley: give --account-sid and --auth-token (or PARLEY_ACCOUNT_SID, PARLEY_AUTH_TOKEN)\n");
        return 2;
    }
    if (receipt) {
        /* a SID is 34 letters and digits: nothing in it needs encoding in the path */
        if (strlen(sid) != 34 ||
            strspn(sid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != 34) {
            fprintf(stderr, "parley: %s is not a receipt SID\n", sid);
            return 2;
        }
        const char *pairs[] = {"Status", status, "ErrorCode", error_code};
        memcpy(k.pairs, pairs, sizeof(pairs));
        k.n = 4;
        char path[64];
        snprintf(path, sizeof(path), "/parley/receipts/%s", sid);
        return post(&k, path);
    }
    const char *pairs[] = {"From", from, "To", to, "Body", body, "MediaSid", media, "Channel", channel};
    memcpy(k.pairs, pairs, sizeof(pairs));
    k.n = 10;
    return post(&k, "/parley/inbound");
}
