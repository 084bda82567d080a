#define _GNU_SOURCE
#include "csystem.h"
/* Process and namespace calls Swift cannot make safely or at all: setns/unshare are
   _GNU_SOURCE-only (raw syscalls here need no feature macro), and a child that must enter a
   private mount namespace before exec can only run async-signal-safe calls between fork and
   exec, so that part is C. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#define AIOS_CLONE_NEWNS 0x00020000
#define AIOS_CLONE_NEWNET 0x40000000

/* Joins the network namespace open at fd (calling thread only). */
int aios_setns_net(int fd) { return (int)syscall(SYS_setns, fd, AIOS_CLONE_NEWNET); }

/* pidfd_open(2): a descriptor that becomes readable when the process exits (any process, not only children). */
int aios_pidfd_open(int pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

/* Starts `path` with `argv`/`envp` in a process group of its own, stdin from /dev/null, stdout
   and stderr to `out_fd`/`err_fd`, every other descriptor closed. With `private_run` set, the
   child first enters a private mount namespace and mounts a fresh tmpfs on /run, creating the
   directories in `run_dirs` (NULL-terminated) inside it, then bind-mounts `bind_src` on
   `bind_dst` when given: the programs whose sockets, pid and lease files would otherwise be
   shared by every network namespace (dhcpcd, wireguard-go) get their own. Returns the PID, or
   -errno. A failure in the child after fork exits it with status 127 (reported as its exit). */
/* In the child after fork (async-signal-safe calls only): its own process group, no blocked
   signals, stdin from /dev/null, stdout and stderr to `out_fd`/`err_fd`. */
static void aios_child_prologue(int out_fd, int err_fd) {
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) { dup2(null_fd, 0); }
    if (out_fd >= 0) dup2(out_fd, 1);
    if (err_fd >= 0) dup2(err_fd, 2);
}

/* In the child: a private mount namespace with a fresh tmpfs on /run holding `run_dirs`, and
   `bind_src` bind-mounted on `bind_dst` when given; exits 127 on failure. */
static void aios_child_private_run(char *const run_dirs[], const char *bind_src, const char *bind_dst) {
    if (syscall(SYS_unshare, AIOS_CLONE_NEWNS) != 0) _exit(127);
    if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) _exit(127);
    if (mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0) _exit(127);
    for (int i = 0; run_dirs && run_dirs[i]; i++) mkdir(run_dirs[i], 0755);
    if (bind_src && bind_dst && mount(bind_src, bind_dst, NULL, MS_BIND, NULL) != 0) _exit(127);
}

int aios_spawn(const char *path, char *const argv[], char *const envp[], int out_fd, int err_fd,
                               int private_run, char *const run_dirs[], const char *bind_src, const char *bind_dst) {
    pid_t pid = fork();
    if (pid < 0) return -errno;
    if (pid > 0) return pid;
    aios_child_prologue(out_fd, err_fd);
    syscall(SYS_close_range, 3, ~0U, 0);
    if (private_run) aios_child_private_run(run_dirs, bind_src, bind_dst);
    execve(path, argv, envp);
    _exit(127);
}

/* Writes `value` in decimal into `out` (room for 10 digits and a NUL): async-signal-safe. */
static void aios_write_pid(char *out, int value) {
    char digits[12];
    int count = 0;
    do { digits[count++] = (char)('0' + value % 10); value /= 10; } while (value > 0 && count < 10);
    for (int i = 0; i < count; i++) out[i] = digits[count - 1 - i];
    out[count] = 0;
}

int aios_spawn_passing(const char *path, char *const argv[], char *const envp[], int out_fd, int err_fd,
                       const int pass_fds[], int pass_count, char *listen_pid, int private_run,
                       char *const run_dirs[]) {
    pid_t pid = fork();
    if (pid < 0) return -errno;
    if (pid > 0) return pid;
    aios_child_prologue(out_fd, err_fd);
    /* Moved out of the way first, so no descriptor is overwritten before it is copied. */
    int high[16];
    if (pass_count > 16) _exit(127);
    for (int i = 0; i < pass_count; i++) {
        high[i] = fcntl(pass_fds[i], F_DUPFD, 100);
        if (high[i] < 0) _exit(127);
    }
    for (int i = 0; i < pass_count; i++) {
        if (dup2(high[i], 3 + i) < 0) _exit(127);
    }
    syscall(SYS_close_range, 3 + pass_count, ~0U, 0);
    if (private_run) aios_child_private_run(run_dirs, NULL, NULL);
    if (listen_pid) aios_write_pid(listen_pid, (int)getpid());
    execve(path, argv, envp);
    _exit(127);
}
