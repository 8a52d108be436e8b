/* The subcommands that manage accounts and API keys on a data file (BEHAVIOUR §6); the keys' hashing
 * and HTTP Basic with SK…:secret are in api/apikeys.c:
 *
 *   parley account create [--friendly-name NAME] [--auth-token TOKEN] [--data FILE]
 *   parley account list [--data FILE]
 *   parley account rotate-token AC… [--auth-token TOKEN | --auth-token-file FILE] [--data FILE]
 *   parley key create --account AC… [--friendly-name NAME] [--data FILE]
 *   parley key list [--account AC…] [--data FILE]
 *   parley key revoke SK… [--data FILE]
 *
 * They work beside a running server on the same file (SQLite WAL; every request re-reads API keys, so a
 * new key works and a revoked one fails at once, and a rotated auth token bumps the count that the
 * server's account copies are checked against, store/datalock.h). Every command takes
 * --secret-key-file (default DATA.key for SQLite). A new secret is printed once, on stdout. */
#include "cli/accounts.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "api/api.h"
#include "api/apikeys.h"
#include "http/request.h"
#include "http/response.h"
#include "store/account_store.h"
#include "store/datalock.h"
#include "store/secret.h"
#include "store/writer.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/sid.h"
#include "util/text.h"
#include "util/timefmt.h"

#define SECRET_LEN 32  /* API key secrets: 32 characters of [0-9A-Za-z], like Twilio's */
#define TOKEN_BYTES 16 /* generated auth tokens: 32 hex digits, like Twilio's */
#define TOKEN_MAX 128  /* a given one: 8 to 128 characters, as serve's --auth-token */
#define NAME_MAX_CHARS 64

static void random_bytes(unsigned char *out, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(out + got, n - got, 0);
        if (r <= 0) abort(); /* secrets must be unguessable */
        got += (size_t)r;
    }
}

/* ---- rotating an auth token ---- */

struct token_job {
    struct write_job job;
    const char *sid;
    const char *token;
    int rc;
};

static int apply_token(struct store_conn *c, struct write_job *job)
{
    struct token_job *t = (struct token_job *)job;
    t->rc = store_account_set_token(c, t->sid, t->token);
    return t->rc != ST_OK;
}

static void complete_token(struct write_job *job, int committed, int store_result)
{
    struct token_job *t = (struct token_job *)job;
    if (!committed && t->rc == ST_OK) t->rc = store_result ? store_result : ST_ERROR;
    if (t->rc == ST_OK) api_accounts_changed(); /* before anyone hears of the new token */
}

int accounts_set_token(struct app *app, const char *sid, const char *token)
{
    struct token_job t = {
        .job = {.apply = apply_token, .complete = complete_token}, .sid = sid, .token = token};
    writer_run_sync(app->writer, &t.job);
    return t.rc;
}

/* ---- subcommands ---- */

struct cli {
    const char *data;
    const char *account;         /* --account */
    const char *friendly_name;   /* --friendly-name */
    const char *auth_token;      /* --auth-token */
    const char *auth_token_file; /* --auth-token-file */
    const char *secret_key_file; /* --secret-key-file */
    const char *target;          /* positional: SK… for revoke */
    struct app app;
    struct store_conn *db;
};

/* A job run synchronously on the writer; out collects what is printed after the commit. */
struct cli_job {
    struct write_job job;
    int (*fn)(struct store_conn *c, struct cli_job *j);
    struct cli *cli;
    struct arena arena;
    struct buf out;
    int rc; /* exit status */
};

static int job_apply(struct store_conn *c, struct write_job *job)
{
    struct cli_job *j = (struct cli_job *)job;
    j->rc = j->fn(c, j);
    return j->rc != 0;
}

static void job_complete(struct write_job *job, int committed, int store_result)
{
    struct cli_job *j = (struct cli_job *)job;
    if (!committed && j->rc == 0) {
        fprintf(stderr, "parley: the change was not saved (store error %d)\n", store_result);
        j->rc = 1;
    }
}

static int run_job(struct cli *cli, int (*fn)(struct store_conn *c, struct cli_job *j))
{
    struct cli_job j = {.job = {.apply = job_apply, .complete = job_complete}, .fn = fn, .cli = cli};
    arena_init(&j.arena);
    buf_init(&j.out, 16u << 20);
    if (writer_run_sync(cli->app.writer, &j.job) != 0 && j.rc == 0) j.rc = 1;
    if (j.rc == 0 && j.out.len) fwrite(j.out.p, 1, j.out.len, stdout);
    fflush(stdout);
    buf_free(&j.out);
    arena_free(&j.arena);
    return j.rc;
}

static void print_date(struct buf *b, long long ms)
{
    char t[TIME_ISO_LEN + 1];
    time_iso(t, ms);
    buf_puts(b, t);
}

static int account_list_row(void *ctx, const struct account *a)
{
    struct buf *b = ctx;
    buf_printf(b, "%s ", a->sid);
    print_date(b, a->date_created);
    buf_printf(b, " %s %s\n", a->default_service_sid, a->friendly_name ? a->friendly_name : "-");
    return 0;
}

static int do_account_list(struct store_conn *c, struct cli_job *j)
{
    int rc = store_account_list(c, account_list_row, &j->out);
    if (rc != ST_OK) {
        fprintf(stderr, "parley: cannot list accounts (store error %d)\n", rc);
        return 1;
    }
    return 0;
}

static int key_list_row(void *ctx, const struct api_key *k)
{
    struct buf *b = ctx;
    buf_printf(b, "%s %s %s ", k->sid, k->account_sid, k->date_revoked ? "revoked" : "active");
    print_date(b, k->date_created);
    buf_printf(b, " %s\n", k->friendly_name ? k->friendly_name : "-");
    return 0;
}

static int do_key_list(struct store_conn *c, struct cli_job *j)
{
    int rc = store_api_key_list(c, j->cli->account, key_list_row, &j->out);
    if (rc != ST_OK) {
        fprintf(stderr, "parley: cannot list API keys (store error %d)\n", rc);
        return 1;
    }
    return 0;
}

static int do_key_create(struct store_conn *c, struct cli_job *j)
{
    struct account a;
    int rc = store_account_get(c, j->cli->account, &j->arena, &a);
    if (rc == ST_NOT_FOUND) {
        fprintf(stderr, "parley: no account %s in this data file\n", j->cli->account);
        return 1;
    }
    if (rc != ST_OK) {
        fprintf(stderr, "parley: cannot read account %s (store error %d)\n", j->cli->account, rc);
        return 1;
    }
    static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    unsigned char raw[SECRET_LEN], salt[APIKEY_SALT_HEX / 2];
    char secret[SECRET_LEN + 1], salt_hex[APIKEY_SALT_HEX + 1], hash[APIKEY_HASH_HEX + 1];
    /* 248 is a multiple of 62: rejection keeps every character equally likely */
    for (size_t i = 0; i < SECRET_LEN;) {
        random_bytes(raw, 1);
        if (raw[0] < 248) secret[i++] = alphabet[raw[0] % 62];
    }
    secret[SECRET_LEN] = '\0';
    random_bytes(salt, sizeof(salt));
    apikey_to_hex(salt, sizeof(salt), salt_hex);
    if (apikey_hash(salt_hex, secret, SECRET_LEN, hash) != 0) {
        OPENSSL_cleanse(secret, sizeof(secret));
        fprintf(stderr, "parley: cannot hash the new secret\n");
        return 1;
    }
    struct api_key k;
    memset(&k, 0, sizeof(k));
    sid_new(k.sid, "SK");
    memcpy(k.account_sid, a.sid, sizeof(k.account_sid));
    k.friendly_name = (char *)j->cli->friendly_name;
    k.salt = salt_hex;
    k.secret_hash = hash;
    k.date_created = time_now_ms();
    rc = store_api_key_insert(c, &k);
    if (rc != ST_OK) {
        OPENSSL_cleanse(secret, sizeof(secret));
        fprintf(stderr, "parley: cannot store the API key (store error %d)\n", rc);
        return 1;
    }
    buf_printf(&j->out, "sid %s\nsecret %s\naccount_sid %s\n", k.sid, secret, k.account_sid);
    OPENSSL_cleanse(secret, sizeof(secret));
    return 0;
}

static int do_key_revoke(struct store_conn *c, struct cli_job *j)
{
    int rc = store_api_key_revoke(c, j->cli->target, time_now_ms());
    if (rc == ST_NOT_FOUND) {
        fprintf(stderr, "parley: no API key %s in this data file\n", j->cli->target);
        return 1;
    }
    if (rc != ST_OK) {
        fprintf(stderr, "parley: cannot revoke %s (store error %d)\n", j->cli->target, rc);
        return 1;
    }
    buf_printf(&j->out, "revoked %s\n", j->cli->target);
    return 0;
}

static int account_create(struct cli *cli)
{
    char sid[SID_LEN + 1], token[TOKEN_MAX + 1];
    sid_new(sid, "AC");
    if (cli->auth_token) {
        snprintf(token, sizeof(token), "%s", cli->auth_token);
    } else {
        unsigned char raw[TOKEN_BYTES];
        random_bytes(raw, sizeof(raw));
        apikey_to_hex(raw, sizeof(raw), token);
    }
    if (services_create_account(&cli->app, sid, token, cli->friendly_name) != 0) return 1;
    printf("account_sid %s\nauth_token %s\n", sid, token);
    fflush(stdout);
    fprintf(stderr, "parley: created account %s; keep its auth token, it is not shown again\n", sid);
    OPENSSL_cleanse(token, sizeof(token));
    return 0;
}

/* The token in a file: its first line, without the line end. Returns 0, or 2 after a message. */
static int read_token_file(const char *path, char token[TOKEN_MAX + 2])
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "parley: cannot open %s: %s\n", path, strerror(errno));
        return 2;
    }
    int ok = fgets(token, TOKEN_MAX + 2, f) != NULL;
    fclose(f);
    if (!ok) {
        fprintf(stderr, "parley: %s is empty\n", path);
        return 2;
    }
    token[strcspn(token, "\r\n")] = '\0';
    for (const char *p = token; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            OPENSSL_cleanse(token, TOKEN_MAX + 2);
            fprintf(stderr, "parley: %s holds a control character\n", path);
            return 2;
        }
    return 0;
}

static int account_rotate(struct cli *cli)
{
    char token[TOKEN_MAX + 2];
    if (cli->auth_token_file) {
        int rc = read_token_file(cli->auth_token_file, token);
        if (rc != 0) return rc;
        if (strlen(token) < 8 || strlen(token) > TOKEN_MAX) {
            OPENSSL_cleanse(token, sizeof(token));
            fprintf(stderr, "parley: the token in %s must be 8 to %d characters\n", cli->auth_token_file,
                    TOKEN_MAX);
            return 2;
        }
    } else if (cli->auth_token) {
        snprintf(token, sizeof(token), "%s", cli->auth_token);
    } else {
        unsigned char raw[TOKEN_BYTES];
        random_bytes(raw, sizeof(raw));
        apikey_to_hex(raw, sizeof(raw), token);
    }
    int rc = accounts_set_token(&cli->app, cli->target, token);
    if (rc == ST_OK) {
        printf("account_sid %s\nauth_token %s\n", cli->target, token);
        fflush(stdout);
        fprintf(stderr, "parley: the auth token of %s is replaced; the old one no longer works\n",
                cli->target);
    } else if (rc == ST_NOT_FOUND) {
        fprintf(stderr, "parley: no account %s in this data file\n", cli->target);
    } else {
        fprintf(stderr, "parley: cannot replace the auth token of %s (store error %d)\n", cli->target, rc);
    }
    OPENSSL_cleanse(token, sizeof(token));
    return rc == ST_OK ? 0 : 1;
}

static void usage(FILE *out)
{
    fputs("usage: parley account create [--friendly-name NAME] [--auth-token TOKEN] [--data FILE]\n"
          "       parley account list [--data FILE]\n"
          "       parley account rotate-token AC... [--auth-token TOKEN | --auth-token-file FILE]\n"
          "                                  [--data FILE]\n"
          "       parley key create --account AC... [--friendly-name NAME] [--data FILE]\n"
          "       parley key list [--account AC...] [--data FILE]\n"
          "       parley key revoke SK... [--data FILE]\n"
          "\n"
          "Accounts and API keys on a Parley data file (PARLEY_DATA; default parley.db), also while a\n"
          "server runs on it. A new auth token or key secret is printed once; keys authenticate as\n"
          "HTTP Basic SK...:secret and act for their account. rotate-token replaces an auth token (a\n"
          "new random one unless given) and prints it; the old one stops working at once. Every command\n"
          "takes --secret-key-file FILE (PARLEY_SECRET_KEY_FILE; default DATA.key for SQLite).\n",
          out);
}

/* Parses the flags after "account <verb>" / "key <verb>". Returns 0, or 2 after a message. */
static int parse_flags(struct cli *cli, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        const char **slot = NULL;
        if (strcmp(a, "--data") == 0)
            slot = &cli->data;
        else if (strcmp(a, "--account") == 0)
            slot = &cli->account;
        else if (strcmp(a, "--friendly-name") == 0)
            slot = &cli->friendly_name;
        else if (strcmp(a, "--auth-token") == 0)
            slot = &cli->auth_token;
        else if (strcmp(a, "--auth-token-file") == 0)
            slot = &cli->auth_token_file;
        else if (strcmp(a, "--secret-key-file") == 0)
            slot = &cli->secret_key_file;
        if (slot) {
            if (!v) {
                fprintf(stderr, "parley: %s needs a value\n", a);
                return 2;
            }
            *slot = v;
            i++;
        } else if (a[0] != '-' && !cli->target) {
            cli->target = a;
        } else {
            fprintf(stderr, "parley: unexpected argument '%s' (see --help)\n", a);
            return 2;
        }
    }
    if (cli->account && !sid_valid(cli->account, strlen(cli->account), "AC")) {
        fprintf(stderr, "parley: --account must be AC followed by 32 hex digits\n");
        return 2;
    }
    if (cli->friendly_name && utf8_len(cli->friendly_name, strlen(cli->friendly_name)) > NAME_MAX_CHARS) {
        fprintf(stderr, "parley: --friendly-name takes at most %d characters\n", NAME_MAX_CHARS);
        return 2;
    }
    if (cli->friendly_name && !utf8_valid(cli->friendly_name, strlen(cli->friendly_name))) {
        fprintf(stderr, "parley: --friendly-name must be UTF-8\n");
        return 2;
    }
    /* the same rule as serve's --auth-token */
    if (cli->auth_token && (strlen(cli->auth_token) < 8 || strlen(cli->auth_token) > TOKEN_MAX)) {
        fprintf(stderr, "parley: --auth-token must be 8 to %d characters\n", TOKEN_MAX);
        return 2;
    }
    return 0;
}

static int open_store(struct cli *cli)
{
    cli->app.store = store_backend_for(cli->data);
    int sqlite = cli->app.store == &store_sqlite_ops;
    /* without the server's lock: the subcommands work beside a running server */
    if ((sqlite && datalock_open(cli->data, 0) != DATALOCK_OK) ||
        secret_key_setup(cli->secret_key_file, cli->data, sqlite) != 0) {
        datalock_close();
        return -1;
    }
    cli->app.data = cli->data;
    cli->app.sync_full = 1;
    cli->app.public_url = "";
    if (cli->app.store->open(cli->data, 1, 1, &cli->db) != ST_OK) return -1;
    if (cli->db->ops->migrate(cli->db) != ST_OK || writer_start(&cli->app.writer, cli->db, 1) != 0) {
        cli->db->ops->close(cli->db);
        cli->db = NULL;
        datalock_close();
        return -1;
    }
    return 0;
}

static void close_store(struct cli *cli)
{
    writer_stop(cli->app.writer);
    if (cli->db) cli->db->ops->close(cli->db);
    datalock_close();
}

int accounts_main(int argc, char **argv)
{
    const char *what = argv[0];
    const char *verb = argc > 1 ? argv[1] : NULL;
    if (!verb || strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
        usage(verb ? stdout : stderr);
        return verb ? 0 : 2;
    }
    struct cli cli;
    memset(&cli, 0, sizeof(cli));
    const char *env = getenv("PARLEY_DATA");
    cli.data = env && *env ? env : "parley.db";
    const char *key_env = getenv("PARLEY_SECRET_KEY_FILE");
    cli.secret_key_file = key_env && *key_env ? key_env : NULL;
    int rc = parse_flags(&cli, argc - 2, argv + 2);
    if (rc != 0) return rc;

    int account = strcmp(what, "account") == 0;
    int (*job)(struct store_conn *, struct cli_job *) = NULL;
    int create_account = 0, rotate = 0;
    if (account && strcmp(verb, "create") == 0 && !cli.account && !cli.target && !cli.auth_token_file)
        create_account = 1;
    else if (account && strcmp(verb, "rotate-token") == 0 && cli.target && !cli.account &&
             !cli.friendly_name && !(cli.auth_token && cli.auth_token_file))
        rotate = 1;
    else if (account && strcmp(verb, "list") == 0 && !cli.account && !cli.target && !cli.friendly_name &&
             !cli.auth_token)
        job = do_account_list;
    else if (!account && strcmp(verb, "create") == 0 && cli.account && !cli.target && !cli.auth_token)
        job = do_key_create;
    else if (!account && strcmp(verb, "list") == 0 && !cli.target && !cli.friendly_name && !cli.auth_token)
        job = do_key_list;
    else if (!account && strcmp(verb, "revoke") == 0 && cli.target && !cli.account && !cli.friendly_name &&
             !cli.auth_token)
        job = do_key_revoke;
    if (cli.auth_token_file && !rotate) job = NULL;
    if (!job && !create_account && !rotate) {
        usage(stderr);
        return 2;
    }
    if (rotate && !sid_valid(cli.target, strlen(cli.target), "AC")) {
        fprintf(stderr, "parley: account rotate-token takes an account SID (AC followed by 32 hex digits)\n");
        return 2;
    }
    if (job == do_key_revoke && !sid_valid(cli.target, strlen(cli.target), "SK")) {
        fprintf(stderr, "parley: key revoke takes an API key SID (SK followed by 32 hex digits)\n");
        return 2;
    }
    char shown[256]; /* a PostgreSQL target may hold a password */
    store_target_redact(cli.data, shown, sizeof(shown));
    /* only account create may start a new SQLite data file */
    if (!create_account && store_backend_for(cli.data) == &store_sqlite_ops && access(cli.data, F_OK) != 0) {
        fprintf(stderr, "parley: no data file %s\n", shown);
        return 1;
    }
    if (open_store(&cli) != 0) {
        fprintf(stderr, "parley: cannot open the data file %s\n", shown);
        return 1;
    }
    rc = create_account ? account_create(&cli) : rotate ? account_rotate(&cli) : run_job(&cli, job);
    close_store(&cli);
    return rc;
}
