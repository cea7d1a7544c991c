// The lock of a storage folder: one node process per folder (an flock on <folder>/lock,
// held by an open file, so the kernel drops it when the process dies, however it dies).
#pragma once

#include <napi.h>

namespace zts::addon {

// exports.lockStorage(file) -> fd, or throws an Error with the errno `code`
// (EWOULDBLOCK: another process holds it) and `holderPid` when the file names one;
// exports.unlockStorage(fd).
void RegisterStorageLock(Napi::Env env, Napi::Object exports);

}  // namespace zts::addon
