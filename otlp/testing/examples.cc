#include "otlp/testing/examples.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace otlp::testing {

std::string examples_dir() { return std::string(OTLP_TESTDATA_DIR) + "/examples"; }

std::vector<Example> load_examples() {
  std::vector<Example> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(examples_dir(), ec)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    Example example{entry.path().filename().string(), Signal::kTraces, text.str()};
    if (example.json.find("\"resourceMetrics\"") != std::string::npos) {
      example.signal = Signal::kMetrics;
    } else if (example.json.find("\"resourceLogs\"") != std::string::npos) {
      example.signal = Signal::kLogs;
    } else if (example.json.find("\"resourceProfiles\"") != std::string::npos) {
      example.signal = Signal::kProfiles;
    }
    out.push_back(std::move(example));
  }
  std::sort(out.begin(), out.end(),
            [](const Example& a, const Example& b) { return a.name < b.name; });
  return out;
}

}  // namespace otlp::testing
