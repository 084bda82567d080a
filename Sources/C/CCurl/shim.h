#ifndef AIOS_CCURL_SHIM_H
#define AIOS_CCURL_SHIM_H
#include <curl/curl.h>

/* curl_easy_setopt/getinfo are variadic, which Swift cannot call: typed wrappers. */
typedef size_t (*aios_curl_write_fn)(char *ptr, size_t size, size_t nmemb, void *userdata);

static inline int aios_curl_setopt_long(CURL *h, CURLoption opt, long value) {
    return (int)curl_easy_setopt(h, opt, value);
}
static inline int aios_curl_setopt_str(CURL *h, CURLoption opt, const char *value) {
    return (int)curl_easy_setopt(h, opt, value);
}
static inline int aios_curl_setopt_ptr(CURL *h, CURLoption opt, void *value) {
    return (int)curl_easy_setopt(h, opt, value);
}
static inline int aios_curl_setopt_writefn(CURL *h, aios_curl_write_fn fn) {
    return (int)curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fn);
}
static inline int aios_curl_setopt_headerfn(CURL *h, aios_curl_write_fn fn) {
    return (int)curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, fn);
}
static inline int aios_curl_setopt_off(CURL *h, CURLoption opt, curl_off_t value) {
    return (int)curl_easy_setopt(h, opt, value);
}
static inline int aios_curl_getinfo_str(CURL *h, CURLINFO info, char **out) {
    return (int)curl_easy_getinfo(h, info, out);
}
static inline int aios_curl_getinfo_long(CURL *h, CURLINFO info, long *out) {
    return (int)curl_easy_getinfo(h, info, out);
}
static inline int aios_curl_getinfo_double(CURL *h, CURLINFO info, double *out) {
    return (int)curl_easy_getinfo(h, info, out);
}
#endif
