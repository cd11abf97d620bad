// The threads of parallel loops: workers that wait for the next loop by spinning for a while before they sleep.
// Waking a sleeping thread took 70 µs on average on the 2-core EPYC VM, and up to 3 ms (a condition variable after
// 2 ms idle), longer than most of one image's layers; a network's loops come microseconds apart, so spinning workers
// join each at once.
#include "CBase.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define AN_PAUSE() _mm_pause()
#else
#define AN_PAUSE() ((void)0)
#endif

enum { MAX_WORKERS = 255 };
/// How long an idle worker spins before it sleeps.
static const long SPIN_NANOSECONDS = 2000000;

/// The loop being run. `generation` is odd while the caller rewrites the loop, even once it is published; a worker
/// reads the loop only between raising `active` and finding `generation` even, and the caller rewrites it only once
/// `active` is 0, so no worker reads a half-written loop or runs one whose caller has returned.
static struct {
    an_pool_body body;
    void *context;
    long count;
    int workers;  // the workers this loop may use (the first `workers` of the pool)
    int level;    // the caller's own SIMD level (`an_thread_simd_level`), which its items run at
    atomic_long next, done;
} loop;
static atomic_long generation = 0;
static atomic_int active = 0, sleeping = 0;
static int started = 0;
static pthread_mutex_t submitting = PTHREAD_MUTEX_INITIALIZER, sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
/// The processors online, read once: `sysconf` reads them from /sys at each call, 7 µs on the 2-core EPYC VM — per
/// loop, more than a 14×14 layer's share of work.
static atomic_long processors_online = 0;

static long elapsed_since(const struct timespec *start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - start->tv_sec) * 1000000000L + (now.tv_nsec - start->tv_nsec);
}

/// Runs items of the published loop until none is left.
static void run_items(an_pool_body body, void *context, long count) {
    for (long index; (index = atomic_fetch_add(&loop.next, 1)) < count;) {
        body(context, index);
        atomic_fetch_add(&loop.done, 1);
    }
}

static void *worker(void *argument) {
    int number = (int)(long)argument;
    long seen = 0;
    for (;;) {
        // Wait for a generation after `seen`: spin, then sleep.
        struct timespec start;
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (int spins = 1; atomic_load(&generation) == seen; spins++) {
            AN_PAUSE();
            if (spins % 1024 == 0 && elapsed_since(&start) > SPIN_NANOSECONDS) {
                pthread_mutex_lock(&sleep_lock);
                atomic_fetch_add(&sleeping, 1);
                while (atomic_load(&generation) == seen) pthread_cond_wait(&wake, &sleep_lock);
                atomic_fetch_sub(&sleeping, 1);
                pthread_mutex_unlock(&sleep_lock);
            }
        }
        atomic_fetch_add(&active, 1);
        long current = atomic_load(&generation);
        if (current & 1) {  // being rewritten: wait (outside `active`, so the caller can go on) until it is published
            atomic_fetch_sub(&active, 1);
            seen = current;
            continue;
        }
        seen = current;
        if (number < loop.workers) {
            an_set_thread_simd_level(loop.level);
            run_items(loop.body, loop.context, loop.count);
            an_set_thread_simd_level(-1);
        }
        atomic_fetch_sub(&active, 1);
    }
    return NULL;
}

/// Starts workers up to `count` (under `submitting`).
static void start_workers(int count) {
    for (; started < count && started < MAX_WORKERS; started++) {
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        int failed = pthread_create(&thread, &attributes, worker, (void *)(long)started);
        pthread_attr_destroy(&attributes);
        if (failed) break;
    }
}

void an_pool_run(long count, int threads, an_pool_body body, void *context) {
    // No more threads than processors (as GCD's loops): more would take turns on the cores, spinning workers taking
    // them from the threads with work (`--threads 16` on 2 cores ran MobileNetV2 at 130 images/s against 166).
    long processors = atomic_load_explicit(&processors_online, memory_order_relaxed);
    if (processors == 0) {
        processors = sysconf(_SC_NPROCESSORS_ONLN);
        atomic_store_explicit(&processors_online, processors, memory_order_relaxed);
    }
    if (processors > 0 && threads > processors) threads = (int)processors;
    // One loop at a time: a second caller (another thread of the program) runs its loop alone.
    if (threads <= 1 || count <= 1 || pthread_mutex_trylock(&submitting) != 0) {
        for (long index = 0; index < count; index++) body(context, index);
        return;
    }
    start_workers(threads - 1);
    atomic_fetch_add(&generation, 1);  // odd: rewriting
    while (atomic_load(&active) != 0) AN_PAUSE();
    loop.body = body;
    loop.context = context;
    loop.count = count;
    loop.workers = threads - 1 < started ? threads - 1 : started;
    loop.level = an_thread_simd_level();
    atomic_store(&loop.next, 0);
    atomic_store(&loop.done, 0);
    atomic_fetch_add(&generation, 1);  // even: published
    if (atomic_load(&sleeping) > 0) {
        pthread_mutex_lock(&sleep_lock);
        pthread_cond_broadcast(&wake);
        pthread_mutex_unlock(&sleep_lock);
    }
    run_items(body, context, count);
    // Every item taken; wait until every taken item is done (no worker then calls `body` again).
    while (atomic_load(&loop.done) < count) AN_PAUSE();
    pthread_mutex_unlock(&submitting);
}
