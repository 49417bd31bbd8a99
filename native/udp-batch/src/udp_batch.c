// udp_batch: a UDP socket read and written in batches (recvmmsg/sendmmsg), for the DNS listener.
//
// Why by hand: Node's dgram makes one syscall, one JS call and two small objects per datagram, and on
// this project's 2-core machines that per-datagram cost (not DNS work) is what kept the DNS server
// below unbound. No well-kept npm package offers batched UDP I/O for Node (libuv has recvmmsg but
// Node never turns it on, and sendmmsg is not reachable at all), so this file does only that: it
// polls one socket on Node's own event loop, reads up to `batch` datagrams with one recvmmsg into a
// buffer JS can see, calls JS once per batch, and sends the answers JS left in an array with one
// sendmmsg. Everything DNS stays in TypeScript.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

// How many batches one readable event may drain before yielding to the rest of the event loop
// (timers, NATS, TCP): level-triggered polling brings us back at once if datagrams remain.
#define MAX_ROUNDS 16
// Ancillary space per datagram for its kernel receive time (SO_TIMESTAMPNS).
#define CTRL_SPACE CMSG_SPACE(sizeof(struct timespec))

typedef struct {
  napi_env env;
  int fd;
  int closing;
  uv_poll_t poll;
  unsigned batch;
  unsigned slot;
  unsigned char *rx;             // batch * slot bytes, the memory of the rx ArrayBuffer
  int32_t *lens;                 // batch entries, the memory of the lens ArrayBuffer
  int32_t *waits;                // batch entries (µs in the socket buffer, -1 unknown), the waits ArrayBuffer
  unsigned char *ctrl;           // batch * CTRL_SPACE
  struct sockaddr_storage *addrs;
  struct mmsghdr *in;
  struct iovec *in_iov;
  struct mmsghdr *out;
  struct iovec *out_iov;
  napi_ref rx_ref, lens_ref, waits_ref, on_batch, replies, on_error;
  napi_async_context async;
  double batches, received, sent, send_dropped, truncated, recv_errors;
  int last_errno;
  int inject_errno;  // injectError(): the next readable event fails with this instead of reading
  int dead;          // polling stopped after an error the socket does not recover from
} sock_t;

#define CHECK(call)                                                    \
  do {                                                                 \
    if ((call) != napi_ok) {                                           \
      napi_throw_error(env, "ERR_UDP_BATCH", "napi call failed: " #call); \
      return NULL;                                                     \
    }                                                                  \
  } while (0)

static napi_value throw_errno(napi_env env, int err, const char *what) {
  char msg[256];
  int uverr = uv_translate_sys_error(err);
  snprintf(msg, sizeof msg, "%s: %s", what, uv_strerror(uverr));
  napi_value code, text, error, syscall;
  napi_create_string_utf8(env, uv_err_name(uverr), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &error);
  napi_create_string_utf8(env, what, NAPI_AUTO_LENGTH, &syscall);
  napi_set_named_property(env, error, "syscall", syscall);
  napi_value errnov;
  napi_create_int32(env, -err, &errnov);
  napi_set_named_property(env, error, "errno", errnov);
  napi_throw(env, error);
  return NULL;
}

static sock_t *unwrap(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_unwrap(env, v, &p) != napi_ok || p == NULL || ((sock_t *)p)->fd < 0) {
    napi_throw_error(env, "ERR_SOCKET_CLOSED", "not an open udp_batch socket");
    return NULL;
  }
  return p;
}

static void free_sock(sock_t *s) {
  free(s->addrs);
  free(s->in);
  free(s->in_iov);
  free(s->out);
  free(s->out_iov);
  free(s->ctrl);
  free(s);
}

static void release_refs(sock_t *s) {
  napi_env env = s->env;
  if (s->rx_ref) napi_delete_reference(env, s->rx_ref);
  if (s->lens_ref) napi_delete_reference(env, s->lens_ref);
  if (s->waits_ref) napi_delete_reference(env, s->waits_ref);
  if (s->on_batch) napi_delete_reference(env, s->on_batch);
  if (s->replies) napi_delete_reference(env, s->replies);
  if (s->on_error) napi_delete_reference(env, s->on_error);
  if (s->async) napi_async_destroy(env, s->async);
  s->rx_ref = s->lens_ref = s->waits_ref = s->on_batch = s->replies = s->on_error = NULL;
  s->async = NULL;
}

// Sends the answers JS put in replies[0..n); slots without a Buffer are queries that get no answer now
// (dropped, or answered later through sendTo). A full socket buffer drops the rest, as the kernel would.
static void send_replies(sock_t *s, napi_value replies, unsigned n) {
  napi_env env = s->env;
  unsigned k = 0;
  for (unsigned i = 0; i < n; i++) {
    napi_value v;
    bool is_buf = false;
    if (napi_get_element(env, replies, i, &v) != napi_ok) continue;
    if (napi_is_buffer(env, v, &is_buf) != napi_ok || !is_buf) continue;
    void *data;
    size_t len;
    if (napi_get_buffer_info(env, v, &data, &len) != napi_ok) continue;
    s->out_iov[k].iov_base = data;
    s->out_iov[k].iov_len = len;
    memset(&s->out[k].msg_hdr, 0, sizeof s->out[k].msg_hdr);
    s->out[k].msg_hdr.msg_name = &s->addrs[i];
    s->out[k].msg_hdr.msg_namelen = s->in[i].msg_hdr.msg_namelen;
    s->out[k].msg_hdr.msg_iov = &s->out_iov[k];
    s->out[k].msg_hdr.msg_iovlen = 1;
    k++;
  }
  unsigned done = 0;
  while (done < k) {
    int r = sendmmsg(s->fd, s->out + done, k - done, MSG_DONTWAIT);
    if (r > 0) {
      done += (unsigned)r;
      s->sent += r;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
      s->send_dropped += k - done;
      break;
    }
    // One destination refused (e.g. an address the kernel will not route): skip it, send the rest.
    s->last_errno = r < 0 ? errno : 0;
    s->send_dropped += 1;
    done += 1;
  }
}

// Errors a UDP socket does not come back from: polling stops (level-triggered, it would spin) and JS is
// told, so the listener can open a new socket. Anything else (ENOMEM, ENOBUFS, a queued ICMP error)
// fails one read and the next one works.
static int is_fatal(int err) {
  return err == EBADF || err == ENOTSOCK || err == EINVAL || err == EFAULT || err == ENOTCONN;
}

// A receive error: counted, and reported to JS as onError(code, errno, fatal) when start() was given one.
static void recv_failed(sock_t *s, int err, int fatal) {
  napi_env env = s->env;
  s->recv_errors++;
  s->last_errno = err;
  if (fatal && !s->dead) {
    s->dead = 1;
    uv_poll_stop(&s->poll);
  }
  if (!s->on_error) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn, recv, argv[3], result;
  napi_get_reference_value(env, s->on_error, &fn);
  napi_get_global(env, &recv);
  napi_create_string_utf8(env, uv_err_name(uv_translate_sys_error(err)), NAPI_AUTO_LENGTH, &argv[0]);
  napi_create_int32(env, err, &argv[1]);
  napi_get_boolean(env, fatal, &argv[2]);
  if (napi_make_callback(env, s->async, recv, fn, 3, argv, &result) == napi_pending_exception) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);
  }
  napi_close_handle_scope(env, scope);
}

static void on_readable(uv_poll_t *poll, int status, int events) {
  (void)events;
  sock_t *s = poll->data;
  if (s->closing || s->dead) return;
  if (status < 0) {
    // libuv reports the poll itself failing (the fd went bad under us): a dead socket. On Unix a
    // libuv error is the negated errno.
    recv_failed(s, -status, 1);
    return;
  }
  if (s->inject_errno) {
    int err = s->inject_errno;
    s->inject_errno = 0;
    recv_failed(s, err, is_fatal(err));
    return;
  }
  napi_env env = s->env;
  for (int round = 0; round < MAX_ROUNDS && !s->closing && !s->dead; round++) {
    for (unsigned i = 0; i < s->batch; i++) {
      s->in_iov[i].iov_base = s->rx + (size_t)i * s->slot;
      s->in_iov[i].iov_len = s->slot;
      memset(&s->in[i].msg_hdr, 0, sizeof s->in[i].msg_hdr);
      s->in[i].msg_hdr.msg_name = &s->addrs[i];
      s->in[i].msg_hdr.msg_namelen = sizeof s->addrs[i];
      s->in[i].msg_hdr.msg_iov = &s->in_iov[i];
      s->in[i].msg_hdr.msg_iovlen = 1;
      s->in[i].msg_hdr.msg_control = s->ctrl + (size_t)i * CTRL_SPACE;
      s->in[i].msg_hdr.msg_controllen = CTRL_SPACE;
    }
    // MSG_TRUNC: msg_len is the datagram's real length even when it did not fit its slot.
    int n = recvmmsg(s->fd, s->in, s->batch, MSG_DONTWAIT | MSG_TRUNC, NULL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) recv_failed(s, errno, is_fatal(errno));
      return;
    }
    if (n == 0) return;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    for (int i = 0; i < n; i++) {
      // How long the datagram sat in the socket buffer: the event loop's stall, as a client sees it.
      s->waits[i] = -1;
      for (struct cmsghdr *c = CMSG_FIRSTHDR(&s->in[i].msg_hdr); c; c = CMSG_NXTHDR(&s->in[i].msg_hdr, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
        struct timespec ts;
        memcpy(&ts, CMSG_DATA(c), sizeof ts);
        double us = (double)(now.tv_sec - ts.tv_sec) * 1e6 + (double)(now.tv_nsec - ts.tv_nsec) / 1e3;
        s->waits[i] = us < 0 ? 0 : us > 2e9 ? 2000000000 : (int32_t)us;
      }
      // A datagram longer than a slot arrives cut; JS sees a negative length and counts it malformed.
      int trunc = (s->in[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
      if (trunc) s->truncated++;
      s->lens[i] = trunc ? -(int32_t)s->in[i].msg_len : (int32_t)s->in[i].msg_len;
    }
    s->batches++;
    s->received += n;
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    napi_value fn, replies, recv, argv[1], result;
    napi_get_reference_value(env, s->on_batch, &fn);
    napi_get_reference_value(env, s->replies, &replies);
    napi_get_global(env, &recv);
    napi_create_uint32(env, (uint32_t)n, &argv[0]);
    napi_status st = napi_make_callback(env, s->async, recv, fn, 1, argv, &result);
    if (st == napi_pending_exception) {
      napi_value exc;
      napi_get_and_clear_last_exception(env, &exc);
      napi_fatal_exception(env, exc);
    } else if (!s->closing) {
      send_replies(s, replies, (unsigned)n);
    }
    napi_close_handle_scope(env, scope);
    if ((unsigned)n < s->batch) return;
  }
}

// The references (and the async context) go only here, a loop turn after close(): close() may be
// called from inside onBatch, while the callback and its context are still in use.
static void on_closed(uv_handle_t *h) {
  sock_t *s = h->data;
  release_refs(s);
  free_sock(s);
}

static void close_sock(sock_t *s) {
  if (s->fd < 0) return;
  s->closing = 1;
  // uv_close stops polling and drops the fd from epoll at once; only then is the fd closed, so the
  // port is free when close() returns and a reused fd number is never confused with this one.
  uv_close((uv_handle_t *)&s->poll, on_closed);
  close(s->fd);
  s->fd = -1;
}

// Only reached for a socket collected while open: close() removes the wrap first.
static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  close_sock(data);
}

static int get_u32(napi_env env, napi_value obj, const char *key, uint32_t *out) {
  napi_value v;
  bool has = false;
  napi_has_named_property(env, obj, key, &has);
  if (!has) return 0;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok) return -1;
  return napi_get_value_uint32(env, v, out) == napi_ok ? 1 : -1;
}

// open({ host, port, batch, slot, recvBufferBytes }) → socket object, bound, not yet reading.
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], self;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "open() needs an options object");
    return NULL;
  }
  char host[INET6_ADDRSTRLEN + 1] = {0};
  napi_value hv;
  size_t hl;
  if (napi_get_named_property(env, argv[0], "host", &hv) != napi_ok ||
      napi_get_value_string_utf8(env, hv, host, sizeof host, &hl) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "open(): host must be an IP address string");
    return NULL;
  }
  uint32_t port = 0, batch = 64, slot = 4096, rcvbuf = 0;
  if (get_u32(env, argv[0], "port", &port) < 0 || get_u32(env, argv[0], "batch", &batch) < 0 ||
      get_u32(env, argv[0], "slot", &slot) < 0 || get_u32(env, argv[0], "recvBufferBytes", &rcvbuf) < 0 ||
      port > 65535 || batch < 1 || batch > 1024 || slot < 512 || slot > 65536) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "open(): port 0-65535, batch 1-1024, slot 512-65536");
    return NULL;
  }
  struct sockaddr_storage ss;
  socklen_t sl;
  memset(&ss, 0, sizeof ss);
  struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
  if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    sl = sizeof *a4;
  } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    sl = sizeof *a6;
  } else {
    napi_throw_type_error(env, "ERR_INVALID_IP_ADDRESS", "open(): host is not an IP address");
    return NULL;
  }
  int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket");
  if (ss.ss_family == AF_INET6) {
    int on = 1;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  }
  if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  int stamp = 1;
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &stamp, sizeof stamp);  // without it, waits stay -1
  if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, e, "bind");
  }
  sock_t *s = calloc(1, sizeof *s);
  if (!s) {
    close(fd);
    return throw_errno(env, ENOMEM, "open");
  }
  s->env = env;
  s->fd = fd;
  s->batch = batch;
  s->slot = slot;
  s->addrs = calloc(batch, sizeof *s->addrs);
  s->in = calloc(batch, sizeof *s->in);
  s->in_iov = calloc(batch, sizeof *s->in_iov);
  s->out = calloc(batch, sizeof *s->out);
  s->out_iov = calloc(batch, sizeof *s->out_iov);
  s->ctrl = calloc(batch, CTRL_SPACE);
  if (!s->addrs || !s->in || !s->in_iov || !s->out || !s->out_iov || !s->ctrl) {
    close(fd);
    free_sock(s);
    return throw_errno(env, ENOMEM, "open");
  }
  // The receive slots and lengths live in ArrayBuffers so JS reads datagrams without a copy.
  napi_value rx, lens, waits;
  void *rxp, *lensp, *waitsp;
  uv_loop_t *loop;
  if (napi_create_arraybuffer(env, (size_t)batch * slot, &rxp, &rx) != napi_ok ||
      napi_create_arraybuffer(env, (size_t)batch * sizeof(int32_t), &lensp, &lens) != napi_ok ||
      napi_create_arraybuffer(env, (size_t)batch * sizeof(int32_t), &waitsp, &waits) != napi_ok ||
      napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, &s->poll, fd) != 0) {
    close(fd);
    free_sock(s);
    napi_throw_error(env, "ERR_UDP_BATCH", "open(): cannot allocate buffers or poll handle");
    return NULL;
  }
  s->poll.data = s;
  s->rx = rxp;
  s->lens = lensp;
  s->waits = waitsp;
  napi_create_reference(env, rx, 1, &s->rx_ref);
  napi_create_reference(env, lens, 1, &s->lens_ref);
  napi_create_reference(env, waits, 1, &s->waits_ref);
  CHECK(napi_create_object(env, &self));
  CHECK(napi_wrap(env, self, s, finalize, NULL, NULL));
  CHECK(napi_set_named_property(env, self, "rx", rx));
  CHECK(napi_set_named_property(env, self, "lens", lens));
  CHECK(napi_set_named_property(env, self, "waits", waits));
  return self;
}

// start(sock, onBatch(n), replies[], onError?): reading begins; onBatch runs once per recvmmsg with n
// datagrams in rx (slot i at i*slot, length lens[i], µs spent queued waits[i]) and leaves each answer
// as replies[i]; onError(code, errno, fatal) runs for each receive error (fatal: reading has stopped).
static napi_value js_start(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], name;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = argc >= 3 ? unwrap(env, argv[0]) : NULL;
  if (!s) return NULL;
  if (s->on_batch) {
    napi_throw_error(env, "ERR_UDP_BATCH", "start(): already started");
    return NULL;
  }
  CHECK(napi_create_reference(env, argv[1], 1, &s->on_batch));
  CHECK(napi_create_reference(env, argv[2], 1, &s->replies));
  napi_valuetype t = napi_undefined;
  if (argc == 4) CHECK(napi_typeof(env, argv[3], &t));
  if (t == napi_function) CHECK(napi_create_reference(env, argv[3], 1, &s->on_error));
  CHECK(napi_create_string_utf8(env, "dcnet:udp-batch", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, argv[0], name, &s->async));
  int r = uv_poll_start(&s->poll, UV_READABLE, on_readable);
  if (r != 0) return throw_errno(env, -r, "poll");
  return NULL;
}

// peer(sock, i) → a copy of datagram i's source address, for an answer sent after the batch.
static napi_value js_peer(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out;
  uint32_t i;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = argc == 2 ? unwrap(env, argv[0]) : NULL;
  if (!s) return NULL;
  if (napi_get_value_uint32(env, argv[1], &i) != napi_ok || i >= s->batch) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "peer(): slot out of range");
    return NULL;
  }
  void *data;
  CHECK(napi_create_buffer_copy(env, s->in[i].msg_hdr.msg_namelen, &s->addrs[i], &data, &out));
  return out;
}

// sendTo(sock, buf, peer) → 0, or a negative errno when the datagram could not be sent.
static napi_value js_send_to(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], out;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = argc == 3 ? unwrap(env, argv[0]) : NULL;
  if (!s) return NULL;
  void *data, *peer;
  size_t len, plen;
  if (napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok ||
      napi_get_buffer_info(env, argv[2], &peer, &plen) != napi_ok || plen > sizeof(struct sockaddr_storage)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "sendTo(): expected (socket, Buffer, peer Buffer)");
    return NULL;
  }
  ssize_t r;
  do {
    r = sendto(s->fd, data, len, MSG_DONTWAIT, (struct sockaddr *)peer, (socklen_t)plen);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    s->send_dropped++;
    s->last_errno = errno;
  } else {
    s->sent++;
  }
  CHECK(napi_create_int32(env, r < 0 ? -errno : 0, &out));
  return out;
}

// injectError(sock, errno): for tests — the next readable event fails with `errno` instead of
// reading, through the same path as a failing recvmmsg (a real UDP socket almost never fails).
static napi_value js_inject_error(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t err;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = argc == 2 ? unwrap(env, argv[0]) : NULL;
  if (!s) return NULL;
  if (napi_get_value_int32(env, argv[1], &err) != napi_ok || err <= 0) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "injectError(): errno must be a positive number");
    return NULL;
  }
  s->inject_errno = err;
  return NULL;
}

static void set_num(napi_env env, napi_value obj, const char *key, double v) {
  napi_value n;
  napi_create_double(env, v, &n);
  napi_set_named_property(env, obj, key, n);
}

// address(sock) → { address, port, family } as dgram's socket.address().
static napi_value js_address(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out, str;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = argc == 1 ? unwrap(env, argv[0]) : NULL;
  if (!s) return NULL;
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  if (getsockname(s->fd, (struct sockaddr *)&ss, &sl) < 0) return throw_errno(env, errno, "getsockname");
  char text[INET6_ADDRSTRLEN];
  int port;
  const char *family;
  if (ss.ss_family == AF_INET6) {
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    inet_ntop(AF_INET6, &a6->sin6_addr, text, sizeof text);
    port = ntohs(a6->sin6_port);
    family = "IPv6";
  } else {
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    inet_ntop(AF_INET, &a4->sin_addr, text, sizeof text);
    port = ntohs(a4->sin_port);
    family = "IPv4";
  }
  CHECK(napi_create_object(env, &out));
  CHECK(napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &str));
  CHECK(napi_set_named_property(env, out, "address", str));
  set_num(env, out, "port", port);
  CHECK(napi_create_string_utf8(env, family, NAPI_AUTO_LENGTH, &str));
  CHECK(napi_set_named_property(env, out, "family", str));
  return out;
}

// stats(sock) → counters since open, for the node's metrics.
static napi_value js_stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = argc == 1 ? unwrap(env, argv[0]) : NULL;
  if (!s) return NULL;
  CHECK(napi_create_object(env, &out));
  set_num(env, out, "batches", s->batches);
  set_num(env, out, "received", s->received);
  set_num(env, out, "sent", s->sent);
  set_num(env, out, "sendDropped", s->send_dropped);
  set_num(env, out, "truncated", s->truncated);
  set_num(env, out, "recvErrors", s->recv_errors);
  set_num(env, out, "lastErrno", s->last_errno);
  return out;
}

// close(sock): stops reading and closes the socket; further calls on it throw ERR_SOCKET_CLOSED.
static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *p = NULL;
  if (argc != 1 || napi_unwrap(env, argv[0], &p) != napi_ok || !p) return NULL;  // closed already
  // Unwrapped first so a later GC finalizer cannot touch the memory uv_close's callback frees.
  napi_remove_wrap(env, argv[0], NULL);
  close_sock((sock_t *)p);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"start", NULL, js_start, NULL, NULL, NULL, napi_enumerable, NULL},
      {"peer", NULL, js_peer, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sendTo", NULL, js_send_to, NULL, NULL, NULL, napi_enumerable, NULL},
      {"address", NULL, js_address, NULL, NULL, NULL, napi_enumerable, NULL},
      {"stats", NULL, js_stats, NULL, NULL, NULL, napi_enumerable, NULL},
      {"injectError", NULL, js_inject_error, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
