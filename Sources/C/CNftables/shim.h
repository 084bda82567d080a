#ifndef AIOS_CNFTABLES_SHIM_H
#define AIOS_CNFTABLES_SHIM_H
#include <stdbool.h>
#include <nftables/libnftables.h>
/* mallopt and malloc_trim: keeping libnftables' memory between big transactions. */
#include <malloc.h>
#endif
