// Functions for offline packet inspection (the `inspect` CLI): they authenticate and
// decode captured datagrams with keys the user supplies. No engine state is involved.
#pragma once

#include <napi.h>

namespace zts::addon {

void RegisterInspect(Napi::Env env, Napi::Object exports);

}  // namespace zts::addon
