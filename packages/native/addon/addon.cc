// Registration of the mpjs native addon and the helpers every concept uses.
#include "addon.h"

#include <cmath>
#include <string>

namespace mpjs {

using v8::Context;
using v8::Function;
using v8::FunctionCallback;
using v8::FunctionCallbackInfo;
using v8::Isolate;
using v8::Local;
using v8::NewStringType;
using v8::Object;
using v8::String;
using v8::Value;

void SetMethod(Local<Context> context, Local<Object> target, const char* name, FunctionCallback callback,
               Local<Value> data) {
  Isolate* isolate = context->GetIsolate();
  Local<Function> fn =
      Function::New(context, callback, data, 0, v8::ConstructorBehavior::kThrow).ToLocalChecked();
  Local<String> key = String::NewFromUtf8(isolate, name, NewStringType::kInternalized).ToLocalChecked();
  fn->SetName(key);
  target->Set(context, key, fn).Check();
}

double NumberArg(const FunctionCallbackInfo<Value>& args, int i) {
  Local<Value> v = args[i];
  return v->IsNumber() ? v.As<v8::Number>()->Value() : NAN;
}

int32_t IntArg(const FunctionCallbackInfo<Value>& args, int i) {
  double d = NumberArg(args, i);
  if (std::isnan(d)) return 0;
  if (d >= 2147483647.0) return 2147483647;
  if (d <= -2147483648.0) return -2147483647 - 1;
  return static_cast<int32_t>(d);
}

void ReturnNumber(const FunctionCallbackInfo<Value>& args, double value) {
  args.GetReturnValue().Set(value);
}

void ThrowBadArgument(Isolate* isolate, const char* function, const char* what) {
  std::string message = std::string("internal error: ") + function + "() of the mpjs native addon got " + what +
                        "; call it through @mpjs/native, which validates arguments";
  isolate->ThrowException(v8::Exception::TypeError(
      String::NewFromUtf8(isolate, message.c_str(), NewStringType::kNormal).ToLocalChecked()));
}

}  // namespace mpjs

// Context-aware: every environment (main thread, each worker thread) gets its
// own exports and its own per-environment state.
NODE_MODULE_INIT(/* exports, module, context */) {
  mpjs::InitSharedMemory(context, exports);
  mpjs::InitFutex(context, exports);
  mpjs::InitFdPassing(context, exports);
  mpjs::InitProcessControl(context, exports);
  mpjs::InitPolledRead(context, exports);
  mpjs::InitSockets(context, exports);
  mpjs::InitFdWatch(context, exports);
}
