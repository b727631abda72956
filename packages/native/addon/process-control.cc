// Process control: the parent-death signal, the parent's pid, and waiting for
// a child synchronously.
#include "addon.h"

#include <cerrno>
#include <cstdlib>

#if defined(__linux__)
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

namespace mpjs {
namespace {

// ---- Operating-system layer (Linux) ----
namespace os {
#if defined(__linux__)

// Asks the kernel to send `signal` to this process when the thread that
// created it exits (0 clears it). 0 or -errno.
int SetParentDeathSignal(int signal) {
  return prctl(PR_SET_PDEATHSIG, static_cast<unsigned long>(signal), 0, 0, 0) == 0 ? 0 : -errno;
}

int ParentPid() { return static_cast<int>(getppid()); }

// Ends the process at once with `code`: no atexit handlers, no stdio
// flushing, no teardown of the runtime; the kernel closes every descriptor.
[[noreturn]] void ExitImmediately(int code) { _exit(code); }

// How a child ended: its exit code, or the signal that ended it.
struct ChildStatus {
  int code;    // -1 when a signal ended it
  int signal;  // 0 when it exited
};

// waitpid(pid) for a child that has ended (waiting for it to end if `block`):
// 1 with `status` filled in, 0 if it still runs (not `block`), or -errno
// (-ECHILD: not a child of this process, or already reaped). Stopped or
// continued children are not reported (no WUNTRACED/WCONTINUED).
int WaitChild(int pid, bool block, ChildStatus* status) {
  int raw = 0;
  for (;;) {
    pid_t r = waitpid(pid, &raw, block ? 0 : WNOHANG);
    if (r == 0) return 0;
    if (r > 0) break;
    // A signal handler ran (libuv's SIGCHLD handler, for one): wait again.
    if (errno != EINTR) return -errno;
  }
  if (WIFSIGNALED(raw)) {
    *status = {-1, WTERMSIG(raw)};
  } else {
    *status = {WEXITSTATUS(raw), 0};
  }
  return 1;
}

#else
struct ChildStatus {
  int code;
  int signal;
};
int WaitChild(int, bool, ChildStatus*) { return -ENOSYS; }
int SetParentDeathSignal(int) { return -ENOSYS; }
int ParentPid() { return -ENOSYS; }
[[noreturn]] void ExitImmediately(int code) { _Exit(code); }
#endif
}  // namespace os

using v8::FunctionCallbackInfo;
using v8::Value;

// setParentDeathSignal(signal) -> 0 | -errno
void SetParentDeathSignal(const FunctionCallbackInfo<Value>& args) {
  ReturnNumber(args, os::SetParentDeathSignal(IntArg(args, 0)));
}

// getppid() -> pid
void GetParentPid(const FunctionCallbackInfo<Value>& args) { ReturnNumber(args, os::ParentPid()); }

// waitChild(pid, block) -> [code, signal] | 0 (still running) | -errno
void WaitChild(const FunctionCallbackInfo<Value>& args) {
  os::ChildStatus status{};
  int rc = os::WaitChild(IntArg(args, 0), args[1]->IsTrue(), &status);
  if (rc <= 0) return ReturnNumber(args, rc);
  v8::Isolate* isolate = args.GetIsolate();
  v8::Local<Value> items[] = {v8::Number::New(isolate, status.code), v8::Number::New(isolate, status.signal)};
  args.GetReturnValue().Set(v8::Array::New(isolate, items, 2));
}

// exitImmediately(code) -> does not return
void ExitImmediately(const FunctionCallbackInfo<Value>& args) { os::ExitImmediately(IntArg(args, 0) & 0xff); }

}  // namespace

void InitProcessControl(v8::Local<v8::Context> context, v8::Local<v8::Object> exports) {
  SetMethod(context, exports, "setParentDeathSignal", SetParentDeathSignal);
  SetMethod(context, exports, "getppid", GetParentPid);
  SetMethod(context, exports, "exitImmediately", ExitImmediately);
  SetMethod(context, exports, "waitChild", WaitChild);
}

}  // namespace mpjs
