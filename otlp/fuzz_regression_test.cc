// Replays every saved fuzz input (otlp/testdata/fuzz_regressions/<target>/*)
// through the same harness the fuzzers run (otlp/fuzz/harness.h). A crash the
// fuzzer finds is fixed, and its input is saved here so it stays fixed; the
// folder also holds hand-made inputs for the nastiest corners. Seeds are
// replayed too, so the harness invariants hold on well-formed input.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "otlp/fuzz/harness.h"

namespace otlp {
namespace {

TEST(FuzzRegressions, EverySavedInputPasses) {
  int replayed = 0;
  for (const fuzz::Target& target : fuzz::kTargets) {
    std::filesystem::path dir =
        std::filesystem::path(OTLP_FUZZ_REGRESSIONS) / std::string(target.name);
    if (!std::filesystem::exists(dir)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      std::ifstream in(entry.path(), std::ios::binary);
      std::ostringstream bytes;
      bytes << in.rdbuf();
      const std::string input = bytes.str();
      SCOPED_TRACE(entry.path().string());
      target.run(reinterpret_cast<const uint8_t*>(input.data()), input.size());
      ++replayed;
    }
  }
  EXPECT_GT(replayed, 0) << "no inputs under " << OTLP_FUZZ_REGRESSIONS;
}

TEST(FuzzRegressions, SeedsSatisfyTheHarnessInvariants) {
  for (const fuzz::Target& target : fuzz::kTargets) {
    std::vector<std::string> seeds = fuzz::seeds(target.name);
    EXPECT_GT(seeds.size(), 10u) << target.name;
    for (const std::string& seed : seeds) {
      target.run(reinterpret_cast<const uint8_t*>(seed.data()), seed.size());
    }
  }
}

TEST(FuzzRegressions, EdgeInputsDoNotCrash) {
  const std::string inputs[] = {"", std::string(1, '\0'), std::string(2, '\xff'),
                                std::string("\x00\x0a\xff\xff\xff\xff\x0f", 7),
                                std::string("\x01{\"resourceMetrics\":[{}]}")};
  for (const fuzz::Target& target : fuzz::kTargets) {
    for (const std::string& input : inputs) {
      target.run(reinterpret_cast<const uint8_t*>(input.data()), input.size());
    }
  }
}

}  // namespace
}  // namespace otlp
