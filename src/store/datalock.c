/* DATA.lock: the one-server lock and the shared account-change count (store/datalock.h). */
#include "store/datalock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"

#define LOCK_FILE_BYTES 4096 /* one page: the count and room to grow */
#define LOCK_PATH_MAX 4096

static int lock_fd = -1;
static _Atomic unsigned long long *shared_count;

int datalock_open(const char *data, int exclusive)
{
    char path[LOCK_PATH_MAX];
    if (snprintf(path, sizeof(path), "%s.lock", data) >= (int)sizeof(path)) {
        log_err("the data file name is too long");
        return DATALOCK_ERROR;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_err("cannot open the lock file %s: %s", path, strerror(errno));
        return DATALOCK_ERROR;
    }
    if (exclusive && flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int held = errno == EWOULDBLOCK;
        if (held)
            log_err("another parley server is running on %s (it holds %s); one server per data file", data,
                    path);
        else
            log_err("cannot lock %s: %s", path, strerror(errno));
        close(fd);
        return held ? DATALOCK_HELD : DATALOCK_ERROR;
    }
    /* growing a short file to the page is idempotent, so processes opening it at once agree */
    struct stat st;
    if (fstat(fd, &st) != 0 || (st.st_size < LOCK_FILE_BYTES && ftruncate(fd, LOCK_FILE_BYTES) != 0)) {
        log_err("cannot size the lock file %s: %s", path, strerror(errno));
        close(fd);
        return DATALOCK_ERROR;
    }
    void *m = mmap(NULL, LOCK_FILE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        log_err("cannot map the lock file %s: %s", path, strerror(errno));
        close(fd);
        return DATALOCK_ERROR;
    }
    lock_fd = fd;
    shared_count = m;
    return DATALOCK_OK;
}

unsigned long long datalock_generation(void)
{
    return shared_count ? atomic_load_explicit(shared_count, memory_order_acquire) : 0;
}

void datalock_bump(void)
{
    if (shared_count) atomic_fetch_add_explicit(shared_count, 1, memory_order_acq_rel);
}

void datalock_close(void)
{
    if (shared_count) munmap((void *)shared_count, LOCK_FILE_BYTES);
    shared_count = NULL;
    if (lock_fd >= 0) close(lock_fd); /* releases the flock */
    lock_fd = -1;
}
