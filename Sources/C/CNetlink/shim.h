#ifndef AIOS_CNETLINK_SHIM_H
#define AIOS_CNETLINK_SHIM_H
/* Owns libmnl and the rtnetlink, genetlink and nfnetlink headers (one owner per system header, see swift-notes §1 snag 11). */
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <linux/if_addr.h>
#include <linux/if_arp.h>
#include <linux/if.h>
#include <linux/veth.h>
#include <linux/if_packet.h>
#include <linux/if_ether.h>
#include <linux/genetlink.h>
#include <linux/wireguard.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

/* MNL_SOCKET_BUFFER_SIZE is a sysconf() expression and function-like macros do not import. */
static inline size_t aios_mnl_buffer_size(void) { return MNL_SOCKET_BUFFER_SIZE; }
static inline unsigned int aios_nlm_f_dump(void) { return NLM_F_DUMP; }

/* Family headers placed after the netlink header (or inside a nest, e.g. a veth peer), zeroed. */
static inline struct ifinfomsg *aios_put_ifinfomsg(struct nlmsghdr *nlh) {
    struct ifinfomsg *m = mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg));
    return m;
}
static inline struct ifaddrmsg *aios_put_ifaddrmsg(struct nlmsghdr *nlh) {
    return mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifaddrmsg));
}
static inline struct rtmsg *aios_put_rtmsg(struct nlmsghdr *nlh) {
    return mnl_nlmsg_put_extra_header(nlh, sizeof(struct rtmsg));
}

#endif
