// Planet (World) files from JS: read one, or make and sign a custom one.
#pragma once

#include <napi.h>

namespace zts::addon {

void RegisterWorld(Napi::Env env, Napi::Object exports);

}  // namespace zts::addon
