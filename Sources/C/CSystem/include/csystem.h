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

/* As aios_spawn, handing the child `pass_count` descriptors from `pass_fds` as 3, 4, … (systemd's
   socket activation: LISTEN_FDS). `listen_pid` points into one of `envp`'s strings, the digits
   after "LISTEN_PID=", with room for 10: the child writes its own PID there before exec. With
   `private_run`, as aios_spawn (a private tmpfs /run holding `run_dirs`). */
int aios_spawn_passing(const char *path, char *const argv[], char *const envp[], int out_fd, int err_fd,
                       const int pass_fds[], int pass_count, char *listen_pid, int private_run,
                       char *const run_dirs[]);
#endif
