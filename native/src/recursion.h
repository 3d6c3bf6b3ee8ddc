// Native kernel-recursion steps (recursion.cc), registered on the addon's exports.
#pragma once
#include <napi.h>

namespace ntk {
void InitRecursion(Napi::Env env, Napi::Object exports);
}
