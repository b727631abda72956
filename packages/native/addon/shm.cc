// Shared memory: anonymous blocks (memfd), named POSIX blocks (shm_open) and
// MAP_SHARED mappings exposed to JavaScript as SharedArrayBuffers.
#include "addon.h"

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>

#if defined(__linux__)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace mpjs {
namespace {

// ---- Operating-system layer (Linux). Each returns a result >= 0 or -errno. ----
namespace os {
#if defined(__linux__)

// An anonymous block of `size` bytes. Its size is sealed so no process that
// holds it can shrink it under another's mapping (which would raise SIGBUS).
// The kernel frees it when the last descriptor and mapping are gone.
int CreateAnonymous(int64_t size) {
  int fd = memfd_create("mpjs", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return -errno;
  if (ftruncate(fd, static_cast<off_t>(size)) != 0 ||
      fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  return fd;
}

int OpenNamed(const char* name, bool create, bool exclusive) {
  int flags = O_RDWR | (create ? O_CREAT : 0) | (create && exclusive ? O_EXCL : 0);
  int fd = shm_open(name, flags, 0600);  // glibc adds O_CLOEXEC
  return fd >= 0 ? fd : -errno;
}

int UnlinkNamed(const char* name) { return shm_unlink(name) == 0 ? 0 : -errno; }

int Truncate(int fd, int64_t size) {
  for (;;) {
    if (ftruncate(fd, static_cast<off_t>(size)) == 0) return 0;
    if (errno != EINTR) return -errno;
  }
}

int64_t Size(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return -errno;
  return static_cast<int64_t>(st.st_size);
}

// Maps `size` bytes of `fd`, read-write and shared with every other mapping.
int Map(int fd, size_t size, void** out) {
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return -errno;
  *out = p;
  return 0;
}

void Unmap(void* data, size_t size) { munmap(data, size); }

// Linux releases the descriptor even when close() reports EINTR: never retry.
int Close(int fd) { return close(fd) == 0 ? 0 : -errno; }

#else
int CreateAnonymous(int64_t) { return -ENOSYS; }
int OpenNamed(const char*, bool, bool) { return -ENOSYS; }
int UnlinkNamed(const char*) { return -ENOSYS; }
int Truncate(int, int64_t) { return -ENOSYS; }
int64_t Size(int) { return -ENOSYS; }
int Map(int, size_t, void**) { return -ENOSYS; }
void Unmap(void*, size_t) {}
int Close(int) { return -ENOSYS; }
#endif
}  // namespace os

// ---- V8 glue ----
using v8::Context;
using v8::FunctionCallbackInfo;
using v8::Isolate;
using v8::Local;
using v8::Object;
using v8::SharedArrayBuffer;
using v8::Value;

// Largest size we map: what a JavaScript number represents exactly.
constexpr double kMaxSize = 9007199254740991.0;

bool SizeArg(const FunctionCallbackInfo<Value>& args, int i, int64_t* out) {
  double d = NumberArg(args, i);
  if (!(d >= 0 && d <= kMaxSize) || d != static_cast<double>(static_cast<int64_t>(d))) return false;
  *out = static_cast<int64_t>(d);
  return true;
}

// memfdCreate(size) -> fd | -errno
void MemfdCreate(const FunctionCallbackInfo<Value>& args) {
  int64_t size;
  if (!SizeArg(args, 0, &size)) return ThrowBadArgument(args.GetIsolate(), "memfdCreate", "a bad size");
  ReturnNumber(args, os::CreateAnonymous(size));
}

// shmOpen(name, create, exclusive) -> fd | -errno
void ShmOpen(const FunctionCallbackInfo<Value>& args) {
  Isolate* isolate = args.GetIsolate();
  if (!args[0]->IsString()) return ThrowBadArgument(isolate, "shmOpen", "a name that is not a string");
  v8::String::Utf8Value name(isolate, args[0]);
  ReturnNumber(args, os::OpenNamed(*name, args[1]->IsTrue(), args[2]->IsTrue()));
}

// shmUnlink(name) -> 0 | -errno
void ShmUnlink(const FunctionCallbackInfo<Value>& args) {
  Isolate* isolate = args.GetIsolate();
  if (!args[0]->IsString()) return ThrowBadArgument(isolate, "shmUnlink", "a name that is not a string");
  v8::String::Utf8Value name(isolate, args[0]);
  ReturnNumber(args, os::UnlinkNamed(*name));
}

// ftruncate(fd, size) -> 0 | -errno
void Ftruncate(const FunctionCallbackInfo<Value>& args) {
  int64_t size;
  if (!SizeArg(args, 1, &size)) return ThrowBadArgument(args.GetIsolate(), "ftruncate", "a bad size");
  ReturnNumber(args, os::Truncate(IntArg(args, 0), size));
}

// fstatSize(fd) -> size | -errno
void FstatSize(const FunctionCallbackInfo<Value>& args) {
  ReturnNumber(args, static_cast<double>(os::Size(IntArg(args, 0))));
}

// mmapShared(fd, size) -> SharedArrayBuffer | -errno
// The mapping is unmapped when the last SharedArrayBuffer over it (in any
// thread of this process) is garbage-collected.
void MmapShared(const FunctionCallbackInfo<Value>& args) {
  Isolate* isolate = args.GetIsolate();
  int fd = IntArg(args, 0);
  int64_t size;
  if (!SizeArg(args, 1, &size) || size == 0) return ThrowBadArgument(isolate, "mmapShared", "a bad size");
  // Touching bytes past the end of the file raises SIGBUS: refuse to map them.
  int64_t file_size = os::Size(fd);
  if (file_size < 0) return ReturnNumber(args, static_cast<double>(file_size));
  if (size > file_size) return ReturnNumber(args, -EINVAL);
  void* data = nullptr;
  int rc = os::Map(fd, static_cast<size_t>(size), &data);
  if (rc < 0) return ReturnNumber(args, rc);
  std::unique_ptr<v8::BackingStore> store = SharedArrayBuffer::NewBackingStore(
      data, static_cast<size_t>(size), [](void* p, size_t length, void*) { os::Unmap(p, length); }, nullptr);
  // Created in the caller's realm (a vm context, a test runner's sandbox), so
  // that `instanceof SharedArrayBuffer` holds there.
  v8::Context::Scope realm(isolate->GetIncumbentContext());
  args.GetReturnValue().Set(SharedArrayBuffer::New(isolate, std::move(store)));
}

// closeFd(fd) -> 0 | -errno
void CloseFd(const FunctionCallbackInfo<Value>& args) { ReturnNumber(args, os::Close(IntArg(args, 0))); }

}  // namespace

void InitSharedMemory(Local<Context> context, Local<Object> exports) {
  SetMethod(context, exports, "memfdCreate", MemfdCreate);
  SetMethod(context, exports, "shmOpen", ShmOpen);
  SetMethod(context, exports, "shmUnlink", ShmUnlink);
  SetMethod(context, exports, "ftruncate", Ftruncate);
  SetMethod(context, exports, "fstatSize", FstatSize);
  SetMethod(context, exports, "mmapShared", MmapShared);
  SetMethod(context, exports, "closeFd", CloseFd);
}

}  // namespace mpjs
