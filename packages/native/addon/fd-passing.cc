// Unix sockets and file descriptors: socketpair, pipe, and sendmsg/recvmsg with
// SCM_RIGHTS. Async receives are src/fd-passing.ts's: an FdWatcher
// (fd-watch.cc) says when the socket is readable, then one receive that does
// not wait.
#include "addon.h"

#include <node_buffer.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

#if defined(__linux__)
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>
#endif

namespace mpjs {
namespace {

// ---- Operating-system layer (Linux) ----
namespace os {
#if defined(__linux__)

int SocketPair(int fds[2]) {
  return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0 ? 0 : -errno;
}

// A pipe, read end first, both ends close-on-exec; 0 or -errno. With a
// capacity, asks for at least that many bytes of buffer (F_SETPIPE_SZ); a
// request the system refuses (over its limits) leaves the default.
int MakePipe(int fds[2], int capacity) {
  if (pipe2(fds, O_CLOEXEC) != 0) return -errno;
#if defined(F_SETPIPE_SZ)
  if (capacity > 0) fcntl(fds[1], F_SETPIPE_SZ, capacity);
#endif
  return 0;
}

// A second descriptor for what `fd` refers to, close-on-exec; or -errno.
int DupCloexec(int fd) {
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  return copy >= 0 ? copy : -errno;
}

// Waits until `fd` is ready for `events`; 1 ready, 0 timed out, -errno.
// A negative timeout waits forever.
int WaitReady(int fd, short events, int timeout_ms) {
  for (;;) {
    pollfd p{fd, events, 0};
    int rc = poll(&p, 1, timeout_ms);
    if (rc > 0) return (p.revents & POLLNVAL) ? -EBADF : 1;
    if (rc == 0) return 0;
    if (errno != EINTR) return -errno;
  }
}

// Sends all of `data`, with `fds` attached to its first byte. Waits for room
// when the socket is non-blocking. Returns the bytes sent or -errno.
int64_t SendWithFds(int sock, const int* fds, size_t nfds, const uint8_t* data, size_t length) {
  std::vector<uint64_t> control((CMSG_SPACE(sizeof(int) * nfds) + 7) / 8 + 1);
  size_t sent = 0;
  while (sent < length) {
    iovec iov{const_cast<uint8_t*>(data) + sent, length - sent};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (sent == 0 && nfds > 0) {
      msg.msg_control = control.data();
      msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
      cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
      std::memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * nfds);
    }
    ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (n >= 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      int rc = WaitReady(sock, POLLOUT, -1);
      if (rc < 0) return rc;
      continue;
    }
    return -errno;
  }
  return static_cast<int64_t>(sent);
}

// Waits until `sock` has something to read; 1 ready, 0 timed out, -errno.
int WaitReadable(int sock, int timeout_ms) { return WaitReady(sock, POLLIN, timeout_ms); }

// What one recvmsg() got.
struct Received {
  std::vector<uint8_t> data;
  std::vector<int> fds;
  bool truncated = false;  // more descriptors came than there was room for
};

// One non-blocking receive: bytes read (0 at end of stream) or -errno
// (-EAGAIN when nothing is there yet). Descriptors arrive close-on-exec.
int64_t RecvWithFds(int sock, size_t max_fds, size_t max_bytes, Received* out) {
  out->data.resize(max_bytes);
  std::vector<uint64_t> control((CMSG_SPACE(sizeof(int) * max_fds) + 7) / 8 + 1);
  iovec iov{out->data.data(), max_bytes};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (max_fds > 0) {
    msg.msg_control = control.data();
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * max_fds);
  }
  ssize_t n;
  do {
    n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return -errno;
  out->data.resize(static_cast<size_t>(n));
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const unsigned char* p = CMSG_DATA(c);
    for (size_t i = 0; i < count; i++) {
      int fd;
      std::memcpy(&fd, p + i * sizeof(int), sizeof(int));
      out->fds.push_back(fd);
    }
  }
  out->truncated = (msg.msg_flags & MSG_CTRUNC) != 0;
  return n;
}

#else
int SocketPair(int*) { return -ENOSYS; }
int MakePipe(int*, int) { return -ENOSYS; }
int DupCloexec(int) { return -ENOSYS; }
int WaitReadable(int, int) { return -ENOSYS; }
int64_t SendWithFds(int, const int*, size_t, const uint8_t*, size_t) { return -ENOSYS; }
struct Received {
  std::vector<uint8_t> data;
  std::vector<int> fds;
  bool truncated = false;
};
int64_t RecvWithFds(int, size_t, size_t, Received*) { return -ENOSYS; }
#endif
}  // namespace os

// ---- V8 glue ----
using v8::Context;
using v8::FunctionCallbackInfo;
using v8::Isolate;
using v8::Local;
using v8::Object;
using v8::Value;

constexpr size_t kMaxFds = 253;  // SCM_MAX_FD

// [data: Buffer, fds: number[], truncated: boolean]
Local<Value> ReceivedToJs(Isolate* isolate, Local<Context> context, os::Received& r) {
  Local<Object> data =
      node::Buffer::Copy(isolate, reinterpret_cast<const char*>(r.data.data()), r.data.size()).ToLocalChecked();
  Local<v8::Array> fds = v8::Array::New(isolate, static_cast<int>(r.fds.size()));
  for (size_t i = 0; i < r.fds.size(); i++) {
    fds->Set(context, static_cast<uint32_t>(i), v8::Integer::New(isolate, r.fds[i])).Check();
  }
  Local<Value> items[] = {data, fds, v8::Boolean::New(isolate, r.truncated)};
  return v8::Array::New(isolate, items, 3);
}

// socketpair() -> [fd, fd] | -errno
void SocketPair(const FunctionCallbackInfo<Value>& args) {
  Isolate* isolate = args.GetIsolate();
  int fds[2];
  int rc = os::SocketPair(fds);
  if (rc < 0) return ReturnNumber(args, rc);
  Local<Value> items[] = {v8::Integer::New(isolate, fds[0]), v8::Integer::New(isolate, fds[1])};
  args.GetReturnValue().Set(v8::Array::New(isolate, items, 2));
}

// pipe(capacity) -> [readFd, writeFd] | -errno
void MakePipe(const FunctionCallbackInfo<Value>& args) {
  Isolate* isolate = args.GetIsolate();
  int fds[2];
  int rc = os::MakePipe(fds, IntArg(args, 0));
  if (rc < 0) return ReturnNumber(args, rc);
  Local<Value> items[] = {v8::Integer::New(isolate, fds[0]), v8::Integer::New(isolate, fds[1])};
  args.GetReturnValue().Set(v8::Array::New(isolate, items, 2));
}

// dupFd(fd) -> new fd | -errno
void DupFd(const FunctionCallbackInfo<Value>& args) { ReturnNumber(args, os::DupCloexec(IntArg(args, 0))); }

// sendFds(socketFd, fds: Int32Array, data: Uint8Array) -> bytes sent | -errno
void SendFds(const FunctionCallbackInfo<Value>& args) {
  Isolate* isolate = args.GetIsolate();
  if (!args[1]->IsInt32Array() || !args[2]->IsUint8Array()) {
    return ThrowBadArgument(isolate, "sendFds", "fds or data of the wrong type");
  }
  Local<v8::Int32Array> fds = args[1].As<v8::Int32Array>();
  size_t nfds = fds->Length();
  if (nfds > kMaxFds || node::Buffer::Length(args[2]) == 0) return ReturnNumber(args, -EINVAL);
  std::vector<int> list(nfds);
  if (nfds > 0) fds->CopyContents(list.data(), nfds * sizeof(int));
  const uint8_t* data = reinterpret_cast<const uint8_t*>(node::Buffer::Data(args[2]));
  int64_t rc = os::SendWithFds(IntArg(args, 0), list.data(), nfds, data, node::Buffer::Length(args[2]));
  ReturnNumber(args, static_cast<double>(rc));
}

// recvFdsSync(socketFd, maxFds, maxBytes, timeoutMs) -> [data, fds, truncated] | -errno
// -ETIMEDOUT when nothing arrived in time; a negative timeout waits forever.
void RecvFdsSync(const FunctionCallbackInfo<Value>& args) {
  Isolate* isolate = args.GetIsolate();
  int sock = IntArg(args, 0);
  int max_fds = IntArg(args, 1);
  int max_bytes = IntArg(args, 2);
  double timeout = NumberArg(args, 3);
  if (max_fds < 0 || static_cast<size_t>(max_fds) > kMaxFds || max_bytes < 1) return ReturnNumber(args, -EINVAL);
  int timeout_ms = !(timeout >= 0) ? -1 : timeout > 2147483647.0 ? 2147483647 : static_cast<int>(timeout);
  for (;;) {
    int ready = os::WaitReadable(sock, timeout_ms);
    if (ready < 0) return ReturnNumber(args, ready);
    if (ready == 0) return ReturnNumber(args, -ETIMEDOUT);
    os::Received r;
    int64_t n = os::RecvWithFds(sock, static_cast<size_t>(max_fds), static_cast<size_t>(max_bytes), &r);
    if (n == -EAGAIN || n == -EWOULDBLOCK) continue;  // another reader was faster
    if (n < 0) return ReturnNumber(args, static_cast<double>(n));
    args.GetReturnValue().Set(ReceivedToJs(isolate, isolate->GetCurrentContext(), r));
    return;
  }
}

}  // namespace

void InitFdPassing(Local<Context> context, Local<Object> exports) {
  SetMethod(context, exports, "socketpair", SocketPair);
  SetMethod(context, exports, "pipe", MakePipe);
  SetMethod(context, exports, "dupFd", DupFd);
  SetMethod(context, exports, "sendFds", SendFds);
  SetMethod(context, exports, "recvFdsSync", RecvFdsSync);
}

}  // namespace mpjs
