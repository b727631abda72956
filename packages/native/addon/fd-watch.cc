// Watching a descriptor for readiness on the event loop (uv_poll_t): the
// caller reads and writes it with its own system calls when told it can, so
// a connection needs no Node stream around its socket.
#include "addon.h"

#include <cerrno>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace mpjs {
namespace {

using v8::Context;
using v8::FunctionCallbackInfo;
using v8::Isolate;
using v8::Local;
using v8::Object;
using v8::Value;

struct WatchEnv;

struct Watch {
  uv_poll_t poll;
  WatchEnv* env = nullptr;
  uint32_t id = 0;
  v8::Global<v8::Function> callback;
};

struct WatchEnv {
  Isolate* isolate = nullptr;
  v8::Global<Context> context;
  v8::Global<Object> resource;
  node::async_context async_context{0, 0};
  node::AsyncCleanupHookHandle cleanup_hook;
  std::unordered_map<uint32_t, Watch*> watches;
  uint32_t next_id = 1;
  size_t open_handles = 0;  // polls not yet closed
  bool cleaning = false;
  void (*cleanup_done)(void*) = nullptr;
  void* cleanup_arg = nullptr;
};

void FinishCleanupIfIdle(WatchEnv* env) {
  if (!env->cleaning || env->open_handles != 0) return;
  void (*done)(void*) = env->cleanup_done;
  void* done_arg = env->cleanup_arg;
  env->cleanup_hook.reset();
  delete env;
  done(done_arg);
}

// Stops watching at once (the descriptor may be closed right after) and
// frees the watch once libuv lets go of it.
void CloseWatch(Watch* w) {
  w->env->watches.erase(w->id);
  w->callback.Reset();
  uv_poll_stop(&w->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), [](uv_handle_t* handle) {
    Watch* w = static_cast<Watch*>(handle->data);
    WatchEnv* env = w->env;
    delete w;
    env->open_handles--;
    FinishCleanupIfIdle(env);
  });
}

Watch* Find(const FunctionCallbackInfo<Value>& args) {
  WatchEnv* env = static_cast<WatchEnv*>(args.Data().As<v8::External>()->Value());
  double id = NumberArg(args, 0);
  if (!(id >= 1)) return nullptr;
  auto it = env->watches.find(static_cast<uint32_t>(id));
  return it == env->watches.end() ? nullptr : it->second;
}

void OnEvent(uv_poll_t* handle, int status, int events) {
  Watch* w = static_cast<Watch*>(handle->data);
  WatchEnv* env = w->env;
  Isolate* isolate = env->isolate;
  v8::HandleScope handle_scope(isolate);
  Local<Context> context = env->context.Get(isolate);
  v8::Context::Scope context_scope(context);
  Local<Value> result = v8::Integer::New(isolate, status < 0 ? status : events);
  Local<v8::Function> fn = w->callback.Get(isolate);
  node::CallbackScope callback_scope(isolate, env->resource.Get(isolate), env->async_context);
  if (isolate->IsExecutionTerminating()) return;
  // The callback may close this watch; an exception reaches Node's uncaught-exception handling.
  v8::MaybeLocal<Value> ignored = fn->Call(context, v8::Undefined(isolate), 1, &result);
  (void)ignored;
}

// watchStart(fd, callback) -> id | -errno. Nothing is watched until watchSet;
// `callback` gets the ready events (1 readable, 2 writable, 4 the peer hung
// up) or -errno.
void WatchStart(const FunctionCallbackInfo<Value>& args) {
  Isolate* isolate = args.GetIsolate();
  WatchEnv* env = static_cast<WatchEnv*>(args.Data().As<v8::External>()->Value());
  if (!args[1]->IsFunction()) return ThrowBadArgument(isolate, "watchStart", "a callback that is not a function");
  auto* w = new Watch();
  w->env = env;
  int rc = uv_poll_init(node::GetCurrentEventLoop(isolate), &w->poll, IntArg(args, 0));
  if (rc != 0) {
    delete w;
    return ReturnNumber(args, rc);
  }
  w->poll.data = w;
  env->open_handles++;
  do {
    w->id = env->next_id++;
  } while (w->id == 0 || env->watches.count(w->id) != 0);
  env->watches.emplace(w->id, w);
  w->callback.Reset(isolate, args[1].As<v8::Function>());
  ReturnNumber(args, w->id);
}

// watchSet(id, events) -> 0 | -errno: watch for these events (1 readable,
// 2 writable; 0 stops watching, which also stops keeping the loop alive).
void WatchSet(const FunctionCallbackInfo<Value>& args) {
  Watch* w = Find(args);
  if (w == nullptr) return ReturnNumber(args, -EBADF);
  int events = IntArg(args, 1) & (UV_READABLE | UV_WRITABLE);
  if (events == 0) return ReturnNumber(args, uv_poll_stop(&w->poll));
  if (events & UV_READABLE) events |= UV_DISCONNECT;
  ReturnNumber(args, uv_poll_start(&w->poll, events, OnEvent));
}

// watchRef(id, on): whether an active watch keeps the event loop alive.
void WatchRef(const FunctionCallbackInfo<Value>& args) {
  Watch* w = Find(args);
  if (w == nullptr) return;
  if (args[1]->IsTrue()) uv_ref(reinterpret_cast<uv_handle_t*>(&w->poll));
  else uv_unref(reinterpret_cast<uv_handle_t*>(&w->poll));
}

// watchClose(id): stops for good; the callback does not run again.
void WatchClose(const FunctionCallbackInfo<Value>& args) {
  Watch* w = Find(args);
  if (w != nullptr) CloseWatch(w);
}

void CleanupWatchEnv(void* arg, void (*done)(void*), void* done_arg) {
  WatchEnv* env = static_cast<WatchEnv*>(arg);
  env->cleaning = true;
  env->cleanup_done = done;
  env->cleanup_arg = done_arg;
  std::vector<Watch*> open;
  for (auto& entry : env->watches) open.push_back(entry.second);
  for (Watch* w : open) CloseWatch(w);
  {
    v8::HandleScope scope(env->isolate);
    node::EmitAsyncDestroy(env->isolate, env->async_context);
  }
  env->resource.Reset();
  env->context.Reset();
  FinishCleanupIfIdle(env);
}

}  // namespace

void InitFdWatch(Local<Context> context, Local<Object> exports) {
  Isolate* isolate = context->GetIsolate();
  auto* env = new WatchEnv();
  env->isolate = isolate;
  env->context.Reset(isolate, context);
  Local<Object> resource = Object::New(isolate);
  env->resource.Reset(isolate, resource);
  env->async_context = node::EmitAsyncInit(isolate, resource, "mpjs:watchFd");
  env->cleanup_hook = node::AddEnvironmentCleanupHook(isolate, CleanupWatchEnv, env);
  Local<v8::External> data = v8::External::New(isolate, env);
  SetMethod(context, exports, "watchStart", WatchStart, data);
  SetMethod(context, exports, "watchSet", WatchSet, data);
  SetMethod(context, exports, "watchRef", WatchRef, data);
  SetMethod(context, exports, "watchClose", WatchClose, data);
}

}  // namespace mpjs
