// libFuzzer entry point for otlp::fuzz::wire_split (see harness.h).
#include <cstddef>
#include <cstdint>

#include "otlp/fuzz/harness.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  otlp::fuzz::initialize("wire_split");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  otlp::fuzz::wire_split(data, size);
  return 0;
}
