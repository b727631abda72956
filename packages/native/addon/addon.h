// Shared declarations of the mpjs native addon.
//
// The addon is a thin layer of system calls. Arguments arrive already
// validated by src/*.ts (positional, right types, in range); each function
// still re-checks what guards memory safety (bounds, alignment). Failures are
// returned as negative errno numbers, never thrown, so TypeScript decides how
// to report them.
//
// Each concept file (shm.cc, futex.cc, fd-passing.cc, process-control.cc,
// polled-read.cc, sockets.cc; fd-watch.cc is libuv only) keeps its
// operating-system code in an `os` namespace at its top, the only part that
// changes when another platform is added; the V8 glue below it is portable.
#ifndef MPJS_ADDON_H_
#define MPJS_ADDON_H_

#include <node.h>
#include <uv.h>
#include <v8.h>

#include <cstdint>

namespace mpjs {

// Registration of each concept on the module's exports (one call per Node.js
// environment: the main thread and every worker thread load their own copy).
void InitSharedMemory(v8::Local<v8::Context> context, v8::Local<v8::Object> exports);
void InitFutex(v8::Local<v8::Context> context, v8::Local<v8::Object> exports);
void InitFdPassing(v8::Local<v8::Context> context, v8::Local<v8::Object> exports);
void InitProcessControl(v8::Local<v8::Context> context, v8::Local<v8::Object> exports);
void InitPolledRead(v8::Local<v8::Context> context, v8::Local<v8::Object> exports);
void InitSockets(v8::Local<v8::Context> context, v8::Local<v8::Object> exports);
void InitFdWatch(v8::Local<v8::Context> context, v8::Local<v8::Object> exports);

// Adds a function named `name` to `target`; `data` is available to it as
// `args.Data()`.
void SetMethod(v8::Local<v8::Context> context, v8::Local<v8::Object> target, const char* name,
               v8::FunctionCallback callback, v8::Local<v8::Value> data = v8::Local<v8::Value>());

// Reads argument `i` as a number (NaN when it is not one).
double NumberArg(const v8::FunctionCallbackInfo<v8::Value>& args, int i);

// Reads argument `i` as a 32-bit integer (0 when it is not a number).
int32_t IntArg(const v8::FunctionCallbackInfo<v8::Value>& args, int i);

// Sets the return value to a number (a result, or a negative errno).
void ReturnNumber(const v8::FunctionCallbackInfo<v8::Value>& args, double value);

// Throws a TypeError for an argument that src/*.ts should have rejected.
void ThrowBadArgument(v8::Isolate* isolate, const char* function, const char* what);

}  // namespace mpjs

#endif  // MPJS_ADDON_H_
