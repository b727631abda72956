// Polled reads: a non-blocking read retried for a bounded time, for a reader
// whose peer answers within microseconds (a request/reply partner on another
// CPU). Catching the data while awake spares the sleep and the wake-up, which
// cost tens of microseconds across CPUs.
#include "addon.h"

#include <node_buffer.h>

#include <cerrno>
#include <cstdint>
#include <ctime>

#if defined(__linux__)
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>
#endif

namespace mpjs {
namespace {

// ---- Operating-system layer (Linux) ----
namespace os {
#if defined(__linux__)

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Receives up to `length` bytes from the socket `fd` without blocking (also
// when the descriptor is in blocking mode), retrying while nothing is there,
// for at most `budget_ns`. Bytes read (0 at end of stream), or -errno;
// -EAGAIN when nothing came in time, -ENOTSOCK for a descriptor that is not
// a socket.
int64_t ReadPolling(int fd, uint8_t* data, size_t length, int64_t budget_ns) {
  int64_t deadline = -1;
  for (;;) {
    ssize_t n = recv(fd, data, length, MSG_DONTWAIT);
    if (n >= 0) return n;
    int error = errno;
    if (error == EINTR) continue;
    if (error != EAGAIN && error != EWOULDBLOCK) return -error;
    int64_t now = NowNs();
    if (deadline < 0) deadline = now + budget_ns;
    if (now >= deadline) return -EAGAIN;
    // Lets a runnable process on this CPU (often the very peer being waited
    // for, on a busy machine) run first; returns at once when there is none.
    sched_yield();
  }
}

int Yield() { return sched_yield() == 0 ? 0 : -errno; }

// One read(2) of `fd` (a pipe or any descriptor in non-blocking mode): bytes
// read (0 at end of file), or -errno (-EAGAIN: nothing there now).
int64_t ReadSome(int fd, uint8_t* data, size_t length) {
  for (;;) {
    ssize_t n = read(fd, data, length);
    if (n >= 0) return n;
    if (errno != EINTR) return -errno;
  }
}

// poll(2) of one descriptor for `events` (1 readable, 2 writable), waiting up
// to `timeout_ms` (< 0: forever): what is ready (1 readable, 2 writable,
// 4 hung up or failed; 0 nothing in time), or -errno (-EBADF for a closed
// descriptor). Reads nothing: data stays in the kernel.
int PollFd(int fd, int events, int timeout_ms) {
  pollfd p{};
  p.fd = fd;
  p.events = static_cast<short>(((events & 1) ? (POLLIN | POLLRDHUP) : 0) | ((events & 2) ? POLLOUT : 0));
  int n;
  do n = poll(&p, 1, timeout_ms);
  while (n < 0 && errno == EINTR);
  if (n < 0) return -errno;
  if (n == 0) return 0;
  if (p.revents & POLLNVAL) return -EBADF;
  return ((p.revents & POLLIN) ? 1 : 0) | ((p.revents & POLLOUT) ? 2 : 0) |
         ((p.revents & (POLLHUP | POLLRDHUP | POLLERR)) ? 4 : 0);
}

#else
int PollFd(int, int, int) { return -ENOSYS; }
int64_t ReadPolling(int, uint8_t*, size_t, int64_t) { return -ENOSYS; }
int Yield() { return -ENOSYS; }
int64_t ReadSome(int, uint8_t*, size_t) { return -ENOSYS; }
#endif
}  // namespace os

using v8::FunctionCallbackInfo;
using v8::Value;

// readPolling(fd, target: Uint8Array, budgetMicros) -> bytes read | -errno
void ReadPolling(const FunctionCallbackInfo<Value>& args) {
  if (!args[1]->IsUint8Array()) return ThrowBadArgument(args.GetIsolate(), "readPolling", "a target that is not a Uint8Array");
  size_t length = node::Buffer::Length(args[1]);
  if (length == 0) return ReturnNumber(args, -EINVAL);
  uint8_t* data = reinterpret_cast<uint8_t*>(node::Buffer::Data(args[1]));
  double micros = NumberArg(args, 2);
  int64_t budget_ns = !(micros > 0) ? 0 : micros > 1e6 ? 1000000000 : static_cast<int64_t>(micros * 1000);
  ReturnNumber(args, static_cast<double>(os::ReadPolling(IntArg(args, 0), data, length, budget_ns)));
}

// readSome(fd, target: Uint8Array) -> bytes read | -errno
void ReadSome(const FunctionCallbackInfo<Value>& args) {
  if (!args[1]->IsUint8Array()) return ThrowBadArgument(args.GetIsolate(), "readSome", "a target that is not a Uint8Array");
  size_t length = node::Buffer::Length(args[1]);
  if (length == 0) return ReturnNumber(args, -EINVAL);
  uint8_t* data = reinterpret_cast<uint8_t*>(node::Buffer::Data(args[1]));
  ReturnNumber(args, static_cast<double>(os::ReadSome(IntArg(args, 0), data, length)));
}

// pollFd(fd, events, timeoutMs) -> ready events | -errno
void PollFd(const FunctionCallbackInfo<Value>& args) {
  ReturnNumber(args, os::PollFd(IntArg(args, 0), IntArg(args, 1), IntArg(args, 2)));
}

// schedYield() -> 0 | -errno
void SchedYield(const FunctionCallbackInfo<Value>& args) { ReturnNumber(args, os::Yield()); }

}  // namespace

void InitPolledRead(v8::Local<v8::Context> context, v8::Local<v8::Object> exports) {
  SetMethod(context, exports, "readPolling", ReadPolling);
  SetMethod(context, exports, "schedYield", SchedYield);
  SetMethod(context, exports, "readSome", ReadSome);
  SetMethod(context, exports, "pollFd", PollFd);
}

}  // namespace mpjs
