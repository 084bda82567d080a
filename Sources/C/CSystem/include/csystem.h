#ifndef AIOS_CSYSTEM_H
#define AIOS_CSYSTEM_H
/* Process and namespace calls Swift cannot make safely or at all (see spawn.c). Only plain C
   types here, so this module owns no system header (swift-notes §1 snag 11). */

/* Joins the network namespace open at fd (calling thread only). 0 or -1 with errno. */
int aios_setns_net(int fd);

/* pidfd_open(2): a descriptor that becomes readable when the process exits. */
int aios_pidfd_open(int pid);

/* Starts `path` in a process group of its own, stdin /dev/null, stdout and stderr to
   `out_fd`/`err_fd`, every other descriptor closed; optionally in a private mount namespace
   with a fresh tmpfs on /run holding `run_dirs` and a bind mount `bind_src` on `bind_dst`.
   Returns the PID or -errno; a failure in the child exits it with status 127. */
int aios_spawn(const char *path, char *const argv[], char *const envp[], int out_fd, int err_fd, int private_run,
               char *const run_dirs[], const char *bind_src, const char *bind_dst);
#endif
