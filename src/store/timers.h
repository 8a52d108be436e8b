/* The durable timer schedule: one pending timer per (kind, target), rows of the store (both engines), so
 * that a timer fires even while nobody calls the API and after a restart.
 *
 * store_timer_set and store_timer_clear run inside a write transaction (a writer job's apply), with the
 * change that arms or disarms the timer. Kinds are registered at start-up with the function that fires
 * them; the scheduler (timers_start) claims each due timer in a write transaction, deletes it and calls
 * fire in that same transaction, so a timer fires exactly once: a fire that fails (returns non-zero) is
 * rolled back with the delete and tried again later, and with several servers on one PostgreSQL the
 * claim skips a timer another server holds (FOR UPDATE SKIP LOCKED). */
#ifndef PARLEY_TIMERS_H
#define PARLEY_TIMERS_H

struct store_conn;
struct writer;

#define TIMER_KIND_MAX 32           /* longest kind name */
#define TIMER_TARGET_MAX 64         /* longest target (a SID is 34) */
#define TIMER_KINDS_MAX 16          /* registered kinds */
#define TIMERS_ROUND_MAX 64         /* timers one scheduler round fires; more wait for the next round */
#define TIMER_RETRY_MIN_MS 1000LL   /* a failed fire is tried again after this... */
#define TIMER_RETRY_MAX_MS 300000LL /* ...doubling per failure up to this */
#define TIMERS_RESCAN_MS 1000LL     /* longest sleep when shared: another server's timers are seen by then */
#define TIMERS_IDLE_MS 60000LL      /* longest sleep alone (every arm and clock move wakes it anyway) */
#define TIMERS_HELD_MS 100LL        /* a due timer another server holds: look again after this */

/* Runs in the claiming write transaction, after the timer's row is deleted. It may arm timers again
 * (store_timer_set, also for its own kind and target). A target that no longer exists is not a failure:
 * return 0. Non-zero: everything it did and the claim are rolled back; the timer is tried again later.
 * A statement of its own that fails must make it fail too (PostgreSQL cannot keep part of a failed
 * savepoint: returning 0 then fails the whole round). */
typedef int (*timer_fire_fn)(struct store_conn *c, const char *account_sid, const char *target_sid,
                             long long due_ms);

/* Arms (or re-arms: one pending timer per kind and target) a timer due at due_ms on the clock
 * (util/clock.h). 0 or a negative store_result. */
int store_timer_set(struct store_conn *c, const char *account_sid, const char *kind, const char *target_sid,
                    long long due_ms);
/* Disarms it; 0 also when none was armed. */
int store_timer_clear(struct store_conn *c, const char *kind, const char *target_sid);
/* The pending timer's due time into *due_ms; ST_NOT_FOUND when none is armed. Any connection. */
int store_timer_get(struct store_conn *c, const char *kind, const char *target_sid, long long *due_ms);

/* Registers kind's fire function; at start-up, before timers_start. 0, or -1 (a bad or duplicate name,
 * no room, or the scheduler already runs). */
int timers_register(const char *kind, timer_fire_fn fire);

/* One round, inside the caller's transaction on c: fires up to max timers whose time has come by now, in
 * the order they are due, each in its own savepoint. *fired counts the fires that succeeded, *failed the
 * ones rolled back for a retry; *next_ms is the earliest time a timer is then tried (0: none left).
 * 0 or a negative store_result (the caller rolls the transaction back). */
int timers_run_due(struct store_conn *c, long long now, int max, int *fired, int *failed, long long *next_ms);

/* The scheduler: a thread that sleeps until the earliest timer, a clock move (util/clock.h) or an earlier
 * store_timer_set, then runs a round through the writer w. shared: other servers arm timers in the same
 * database (PostgreSQL), so it looks again at least every TIMERS_RESCAN_MS. One per process. 0, or -1. */
int timers_start(struct writer *w, int shared);
/* Lets the round under way finish, then stops the thread (before the writer stops). */
void timers_stop(void);
/* Waits (at most timeout_ms) until a round that started after this call has found nothing more due:
 * what a test clock move answers after, so that the timers it made due have fired. 0, or -1 when the
 * wait timed out; 0 at once when no scheduler runs. */
int timers_settle(long long timeout_ms);
/* Rounds the scheduler has begun since it started (for tests and metrics). */
unsigned long timers_rounds(void);

#endif
