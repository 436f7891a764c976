/* counters.h - the error and reconnection counters that the lower layers
 * (the PostgreSQL and Redis clients) move for the pool's metrics
 * (pool/metrics.h renders them).
 *
 * The pool points ob_metrics_mine at its worker's block of the memory it
 * shares with the master (only that worker writes it); everywhere else
 * (metrics.listen empty, --single, the command-line tools, the relay) it
 * stays NULL and ob_metric_inc returns at its first test.  This header is
 * in core so that db/ and redis/ can count without depending on the pool
 * above them. */
#ifndef OPENBOOK_COUNTERS_H
#define OPENBOOK_COUNTERS_H

#include <stdatomic.h>
#include <stdint.h>

/* Counters that code anywhere in a worker moves with ob_metric_inc(). */
typedef enum {
    OB_MC_DB_RECONNECTS,        /* connected again after a connection was lost */
    OB_MC_DB_CONNECT_ERRORS,    /* a connection attempt failed */
    OB_MC_DB_LOST,              /* an open connection broke */
    OB_MC_DB_STATEMENT_ERRORS,  /* a statement failed (any SQLSTATE) */
    OB_MC_REDIS_RECONNECTS,
    OB_MC_REDIS_CONNECT_ERRORS,
    OB_MC_REDIS_IO_ERRORS,      /* a command got no answer: connection dropped */
    OB_MC_REDIS_REPLY_ERRORS,   /* Redis answered an error */
    OB_MC_COUNT
} ob_counter;

/* This worker's counters (OB_MC_COUNT of them); NULL when metrics are off. */
extern _Atomic uint64_t *ob_metrics_mine;

static inline void ob_metric_inc(ob_counter c)
{
    _Atomic uint64_t *p = ob_metrics_mine;
    if (p) /* one writer per slot: load and store, no read-modify-write */
        atomic_store_explicit(&p[c], atomic_load_explicit(&p[c], memory_order_relaxed) + 1,
                              memory_order_relaxed);
}

#endif
