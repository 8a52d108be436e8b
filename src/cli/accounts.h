/* The `parley account …` / `parley key …` subcommands that manage accounts and API keys on a data file,
 * and the auth-token rotation that serve's --auth-token shares with them. */
#ifndef PARLEY_CLI_ACCOUNTS_H
#define PARLEY_CLI_ACCOUNTS_H

struct app;

/* Replaces the auth token of account sid through app's writer; once committed, every cached copy of
 * the account is stale (this process's and, with SQLite, a running server's). Returns a store_result. */
int accounts_set_token(struct app *app, const char *sid, const char *token);

/* `parley account …` and `parley key …`: argv[0] is "account" or "key". Returns the exit status. */
int accounts_main(int argc, char **argv);

#endif
