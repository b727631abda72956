// Listening, accepting and connecting stream sockets (AF_UNIX and AF_INET)
// with plain system calls: a connection is a descriptor from the start, with
// no Node socket made and thrown away around it.
#include "addon.h"

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#if defined(__linux__)
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>
#endif

namespace mpjs {
namespace {

// ---- Operating-system layer (Linux) ----
namespace os {
#if defined(__linux__)

// A socket address from (path) or (IPv4 text, port). Abstract AF_UNIX names
// start with a NUL byte and have no terminating one. -EINVAL for a bad one.
int MakeAddress(bool unix_family, const std::string& where, int port, sockaddr_storage* out, socklen_t* length) {
  std::memset(out, 0, sizeof(*out));
  if (unix_family) {
    auto* un = reinterpret_cast<sockaddr_un*>(out);
    if (where.empty() || where.size() >= sizeof(un->sun_path)) return -ENAMETOOLONG;
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, where.data(), where.size());
    bool abstract = where[0] == '\0';
    *length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + where.size() + (abstract ? 0 : 1));
    return 0;
  }
  auto* in = reinterpret_cast<sockaddr_in*>(out);
  in->sin_family = AF_INET;
  in->sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, where.c_str(), &in->sin_addr) != 1) return -EINVAL;
  *length = sizeof(sockaddr_in);
  return 0;
}

// A non-blocking, close-on-exec stream socket for `where`, and its address:
// fd, or -errno.
int OpenSocket(bool unix_family, const std::string& where, int port, sockaddr_storage* address, socklen_t* length) {
  int rc = MakeAddress(unix_family, where, port, address, length);
  if (rc < 0) return rc;
  int fd = socket(unix_family ? AF_UNIX : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  return fd < 0 ? -errno : fd;
}

// A non-blocking, close-on-exec listening socket: fd, or -errno.
int Listen(bool unix_family, const std::string& where, int port, int backlog) {
  sockaddr_storage address;
  socklen_t length = 0;
  int fd = OpenSocket(unix_family, where, port, &address, &length);
  if (fd < 0) return fd;
  if (!unix_family) {
    // As CPython's Listener does on Unix: a port in TIME_WAIT can be bound again.
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0 || listen(fd, backlog) != 0) {
    int error = errno;
    close(fd);
    return -error;
  }
  return fd;
}

// The port an AF_INET socket is bound to, or -errno.
int LocalPort(int fd) {
  sockaddr_in address;
  socklen_t length = sizeof(address);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return -errno;
  return ntohs(address.sin_port);
}

// One waiting connection of a listening socket: its fd (non-blocking,
// close-on-exec; TCP_NODELAY for TCP) and the peer's IPv4 address and port,
// or -errno (-EAGAIN: none waiting).
int Accept(int fd, std::string* host, int* port) {
  sockaddr_storage peer;
  socklen_t length = sizeof(peer);
  int conn;
  do {
    conn = accept4(fd, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_CLOEXEC | SOCK_NONBLOCK);
  } while (conn < 0 && errno == EINTR);
  if (conn < 0) return -errno;
  *port = -1;
  if (peer.ss_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&peer);
    char text[INET_ADDRSTRLEN] = {0};
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
    *host = text;
    *port = ntohs(in->sin_port);
    int on = 1;
    setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  }
  return conn;
}

// Starts connecting a non-blocking, close-on-exec socket: the fd, with
// `*pending` set when the connection completes later (EINPROGRESS: wait until
// it is writable, then read SocketError), or -errno.
int Connect(bool unix_family, const std::string& where, int port, bool* pending) {
  sockaddr_storage address;
  socklen_t length = 0;
  int fd = OpenSocket(unix_family, where, port, &address, &length);
  if (fd < 0) return fd;
  *pending = false;
  int result;
  do {
    result = connect(fd, reinterpret_cast<sockaddr*>(&address), length);
  } while (result != 0 && errno == EINTR);
  if (result != 0) {
    int error = errno;
    if (error == EINPROGRESS) {
      *pending = true;
    } else {
      close(fd);
      return -error;
    }
  }
  if (!unix_family) {
    int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  }
  return fd;
}

// Puts the descriptor's file description in non-blocking mode: 0, or -errno.
int SetNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return -errno;
  if (flags & O_NONBLOCK) return 0;
  return fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 ? 0 : -errno;
}

// The pending error of a socket (SO_ERROR) as -errno, 0 when none.
int SocketError(int fd) {
  int error = 0;
  socklen_t length = sizeof(error);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) return -errno;
  return -error;
}

#else
int Listen(bool, const std::string&, int, int) { return -ENOSYS; }
int LocalPort(int) { return -ENOSYS; }
int Accept(int, std::string*, int*) { return -ENOSYS; }
int Connect(bool, const std::string&, int, bool*) { return -ENOSYS; }
int SocketError(int) { return -ENOSYS; }
int SetNonBlocking(int) { return -ENOSYS; }
#endif
}  // namespace os

using v8::FunctionCallbackInfo;
using v8::Isolate;
using v8::Local;
using v8::Value;

// The address text of argument `i`: a socket path (NUL bytes kept) or an IPv4 address.
std::string AddressArg(const FunctionCallbackInfo<Value>& args, int i) {
  v8::String::Utf8Value text(args.GetIsolate(), args[i]);
  return std::string(*text, static_cast<size_t>(text.length()));
}

// listenSocket(unix: boolean, address, port, backlog) -> fd | -errno
void ListenSocket(const FunctionCallbackInfo<Value>& args) {
  if (!args[1]->IsString()) return ThrowBadArgument(args.GetIsolate(), "listenSocket", "an address that is not a string");
  ReturnNumber(args, os::Listen(args[0]->IsTrue(), AddressArg(args, 1), IntArg(args, 2), IntArg(args, 3)));
}

// localPort(fd) -> port | -errno
void LocalPort(const FunctionCallbackInfo<Value>& args) { ReturnNumber(args, os::LocalPort(IntArg(args, 0))); }

// acceptSocket(fd) -> [fd, host, port] (host '' and port -1 for AF_UNIX) | -errno
void AcceptSocket(const FunctionCallbackInfo<Value>& args) {
  Isolate* isolate = args.GetIsolate();
  std::string host;
  int port = -1;
  int fd = os::Accept(IntArg(args, 0), &host, &port);
  if (fd < 0) return ReturnNumber(args, fd);
  Local<v8::Context> context = isolate->GetCurrentContext();
  Local<v8::Array> result = v8::Array::New(isolate, 3);
  result->Set(context, 0, v8::Integer::New(isolate, fd)).Check();
  result->Set(context, 1, v8::String::NewFromUtf8(isolate, host.c_str()).ToLocalChecked()).Check();
  result->Set(context, 2, v8::Integer::New(isolate, port)).Check();
  args.GetReturnValue().Set(result);
}

// connectSocket(unix: boolean, address, port) -> [fd, pending] | -errno
void ConnectSocket(const FunctionCallbackInfo<Value>& args) {
  Isolate* isolate = args.GetIsolate();
  if (!args[1]->IsString()) return ThrowBadArgument(isolate, "connectSocket", "an address that is not a string");
  bool pending = false;
  int fd = os::Connect(args[0]->IsTrue(), AddressArg(args, 1), IntArg(args, 2), &pending);
  if (fd < 0) return ReturnNumber(args, fd);
  Local<v8::Context> context = isolate->GetCurrentContext();
  Local<v8::Array> result = v8::Array::New(isolate, 2);
  result->Set(context, 0, v8::Integer::New(isolate, fd)).Check();
  result->Set(context, 1, v8::Boolean::New(isolate, pending)).Check();
  args.GetReturnValue().Set(result);
}

// socketError(fd) -> 0 | -errno
void SocketErrorFn(const FunctionCallbackInfo<Value>& args) { ReturnNumber(args, os::SocketError(IntArg(args, 0))); }

// setNonBlocking(fd) -> 0 | -errno
void SetNonBlockingFn(const FunctionCallbackInfo<Value>& args) { ReturnNumber(args, os::SetNonBlocking(IntArg(args, 0))); }

}  // namespace

void InitSockets(v8::Local<v8::Context> context, v8::Local<v8::Object> exports) {
  SetMethod(context, exports, "listenSocket", ListenSocket);
  SetMethod(context, exports, "localPort", LocalPort);
  SetMethod(context, exports, "acceptSocket", AcceptSocket);
  SetMethod(context, exports, "connectSocket", ConnectSocket);
  SetMethod(context, exports, "socketError", SocketErrorFn);
  SetMethod(context, exports, "setNonBlocking", SetNonBlockingFn);
}

}  // namespace mpjs
