#include "storage-lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace zts::addon {
namespace {

// Node's own errno names for the few errors open/flock give here.
const char* errnoCode(int err) {
  switch (err) {
    case EWOULDBLOCK:
      return "EWOULDBLOCK";
    case EACCES:
      return "EACCES";
    case ENOENT:
      return "ENOENT";
    case ENOTDIR:
      return "ENOTDIR";
    case EROFS:
      return "EROFS";
    case ENOLCK:
      return "ENOLCK";
    default:
      return "EIO";
  }
}

// The pid the holder wrote into the file, or 0.
long readHolderPid(int fd) {
  char buf[32] = {};
  const ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return 0;
  return std::strtol(buf, nullptr, 10);
}

Napi::Value LockStorage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string file = info[0].As<Napi::String>();
  // O_CLOEXEC: a child process must not inherit (and so keep) the lock.
  const int fd = open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  int err = fd < 0 ? errno : 0;
  if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) err = errno;
  if (err != 0) {
    Napi::Error e = Napi::Error::New(env, std::strerror(err));
    e.Set("code", errnoCode(err));
    e.Set("errno", Napi::Number::New(env, -err));
    if (fd >= 0) {
      if (const long pid = readHolderPid(fd); pid > 0) {
        e.Set("holderPid", Napi::Number::New(env, static_cast<double>(pid)));
      }
      close(fd);
    }
    e.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // Our pid, for the message a second process prints (the lock itself is the flock).
  const std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // Only the message loses its pid; the lock holds.
  }
  return Napi::Number::New(env, fd);
}

Napi::Value UnlockStorage(const Napi::CallbackInfo& info) {
  const int fd = info[0].As<Napi::Number>().Int32Value();
  if (fd >= 0) close(fd);  // closing the only descriptor drops the flock
  return info.Env().Undefined();
}

}  // namespace

void RegisterStorageLock(Napi::Env env, Napi::Object exports) {
  exports.Set("lockStorage", Napi::Function::New<LockStorage>(env, "lockStorage"));
  exports.Set("unlockStorage", Napi::Function::New<UnlockStorage>(env, "unlockStorage"));
}

}  // namespace zts::addon
