/* A background thread that runs one function every period, or at once when kicked, until stopped:
 * the store's checkpointer and the service reaper are both this. */
#ifndef PARLEY_TICKER_H
#define PARLEY_TICKER_H
#include <pthread.h>

struct ticker {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stop;
    int kicked;
    unsigned period_ms;
    const char *name;
    void (*tick)(void *ctx);
    void *ctx;
};

/* Starts the thread; kicked says whether the first tick runs at once. 0, or -1 (nothing to stop). */
int ticker_start(struct ticker *t, const char *name, unsigned period_ms, int kicked, void (*tick)(void *ctx),
                 void *ctx);
/* Runs the next tick now (or right after the one under way). Safe from any thread. */
void ticker_kick(struct ticker *t);
/* For a long tick: whether to give up early because ticker_stop was called. */
int ticker_stopping(struct ticker *t);
/* Lets a tick under way finish, then joins the thread. */
void ticker_stop(struct ticker *t);

#endif
