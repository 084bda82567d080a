#ifndef AIOS_CUNBOUND_SHIM_H
#define AIOS_CUNBOUND_SHIM_H
#include <unbound.h>
#endif
