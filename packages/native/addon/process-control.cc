// Process control: the parent-death signal and the parent's pid.
#include "addon.h"

#include <cerrno>
#include <cstdlib>

#if defined(__linux__)
#include <sys/prctl.h>
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

#else
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

// exitImmediately(code) -> does not return
void ExitImmediately(const FunctionCallbackInfo<Value>& args) { os::ExitImmediately(IntArg(args, 0) & 0xff); }

}  // namespace

void InitProcessControl(v8::Local<v8::Context> context, v8::Local<v8::Object> exports) {
  SetMethod(context, exports, "setParentDeathSignal", SetParentDeathSignal);
  SetMethod(context, exports, "getppid", GetParentPid);
  SetMethod(context, exports, "exitImmediately", ExitImmediately);
}

}  // namespace mpjs
