// libFuzzer entry point for otlp::fuzz::binary_decode (see harness.h).
#include <cstddef>
#include <cstdint>

#include "otlp/fuzz/harness.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  otlp::fuzz::initialize("binary_decode");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  otlp::fuzz::binary_decode(data, size);
  return 0;
}
