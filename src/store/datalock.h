/* The lock file beside a SQLite data file (DATA.lock): a server holds an exclusive flock on it, so a
 * second server on the same file is refused, while the subcommands (account, key, webhooks) open it
 * without the lock and work beside a running server. Its first 8 bytes, mapped shared by every process
 * on the file, count account changes: a subcommand that changes an account bumps it after its commit,
 * and the server's per-thread account copies compare it with the count they were taken at, which costs
 * one memory read per request. One data file per process. */
#ifndef PARLEY_DATALOCK_H
#define PARLEY_DATALOCK_H

enum { DATALOCK_OK = 0, DATALOCK_ERROR = -1, DATALOCK_HELD = -2 };

/* Opens (creating it 0600) and maps DATA.lock; with exclusive, also takes the server's lock. Returns
 * DATALOCK_OK, DATALOCK_HELD (another server holds it) or DATALOCK_ERROR (logged). */
int datalock_open(const char *data, int exclusive);
/* The account-change count of the data file; 0 when no lock file is open. */
unsigned long long datalock_generation(void);
void datalock_bump(void);
void datalock_close(void);

#endif
