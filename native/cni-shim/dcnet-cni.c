/*
 * dcnet-cni, compiled front end. A container runtime starts the CNI plugin once per container start,
 * and a Node.js process alone takes longer to start than Debian's Go `bridge` + `host-local` take for
 * a whole ADD. So this small program does no CNI work itself: it hands the call (the CNI_* environment
 * and stdin) to the dcnet node on this host over a root-only unix socket, where the same plugin code
 * (cli/cni/) runs warm, and writes back what that code answered. When no node answers on the socket,
 * it runs the Node.js plugin (bin/dcnet-cni.js) instead, with the call untouched: same answers, slower.
 *
 * Wire format (cli/cni/wire.ts is the other side):
 *   request:  "DCNETCNI1\n", then each CNI_* variable as "KEY=VALUE\0", then "\0", then stdin to EOF
 *             (the write side is shut down to mark it);
 *   response: u32 big-endian stdout length, stdout, u32 stderr length, stderr, u8 exit code.
 * Hand-written rather than a library: it must start in about a millisecond, so it is plain C with
 * libc only, and the format is kept trivial to read in C.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

extern char **environ;

/* The node's default overlay.cniSocket: <overlay.cniStateDir>/cni.sock. */
#define DEFAULT_SOCKET "/var/lib/dcnet/cni/cni.sock"
#define MAX_REPLY (16u << 20)

static int write_all(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int read_all(int fd, void *buf, size_t n) {
  char *p = buf;
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) return -1;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

/* The spec's error object, for failures after the call was handed over (it cannot be re-run then). */
static int fail(const char *msg) {
  printf("{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"dcnet-cni: %s\"}\n", msg);
  fprintf(stderr, "dcnet-cni: %s\n", msg);
  return 1;
}

/* No node to hand the call to: run the Node.js plugin, which the call reaches as if run directly. */
static int fallback(char **argv) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return fail("cannot find its own path to start the Node.js plugin");
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  if (!slash) return fail("cannot find its own path to start the Node.js plugin");
  *slash = '\0';
  /* This file is built into <repo>/dist/cni-shim/; the Node.js plugin is <repo>/bin/dcnet-cni.js. */
  char js[PATH_MAX];
  if (snprintf(js, sizeof js, "%s/../../bin/dcnet-cni.js", exe) >= (int)sizeof js) return fail("path too long");
  char *args[] = {"node", js, NULL};
  (void)argv;
  execvp("node", args);
  char msg[PATH_MAX + 64];
  snprintf(msg, sizeof msg, "no dcnet node on its socket and cannot run node %s: %s", js, strerror(errno));
  return fail(msg);
}

int main(int argc, char **argv) {
  (void)argc;
  const char *path = getenv("DCNET_CNI_SOCKET");
  if (!path || !*path) path = DEFAULT_SOCKET;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) return fail("DCNET_CNI_SOCKET is too long for a unix socket path");
  strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    if (fd >= 0) close(fd);
    return fallback(argv);
  }

  /* The request: the CNI_* environment, then stdin. */
  if (write_all(fd, "DCNETCNI1\n", 10) != 0) return fail("lost the node's socket while sending the call");
  for (char **e = environ; *e; e++) {
    if (strncmp(*e, "CNI_", 4) != 0) continue;
    if (write_all(fd, *e, strlen(*e) + 1) != 0) return fail("lost the node's socket while sending the call");
  }
  if (write_all(fd, "", 1) != 0) return fail("lost the node's socket while sending the call");
  char buf[65536];
  for (;;) {
    ssize_t r = read(0, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      return fail("error reading the network config from stdin");
    }
    if (r == 0) break;
    if (write_all(fd, buf, (size_t)r) != 0) return fail("lost the node's socket while sending the call");
  }
  shutdown(fd, SHUT_WR);

  /* The answer: stdout, stderr, exit code. */
  for (int part = 0; part < 2; part++) {
    uint8_t len[4];
    if (read_all(fd, len, 4) != 0) return fail("the node closed its socket before answering (see its log)");
    uint32_t n = ((uint32_t)len[0] << 24) | ((uint32_t)len[1] << 16) | ((uint32_t)len[2] << 8) | len[3];
    if (n > MAX_REPLY) return fail("the node's answer is too long");
    while (n > 0) {
      size_t want = n < sizeof buf ? n : sizeof buf;
      if (read_all(fd, buf, want) != 0) return fail("the node closed its socket while answering");
      if (write_all(part == 0 ? 1 : 2, buf, want) != 0) return 1;
      n -= (uint32_t)want;
    }
  }
  uint8_t code;
  if (read_all(fd, &code, 1) != 0) return fail("the node closed its socket while answering");
  close(fd);
  return code;
}
