/* counters.c - the one definition of the worker's counter block pointer
 * (see counters.h); pool/metrics.c sets it. */
#include "openbook/core/counters.h"

_Atomic uint64_t *ob_metrics_mine;
