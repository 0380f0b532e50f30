// libFuzzer entry point for otlp::fuzz::binary_validate (see harness.h).
#include <cstddef>
#include <cstdint>

#include "otlp/fuzz/harness.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  otlp::fuzz::initialize("binary_validate");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  otlp::fuzz::binary_validate(data, size);
  return 0;
}
