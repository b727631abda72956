// Futex wait/wake on a 32-bit word of shared memory, blocking and async.
//
// Blocking waits run on the calling thread.
//
// Async waits never occupy the JavaScript thread or libuv's pool. Where the
// kernel can wait on futexes through io_uring (Linux 6.7+), each environment
// has a small ring: a wait is one submission, its completion wakes the event
// loop directly (one hop), and thousands of waits cost no threads. Elsewhere
// (older kernels, io_uring disabled by policy, or MPJS_FUTEX_BACKEND=threads)
// waits go to a cache of small-stack native threads, one wait per thread at a
// time so that wake counts and results stay exact; a thread returns to the
// cache when its wait ends and exits after a while unused. Such a thread also
// watches a private cancel word, so an abort ends its wait at once, race-free,
// even if nobody ever wakes the shared word. Its result travels back to the
// JavaScript thread that started the wait through a uv_async_t.
#include "addon.h"

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <pthread.h>
#include <signal.h>

#if defined(__linux__)
#include <linux/futex.h>
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace mpjs {
namespace {

// Results shared with src/futex.ts.
constexpr int kOk = 0;
constexpr int kNotEqual = 1;
constexpr int kTimedOut = 2;
constexpr int kCancelled = 3;

// A point on CLOCK_MONOTONIC after which a wait gives up.
struct Deadline {
  bool forever = true;
  timespec at{};
};

Deadline DeadlineAfterMs(double ms) {
  Deadline d;
  if (!(ms >= 0)) return d;  // negative (or NaN) means no timeout
  if (ms > 1e12) return d;   // ~31 years: treat as forever
  d.forever = false;
  clock_gettime(CLOCK_MONOTONIC, &d.at);
  int64_t ns = static_cast<int64_t>(ms * 1e6);
  d.at.tv_sec += static_cast<time_t>(ns / 1000000000);
  d.at.tv_nsec += static_cast<long>(ns % 1000000000);
  if (d.at.tv_nsec >= 1000000000) {
    d.at.tv_sec += 1;
    d.at.tv_nsec -= 1000000000;
  }
  return d;
}

// ---- Operating-system layer (Linux) ----
namespace os {
#if defined(__linux__)

// Same numbers on every architecture (the generic syscall table), for C
// libraries older than the kernel.
#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#define SYS_io_uring_enter 426
#define SYS_io_uring_register 427
#endif
#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif
#ifndef FUTEX_32
#define FUTEX_32 2
#endif

long Futex(const void* addr, int op, uint32_t val, const timespec* ts, uint32_t val3) {
  return syscall(SYS_futex, addr, op, val, ts, nullptr, val3);
}

// Blocks while *addr == expected. `shared` words may be mapped by other
// processes; private ones belong to this process only. Returns 0 when woken
// (or spuriously), -EAGAIN if the value differed, -ETIMEDOUT, -EINTR, -errno.
int Wait(const uint32_t* addr, uint32_t expected, const Deadline& d, bool shared) {
  int op = FUTEX_WAIT_BITSET | (shared ? 0 : FUTEX_PRIVATE_FLAG);
  long r = Futex(addr, op, expected, d.forever ? nullptr : &d.at, FUTEX_BITSET_MATCH_ANY);
  return r == 0 ? 0 : -errno;
}

// Wakes up to `count` waiters; returns how many were woken, or -errno.
int Wake(const uint32_t* addr, int count, bool shared) {
  long r = Futex(addr, FUTEX_WAKE | (shared ? 0 : FUTEX_PRIVATE_FLAG), static_cast<uint32_t>(count), nullptr, 0);
  return r >= 0 ? static_cast<int>(r) : -errno;
}

// Waits on the shared word and on a private cancel word (expected 0) at once.
// Returns 1 when the shared word was woken, 0 when the cancel word was, or
// -EAGAIN (a value differed), -ETIMEDOUT, -EINTR, -ENOSYS (kernel < 5.16).
int WaitOrCancel(const uint32_t* addr, uint32_t expected, const uint32_t* cancel, const Deadline& d) {
  struct futex_waitv waiters[2] = {};
  // When both are woken the kernel reports the highest index: the shared word
  // comes last so that a consumed wake-up is never mistaken for a cancel.
  waiters[0].val = 0;
  waiters[0].uaddr = reinterpret_cast<uintptr_t>(cancel);
  waiters[0].flags = FUTEX_32 | FUTEX_PRIVATE_FLAG;
  waiters[1].val = expected;
  waiters[1].uaddr = reinterpret_cast<uintptr_t>(addr);
  waiters[1].flags = FUTEX_32;
  timespec at = d.at;
  long r = syscall(SYS_futex_waitv, waiters, 2, 0, d.forever ? nullptr : &at, CLOCK_MONOTONIC);
  return r >= 0 ? static_cast<int>(r) : -errno;
}

// A timeout as io_uring reads it.
using RingTimespec = __kernel_timespec;

// Futex waits through io_uring: submissions from, and completions for, one
// JavaScript thread. The ring's fd becomes readable when completions wait.
class FutexRing {
 public:
  // A ring, or nullptr when this kernel cannot wait on futexes through
  // io_uring (before 6.7, or io_uring disabled).
  static FutexRing* Create() {
    io_uring_params p;
    std::memset(&p, 0, sizeof(p));
    p.flags = IORING_SETUP_CQSIZE;
    p.cq_entries = kCqEntries;
    int fd = static_cast<int>(syscall(SYS_io_uring_setup, kSqEntries, &p));
    if (fd < 0) return nullptr;
    auto* ring = new FutexRing();
    ring->fd_ = fd;
    if (!(p.features & IORING_FEAT_NODROP) || !(p.features & IORING_FEAT_SINGLE_MMAP) || !SupportsFutexWait(fd) ||
        !ring->Map(p)) {
      delete ring;
      return nullptr;
    }
    return ring;
  }

  ~FutexRing() {
    if (sqes_ != nullptr) munmap(sqes_, sqes_size_);
    if (ring_ != nullptr) munmap(ring_, ring_size_);
    if (fd_ >= 0) close(fd_);
  }

  int fd() const { return fd_; }

  // Queues a shared futex wait on `addr` while it holds `expected`, with a
  // timeout (`timeout` stays valid until this returns) unless it is null.
  // The wait completes with `user_data`: 0 woken, -EAGAIN value differed,
  // -ECANCELED timed out or cancelled. Returns 0 or -errno.
  int SubmitWait(uint64_t user_data, const uint32_t* addr, uint32_t expected, const RingTimespec* timeout,
                 uint64_t timeout_user_data) {
    unsigned needed = timeout != nullptr ? 2 : 1;
    if (Free() < needed) return -EBUSY;
    io_uring_sqe* wait = Next();
    wait->opcode = kOpFutexWait;
    wait->fd = static_cast<int32_t>(kFutex2SizeU32);  // shared (not FUTEX2_PRIVATE): other processes wake it
    wait->addr = reinterpret_cast<uintptr_t>(addr);
    wait->addr2 = expected;
    wait->addr3 = FUTEX_BITSET_MATCH_ANY;
    wait->user_data = user_data;
    if (timeout != nullptr) {
      wait->flags = IOSQE_IO_LINK;
      io_uring_sqe* t = Next();
      t->opcode = IORING_OP_LINK_TIMEOUT;
      t->fd = -1;
      t->addr = reinterpret_cast<uintptr_t>(timeout);
      t->len = 1;
      t->user_data = timeout_user_data;
    }
    return Submit();
  }

  // Cancels the request with `user_data`; its own completion carries `cancel_user_data`.
  int SubmitCancel(uint64_t user_data, uint64_t cancel_user_data) {
    if (Free() < 1) return -EBUSY;
    io_uring_sqe* c = Next();
    c->opcode = IORING_OP_ASYNC_CANCEL;
    c->fd = -1;
    c->addr = user_data;
    c->user_data = cancel_user_data;
    return Submit();
  }

  // Calls fn(user_data, res) for every completion there is.
  template <typename F>
  void Drain(F&& fn) {
    for (;;) {
      uint32_t head = *cq_head_;
      uint32_t tail = __atomic_load_n(cq_tail_, __ATOMIC_ACQUIRE);
      while (head != tail) {
        const io_uring_cqe& cqe = cqes_[head & cq_mask_];
        uint64_t user_data = cqe.user_data;
        int32_t res = cqe.res;
        __atomic_store_n(cq_head_, ++head, __ATOMIC_RELEASE);
        fn(user_data, res);
        tail = __atomic_load_n(cq_tail_, __ATOMIC_ACQUIRE);
      }
      if (!(__atomic_load_n(sq_flags_, __ATOMIC_ACQUIRE) & IORING_SQ_CQ_OVERFLOW)) return;
      // Completions that did not fit were kept by the kernel: bring them in.
      syscall(SYS_io_uring_enter, fd_, 0, 0, IORING_ENTER_GETEVENTS, nullptr, 0);
    }
  }

 private:
  static constexpr unsigned kSqEntries = 64;
  static constexpr unsigned kCqEntries = 4096;
  static constexpr uint8_t kOpFutexWait = 51;       // IORING_OP_FUTEX_WAIT, Linux 6.7
  static constexpr uint32_t kFutex2SizeU32 = 0x02;  // FUTEX2_SIZE_U32

  static bool SupportsFutexWait(int fd) {
    constexpr unsigned kOps = 256;
    std::vector<uint8_t> buffer(sizeof(io_uring_probe) + kOps * sizeof(io_uring_probe_op), 0);
    auto* probe = reinterpret_cast<io_uring_probe*>(buffer.data());
    if (syscall(SYS_io_uring_register, fd, IORING_REGISTER_PROBE, probe, kOps) < 0) return false;
    return probe->last_op >= kOpFutexWait && (probe->ops[kOpFutexWait].flags & IO_URING_OP_SUPPORTED) != 0;
  }

  bool Map(const io_uring_params& p) {
    size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(uint32_t);
    size_t cq_size = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
    ring_size_ = sq_size > cq_size ? sq_size : cq_size;
    void* ring = mmap(nullptr, ring_size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, IORING_OFF_SQ_RING);
    if (ring == MAP_FAILED) return false;
    ring_ = ring;
    sqes_size_ = p.sq_entries * sizeof(io_uring_sqe);
    void* sqes = mmap(nullptr, sqes_size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, IORING_OFF_SQES);
    if (sqes == MAP_FAILED) return false;
    sqes_ = static_cast<io_uring_sqe*>(sqes);
    char* base = static_cast<char*>(ring_);
    sq_head_ = reinterpret_cast<uint32_t*>(base + p.sq_off.head);
    sq_tail_ = reinterpret_cast<uint32_t*>(base + p.sq_off.tail);
    sq_mask_ = *reinterpret_cast<uint32_t*>(base + p.sq_off.ring_mask);
    sq_entries_ = p.sq_entries;
    sq_flags_ = reinterpret_cast<uint32_t*>(base + p.sq_off.flags);
    sq_array_ = reinterpret_cast<uint32_t*>(base + p.sq_off.array);
    cq_head_ = reinterpret_cast<uint32_t*>(base + p.cq_off.head);
    cq_tail_ = reinterpret_cast<uint32_t*>(base + p.cq_off.tail);
    cq_mask_ = *reinterpret_cast<uint32_t*>(base + p.cq_off.ring_mask);
    cqes_ = reinterpret_cast<io_uring_cqe*>(base + p.cq_off.cqes);
    tail_ = *sq_tail_;
    return true;
  }

  unsigned Free() const { return sq_entries_ - (tail_ - __atomic_load_n(sq_head_, __ATOMIC_ACQUIRE)); }

  io_uring_sqe* Next() {
    uint32_t index = tail_ & sq_mask_;
    io_uring_sqe* sqe = &sqes_[index];
    std::memset(sqe, 0, sizeof(*sqe));
    sq_array_[index] = index;
    tail_++;
    return sqe;
  }

  // Publishes the queued entries and has the kernel take them. Entries the
  // kernel could not take yet stay queued and go with the next call.
  int Submit() {
    __atomic_store_n(sq_tail_, tail_, __ATOMIC_RELEASE);
    unsigned queued = tail_ - __atomic_load_n(sq_head_, __ATOMIC_ACQUIRE);
    for (;;) {
      long r = syscall(SYS_io_uring_enter, fd_, queued, 0, 0, nullptr, 0);
      if (r >= 0) return 0;
      if (errno != EINTR) return -errno;
    }
  }

  int fd_ = -1;
  void* ring_ = nullptr;
  size_t ring_size_ = 0;
  io_uring_sqe* sqes_ = nullptr;
  size_t sqes_size_ = 0;
  uint32_t* sq_head_ = nullptr;
  uint32_t* sq_tail_ = nullptr;
  uint32_t* sq_flags_ = nullptr;
  uint32_t* sq_array_ = nullptr;
  uint32_t sq_mask_ = 0;
  uint32_t sq_entries_ = 0;
  uint32_t tail_ = 0;  // our copy of the SQ tail
  uint32_t* cq_head_ = nullptr;
  uint32_t* cq_tail_ = nullptr;
  uint32_t cq_mask_ = 0;
  io_uring_cqe* cqes_ = nullptr;
};

#else
int Wait(const uint32_t*, uint32_t, const Deadline&, bool) { return -ENOSYS; }
int Wake(const uint32_t*, int, bool) { return -ENOSYS; }
int WaitOrCancel(const uint32_t*, uint32_t, const uint32_t*, const Deadline&) { return -ENOSYS; }
struct RingTimespec {
  int64_t tv_sec;
  long long tv_nsec;
};
class FutexRing {
 public:
  static FutexRing* Create() { return nullptr; }
  int fd() const { return -1; }
  int SubmitWait(uint64_t, const uint32_t*, uint32_t, const RingTimespec*, uint64_t) { return -ENOSYS; }
  int SubmitCancel(uint64_t, uint64_t) { return -ENOSYS; }
  template <typename F>
  void Drain(F&&) {}
};
#endif
}  // namespace os

bool Expired(const Deadline& d) {
  if (d.forever) return false;
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec > d.at.tv_sec || (now.tv_sec == d.at.tv_sec && now.tv_nsec >= d.at.tv_nsec);
}

// Blocking wait for the calling thread: kOk, kNotEqual, kTimedOut or -errno.
int BlockingWait(const uint32_t* addr, uint32_t expected, const Deadline& d) {
  for (bool first = true;; first = false) {
    int rc = os::Wait(addr, expected, d, true);
    if (rc == 0) return kOk;
    if (rc == -EAGAIN) return first ? kNotEqual : kOk;  // changed while a signal was handled: a wake-up
    if (rc == -ETIMEDOUT) return kTimedOut;
    if (rc != -EINTR) return rc;
  }
}

struct FutexEnv;

// One async wait. Shared by the JavaScript thread (which created it) and, in
// the thread backend, the native thread that waits; the V8 handles are
// touched on the JavaScript thread only.
struct WaitRequest {
  uint32_t id = 0;
  const uint32_t* addr = nullptr;
  uint32_t expected = 0;
  Deadline deadline;
  std::atomic<uint32_t> cancel{0};  // private futex word: 1 = stop waiting
  int result = 0;
  bool abandoned = false;  // cancelled by JS: no longer keeps the loop alive
  bool via_ring = false;   // waits in the environment's io_uring, not on a thread
  os::RingTimespec timeout{};  // a ring wait's timeout, read when submitted
  std::shared_ptr<FutexEnv> env;
  std::shared_ptr<v8::BackingStore> store;  // keeps the mapping alive while waiting
  v8::Global<v8::Function> callback;
};

// Async wait on a native thread: kOk, kTimedOut, kCancelled or -errno. The
// caller already saw the expected value, so a later difference is a wake-up.
int RunAsyncWait(WaitRequest& r) {
  static std::atomic<bool> have_waitv{true};
  const uint32_t* cancel = reinterpret_cast<const uint32_t*>(&r.cancel);
  for (;;) {
    if (r.cancel.load(std::memory_order_acquire) != 0) return kCancelled;
    if (have_waitv.load(std::memory_order_relaxed)) {
      int rc = os::WaitOrCancel(r.addr, r.expected, cancel, r.deadline);
      if (rc == 1) return kOk;
      if (rc == 0 || rc == -EINTR) continue;  // cancel word woken (checked above) or a signal
      if (rc == -EAGAIN) return r.cancel.load(std::memory_order_acquire) != 0 ? kCancelled : kOk;
      if (rc == -ETIMEDOUT) return kTimedOut;
      if (rc != -ENOSYS) return rc;
      have_waitv.store(false, std::memory_order_relaxed);
    }
    // Kernels before 5.16: wait in short slices and look at the cancel word between them.
    Deadline slice = DeadlineAfterMs(20);
    bool last = !r.deadline.forever &&
                (r.deadline.at.tv_sec < slice.at.tv_sec ||
                 (r.deadline.at.tv_sec == slice.at.tv_sec && r.deadline.at.tv_nsec <= slice.at.tv_nsec));
    int rc = os::Wait(r.addr, r.expected, last ? r.deadline : slice, true);
    if (rc == 0 || rc == -EAGAIN) return r.cancel.load(std::memory_order_acquire) != 0 ? kCancelled : kOk;
    if (rc == -ETIMEDOUT && (last || Expired(r.deadline))) return kTimedOut;
    if (rc != -ETIMEDOUT && rc != -EINTR) return rc;
  }
}

void Complete(std::shared_ptr<WaitRequest> request, int result);

// ---- The thread cache ----

// A cached native thread: parked on `has_job` between waits.
struct Waiter {
  std::atomic<uint32_t> has_job{0};
  std::shared_ptr<WaitRequest> job;
};

constexpr size_t kStackSize = 64 * 1024;
constexpr double kIdleMs = 30000;  // an unused thread exits after this long

class WaiterPool {
 public:
  // Never destroyed: parked threads may still run while static destructors do at exit.
  static WaiterPool& Get() {
    static WaiterPool* pool = new WaiterPool();
    return *pool;
  }

  // Hands `request` to an idle thread, or starts one. 0 or -errno.
  int Submit(std::shared_ptr<WaitRequest> request) {
    Waiter* w = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        w = idle_.back();
        idle_.pop_back();
      }
    }
    if (w != nullptr) {
      w->job = std::move(request);
      w->has_job.store(1, std::memory_order_release);
      os::Wake(reinterpret_cast<const uint32_t*>(&w->has_job), 1, false);
      return 0;
    }
    w = new Waiter();
    w->job = std::move(request);
    w->has_job.store(1, std::memory_order_relaxed);
    int rc = Start(w);
    if (rc != 0) {
      delete w;
      return -rc;
    }
    return 0;
  }

 private:
  static int Start(Waiter* w) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, kStackSize);
    // Signals belong to the JavaScript threads: block them all in waiters.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t tid;
    int rc = pthread_create(&tid, &attr, Main, w);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    pthread_attr_destroy(&attr);
#if defined(__linux__)
    if (rc == 0) pthread_setname_np(tid, "mpjs-futex");
#endif
    return rc;
  }

  static void* Main(void* arg) {
    Waiter* w = static_cast<Waiter*>(arg);
    WaiterPool& pool = Get();
    do {
      std::shared_ptr<WaitRequest> job = std::move(w->job);
      w->job.reset();
      w->has_job.store(0, std::memory_order_relaxed);
      int result = RunAsyncWait(*job);
      Complete(std::move(job), result);
    } while (pool.Park(w));
    delete w;
    return nullptr;
  }

  // Parks `w` until it gets a job (true) or has been idle too long (false).
  bool Park(Waiter* w) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      idle_.push_back(w);
    }
    Deadline until = DeadlineAfterMs(kIdleMs);
    const uint32_t* word = reinterpret_cast<const uint32_t*>(&w->has_job);
    for (;;) {
      if (w->has_job.load(std::memory_order_acquire) != 0) return true;
      int rc = os::Wait(word, 0, until, false);
      if (rc != -ETIMEDOUT) continue;
      std::lock_guard<std::mutex> lock(mu_);
      for (auto it = idle_.begin(); it != idle_.end(); ++it) {
        if (*it == w) {
          idle_.erase(it);
          return false;
        }
      }
      // A submitter took us off the list and is about to hand over a job.
      until = Deadline();
    }
  }

  std::mutex mu_;
  std::vector<Waiter*> idle_;  // most recently parked last: reuse the warmest
};

// ---- Per-environment state ----

struct FutexEnv {
  v8::Isolate* isolate = nullptr;
  v8::Global<v8::Context> context;
  v8::Global<v8::Object> resource;  // async resource the callbacks run under
  node::async_context async_context{0, 0};
  node::AsyncCleanupHookHandle cleanup_hook;
  uv_async_t* async = nullptr;       // completions from native threads
  os::FutexRing* ring = nullptr;     // null: every async wait uses a thread
  uv_poll_t* ring_poll = nullptr;    // readable when the ring has completions
  std::shared_ptr<FutexEnv> self;    // keeps this alive until the handles are closed

  // JavaScript thread only.
  std::unordered_map<uint32_t, std::shared_ptr<WaitRequest>> pending;
  uint32_t next_id = 1;
  size_t active_threads = 0;  // pending thread waits that keep the event loop alive
  size_t active_ring = 0;     // pending ring waits that keep the event loop alive
  int open_handles = 0;
  void (*cleanup_done)(void*) = nullptr;
  void* cleanup_arg = nullptr;

  // Shared with the native threads.
  std::mutex mu;
  bool closed = false;
  std::vector<std::shared_ptr<WaitRequest>> done;

  // A pending wait keeps the loop alive through the handle that will report it.
  void Ref(const WaitRequest& r) {
    size_t& count = r.via_ring ? active_ring : active_threads;
    if (count++ == 0) uv_ref(Handle(r));
  }
  void Unref(const WaitRequest& r) {
    size_t& count = r.via_ring ? active_ring : active_threads;
    if (--count == 0) uv_unref(Handle(r));
  }
  uv_handle_t* Handle(const WaitRequest& r) const {
    return r.via_ring ? reinterpret_cast<uv_handle_t*>(ring_poll) : reinterpret_cast<uv_handle_t*>(async);
  }
};

// Ring completions carry the wait id shifted left; the low bit marks the
// companion timeout, and 0 a cancel request, whose completions are ignored.
uint64_t RingUserData(uint32_t id) { return static_cast<uint64_t>(id) << 1; }

// Native thread: queues the result for the JavaScript thread of its environment.
void Complete(std::shared_ptr<WaitRequest> request, int result) {
  request->result = result;
  FutexEnv* env = request->env.get();
  std::lock_guard<std::mutex> lock(env->mu);
  if (env->closed) return;  // the environment is gone; nobody to tell
  env->done.push_back(std::move(request));
  uv_async_send(env->async);
}

// JavaScript thread, inside a callback scope: hands a finished wait to its callback.
void Deliver(FutexEnv* env, v8::Local<v8::Context> context, const std::shared_ptr<WaitRequest>& r) {
  v8::Isolate* isolate = env->isolate;
  env->pending.erase(r->id);
  if (!r->abandoned) env->Unref(*r);
  v8::Local<v8::Function> fn = r->callback.Get(isolate);
  r->callback.Reset();
  r->store.reset();
  if (fn.IsEmpty() || isolate->IsExecutionTerminating()) return;
  v8::Local<v8::Value> argv[] = {v8::Integer::New(isolate, r->result)};
  // An exception here reaches Node's uncaught-exception handling.
  v8::MaybeLocal<v8::Value> ignored = fn->Call(context, v8::Undefined(isolate), 1, argv);
  (void)ignored;
}

// JavaScript thread: results of thread waits.
void OnThreadCompletions(uv_async_t* handle) {
  FutexEnv* env = static_cast<FutexEnv*>(handle->data);
  std::vector<std::shared_ptr<WaitRequest>> batch;
  {
    std::lock_guard<std::mutex> lock(env->mu);
    batch.swap(env->done);
  }
  if (batch.empty()) return;
  v8::Isolate* isolate = env->isolate;
  v8::HandleScope handle_scope(isolate);
  v8::Local<v8::Context> context = env->context.Get(isolate);
  v8::Context::Scope context_scope(context);
  // Drains the microtask and tick queues on exit, so promises settle now.
  node::CallbackScope callback_scope(isolate, env->resource.Get(isolate), env->async_context);
  for (std::shared_ptr<WaitRequest>& r : batch) Deliver(env, context, r);
}

// JavaScript thread: results of ring waits.
void OnRingCompletions(uv_poll_t* handle, int status, int events) {
  FutexEnv* env = static_cast<FutexEnv*>(handle->data);
  v8::Isolate* isolate = env->isolate;
  v8::HandleScope handle_scope(isolate);
  v8::Local<v8::Context> context = env->context.Get(isolate);
  v8::Context::Scope context_scope(context);
  node::CallbackScope callback_scope(isolate, env->resource.Get(isolate), env->async_context);
  env->ring->Drain([&](uint64_t user_data, int32_t res) {
    if (user_data == 0 || (user_data & 1) != 0) return;  // a cancel or a timeout
    auto it = env->pending.find(static_cast<uint32_t>(user_data >> 1));
    if (it == env->pending.end() || !it->second->via_ring) return;
    std::shared_ptr<WaitRequest> r = it->second;
    if (res == 0 || res == -EAGAIN) {
      r->result = kOk;  // woken, or the value changed after the caller saw it: a wake-up
    } else if (res == -ECANCELED || res == -ETIME) {
      r->result = r->abandoned ? kCancelled : kTimedOut;
    } else {
      r->result = res;
    }
    Deliver(env, context, r);
  });
}

void CancelRequest(FutexEnv* env, WaitRequest& r) {
  if (r.via_ring) {
    env->ring->SubmitCancel(RingUserData(r.id), 0);
    return;
  }
  r.cancel.store(1, std::memory_order_release);
  os::Wake(reinterpret_cast<const uint32_t*>(&r.cancel), 1, false);
}

void OnHandleClosed(uv_handle_t* handle) {
  FutexEnv* env = static_cast<FutexEnv*>(handle->data);
  if (handle->type == UV_ASYNC) {
    delete reinterpret_cast<uv_async_t*>(handle);
  } else {
    delete reinterpret_cast<uv_poll_t*>(handle);
  }
  if (--env->open_handles > 0) return;
  delete env->ring;  // closing the ring cancels whatever it still holds
  env->ring = nullptr;
  env->cleanup_hook.reset();
  void (*done)(void*) = env->cleanup_done;
  void* done_arg = env->cleanup_arg;
  env->self.reset();  // may free env
  done(done_arg);
}

// Environment teardown (worker exit, process exit): cancel every wait, drop
// the V8 handles while the isolate still exists, then close the handles.
void CleanupFutexEnv(void* arg, void (*done)(void*), void* done_arg) {
  FutexEnv* env = static_cast<FutexEnv*>(arg);
  {
    std::lock_guard<std::mutex> lock(env->mu);
    env->closed = true;
    env->done.clear();
  }
  for (auto& entry : env->pending) {
    WaitRequest& r = *entry.second;
    r.callback.Reset();
    r.store.reset();
    if (!r.via_ring) CancelRequest(env, r);
  }
  env->pending.clear();
  {
    v8::HandleScope scope(env->isolate);
    node::EmitAsyncDestroy(env->isolate, env->async_context);
  }
  env->resource.Reset();
  env->context.Reset();
  env->cleanup_done = done;
  env->cleanup_arg = done_arg;
  if (env->ring_poll != nullptr) {
    uv_poll_stop(env->ring_poll);
    uv_close(reinterpret_cast<uv_handle_t*>(env->ring_poll), OnHandleClosed);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(env->async), OnHandleClosed);
}

// ---- V8 glue ----
using v8::FunctionCallbackInfo;
using v8::Isolate;
using v8::Local;
using v8::SharedArrayBuffer;
using v8::Value;

// Finds the 32-bit word at `args[1]` bytes into the SharedArrayBuffer
// `args[0]`; nullptr (with -EINVAL as the result) when out of bounds or
// misaligned.
uint32_t* WordAt(const FunctionCallbackInfo<Value>& args, const char* function, void* data, size_t length) {
  double offset = NumberArg(args, 1);
  if (!(offset >= 0) || offset + 4 > static_cast<double>(length) ||
      offset != static_cast<double>(static_cast<size_t>(offset))) {
    ReturnNumber(args, -EINVAL);
    return nullptr;
  }
  uintptr_t address = reinterpret_cast<uintptr_t>(data) + static_cast<size_t>(offset);
  if (address % 4 != 0) {
    ReturnNumber(args, -EINVAL);
    return nullptr;
  }
  return reinterpret_cast<uint32_t*>(address);
}

// futexWait(sab, byteOffset, expected, timeoutMs) -> kOk | kNotEqual | kTimedOut | -errno
// A negative timeout waits forever.
void FutexWait(const FunctionCallbackInfo<Value>& args) {
  if (!args[0]->IsSharedArrayBuffer()) {
    return ThrowBadArgument(args.GetIsolate(), "futexWait", "a buffer that is not a SharedArrayBuffer");
  }
  Local<SharedArrayBuffer> sab = args[0].As<SharedArrayBuffer>();
  uint32_t* word = WordAt(args, "futexWait", sab->Data(), sab->ByteLength());
  if (word == nullptr) return;
  uint32_t expected = static_cast<uint32_t>(IntArg(args, 2));
  ReturnNumber(args, BlockingWait(word, expected, DeadlineAfterMs(NumberArg(args, 3))));
}

// futexWake(sab, byteOffset, count) -> woken | -errno
void FutexWake(const FunctionCallbackInfo<Value>& args) {
  if (!args[0]->IsSharedArrayBuffer()) {
    return ThrowBadArgument(args.GetIsolate(), "futexWake", "a buffer that is not a SharedArrayBuffer");
  }
  Local<SharedArrayBuffer> sab = args[0].As<SharedArrayBuffer>();
  uint32_t* word = WordAt(args, "futexWake", sab->Data(), sab->ByteLength());
  if (word == nullptr) return;
  int count = IntArg(args, 2);
  ReturnNumber(args, os::Wake(word, count < 0 ? INT_MAX : count, true));
}

// futexWaitAsync(sab, byteOffset, expected, timeoutMs, callback) -> id | -errno
// `callback(result)` runs on this thread with kOk, kTimedOut, kCancelled or
// -errno; the wait keeps the event loop alive until it ends or is cancelled.
void FutexWaitAsync(const FunctionCallbackInfo<Value>& args) {
  Isolate* isolate = args.GetIsolate();
  FutexEnv* env = static_cast<FutexEnv*>(args.Data().As<v8::External>()->Value());
  if (!args[0]->IsSharedArrayBuffer() || !args[4]->IsFunction()) {
    return ThrowBadArgument(isolate, "futexWaitAsync", "a buffer or callback of the wrong type");
  }
  std::shared_ptr<v8::BackingStore> store = args[0].As<SharedArrayBuffer>()->GetBackingStore();
  uint32_t* word = WordAt(args, "futexWaitAsync", store->Data(), store->ByteLength());
  if (word == nullptr) return;
  double timeout_ms = NumberArg(args, 3);

  auto request = std::make_shared<WaitRequest>();
  request->addr = word;
  request->expected = static_cast<uint32_t>(IntArg(args, 2));
  request->deadline = DeadlineAfterMs(timeout_ms);
  request->env = env->self;
  request->store = std::move(store);
  do {
    request->id = env->next_id++;
  } while (request->id == 0 || env->pending.count(request->id) != 0);

  request->callback.Reset(isolate, args[4].As<v8::Function>());
  env->pending.emplace(request->id, request);
  int rc = -ENOSYS;
  if (env->ring != nullptr) {
    const os::RingTimespec* timeout = nullptr;
    if (!request->deadline.forever) {
      int64_t ns = static_cast<int64_t>(timeout_ms * 1e6);
      request->timeout.tv_sec = ns / 1000000000;
      request->timeout.tv_nsec = ns % 1000000000;
      timeout = &request->timeout;
    }
    uint64_t user_data = RingUserData(request->id);
    rc = env->ring->SubmitWait(user_data, word, request->expected, timeout, user_data | 1);
    request->via_ring = rc == 0;
  }
  if (!request->via_ring) rc = WaiterPool::Get().Submit(request);  // also when the ring is full
  if (rc != 0) {
    env->pending.erase(request->id);
    request->callback.Reset();
    return ReturnNumber(args, rc);
  }
  env->Ref(*request);
  ReturnNumber(args, request->id);
}

// futexCancel(id) -> true if the wait was still pending. The callback still
// runs once the wait has stopped (possibly with kOk if a wake-up raced the
// cancel), but the wait no longer keeps the event loop alive.
void FutexCancel(const FunctionCallbackInfo<Value>& args) {
  FutexEnv* env = static_cast<FutexEnv*>(args.Data().As<v8::External>()->Value());
  double id = NumberArg(args, 0);
  auto it = env->pending.find(static_cast<uint32_t>(id));
  if (!(id >= 0) || it == env->pending.end() || it->second->abandoned) {
    args.GetReturnValue().Set(false);
    return;
  }
  WaitRequest& r = *it->second;
  r.abandoned = true;
  env->Unref(r);
  CancelRequest(env, r);
  args.GetReturnValue().Set(true);
}

// futexBackend() -> 'io_uring' | 'threads': how this environment waits async.
void FutexBackend(const FunctionCallbackInfo<Value>& args) {
  FutexEnv* env = static_cast<FutexEnv*>(args.Data().As<v8::External>()->Value());
  Isolate* isolate = args.GetIsolate();
  args.GetReturnValue().Set(env->ring != nullptr ? v8::String::NewFromUtf8Literal(isolate, "io_uring")
                                                 : v8::String::NewFromUtf8Literal(isolate, "threads"));
}

}  // namespace

void InitFutex(v8::Local<v8::Context> context, v8::Local<v8::Object> exports) {
  Isolate* isolate = context->GetIsolate();
  uv_loop_t* loop = node::GetCurrentEventLoop(isolate);
  auto env = std::make_shared<FutexEnv>();
  env->self = env;
  env->isolate = isolate;
  env->context.Reset(isolate, context);
  Local<v8::Object> resource = v8::Object::New(isolate);
  env->resource.Reset(isolate, resource);
  env->async_context = node::EmitAsyncInit(isolate, resource, "mpjs:futexWaitAsync");

  env->async = new uv_async_t();
  uv_async_init(loop, env->async, OnThreadCompletions);
  env->async->data = env.get();
  uv_unref(reinterpret_cast<uv_handle_t*>(env->async));
  env->open_handles++;

  const char* backend = std::getenv("MPJS_FUTEX_BACKEND");
  if (backend == nullptr || std::strcmp(backend, "threads") != 0) env->ring = os::FutexRing::Create();
  if (env->ring != nullptr) {
    env->ring_poll = new uv_poll_t();
    if (uv_poll_init(loop, env->ring_poll, env->ring->fd()) == 0) {
      env->ring_poll->data = env.get();
      uv_poll_start(env->ring_poll, UV_READABLE, OnRingCompletions);
      uv_unref(reinterpret_cast<uv_handle_t*>(env->ring_poll));
      env->open_handles++;
    } else {
      delete env->ring_poll;
      env->ring_poll = nullptr;
      delete env->ring;
      env->ring = nullptr;
    }
  }
  env->cleanup_hook = node::AddEnvironmentCleanupHook(isolate, CleanupFutexEnv, env.get());

  Local<v8::External> data = v8::External::New(isolate, env.get());
  SetMethod(context, exports, "futexWait", FutexWait);
  SetMethod(context, exports, "futexWake", FutexWake);
  SetMethod(context, exports, "futexWaitAsync", FutexWaitAsync, data);
  SetMethod(context, exports, "futexCancel", FutexCancel, data);
  SetMethod(context, exports, "futexBackend", FutexBackend, data);
}

}  // namespace mpjs
