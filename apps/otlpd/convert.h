// `otlpd convert`: converts OTLP payloads between OTLP/JSON and OTLP/protobuf.
//
// Contract: convert_payload() is a pure function of its inputs; it decodes
// with the otlp layer's limits, so hostile input gives an error value, never a
// crash. run_convert() reads IN (a path, or stdin for "" or "-") and writes
// OUT (a path, or stdout), and reports failure as a Status whose message is
// ready for stderr.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "otlp/binary_codec.h"
#include "otlp/compression.h"
#include "otlp/signal.h"

namespace otlpd {

enum class PayloadFormat { kJson, kProto };

struct ConvertOptions {
  otlp::Signal signal = otlp::Signal::kTraces;
  PayloadFormat from = PayloadFormat::kJson;
  PayloadFormat to = PayloadFormat::kProto;
  bool pretty = false;  // indent JSON output
  otlp::Compression input_compression = otlp::Compression::kNone;
  otlp::Compression output_compression = otlp::Compression::kNone;
  otlp::DecodeLimits limits;
  std::string input_path;   // "" or "-": stdin
  std::string output_path;  // "" or "-": stdout
};

absl::StatusOr<std::string> convert_payload(const ConvertOptions& options, std::string_view input);

absl::Status run_convert(const ConvertOptions& options);

// Adds the `convert` subcommand to `app`; when the subcommand is chosen,
// *selected is set to the function that runs it and returns the exit code.
void add_convert_command(CLI::App& app, std::function<int()>* selected);

}  // namespace otlpd
