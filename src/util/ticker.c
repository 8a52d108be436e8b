#include "util/ticker.h"

#include <time.h>

#include "util/clock.h"

static void *ticker_main(void *arg)
{
    struct ticker *t = arg;
    pthread_setname_np(pthread_self(), t->name);
    pthread_mutex_lock(&t->lock);
    while (!t->stop) {
        if (!t->kicked) {
            struct timespec until;
            clock_deadline_in(&until, t->period_ms); /* a period, not a date: monotonic */
            pthread_cond_timedwait(&t->cond, &t->lock, &until);
        }
        if (t->stop) break;
        t->kicked = 0;
        pthread_mutex_unlock(&t->lock);
        t->tick(t->ctx);
        pthread_mutex_lock(&t->lock);
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

int ticker_start(struct ticker *t, const char *name, unsigned period_ms, int kicked, void (*tick)(void *ctx),
                 void *ctx)
{
    t->stop = 0;
    t->kicked = kicked;
    t->period_ms = period_ms;
    t->name = name;
    t->tick = tick;
    t->ctx = ctx;
    pthread_mutex_init(&t->lock, NULL);
    if (clock_cond_init(&t->cond) != 0) {
        pthread_mutex_destroy(&t->lock);
        return -1;
    }
    if (pthread_create(&t->thread, NULL, ticker_main, t) != 0) {
        pthread_cond_destroy(&t->cond);
        pthread_mutex_destroy(&t->lock);
        return -1;
    }
    return 0;
}

static void ticker_signal(struct ticker *t, int *flag)
{
    pthread_mutex_lock(&t->lock);
    *flag = 1;
    pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->lock);
}

void ticker_kick(struct ticker *t)
{
    ticker_signal(t, &t->kicked);
}

int ticker_stopping(struct ticker *t)
{
    pthread_mutex_lock(&t->lock);
    int stop = t->stop;
    pthread_mutex_unlock(&t->lock);
    return stop;
}

void ticker_stop(struct ticker *t)
{
    ticker_signal(t, &t->stop);
    pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->lock);
}
