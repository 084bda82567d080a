#ifndef AIOS_CNFTABLES_SHIM_H
#define AIOS_CNFTABLES_SHIM_H
#include <stdbool.h>
#include <nftables/libnftables.h>
#endif
