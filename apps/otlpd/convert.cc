#include "apps/otlpd/convert.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>

#include "otlp/json_codec.h"

namespace otlpd {
namespace {

absl::StatusOr<std::string> read_input(const std::string& path) {
  std::ostringstream buffer;
  if (path.empty() || path == "-") {
    buffer << std::cin.rdbuf();
    return buffer.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot open " + path);
  buffer << in.rdbuf();
  return buffer.str();
}

absl::Status write_output(const std::string& path, const std::string& bytes) {
  if (path.empty() || path == "-") {
    std::cout.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    std::cout.flush();
    return std::cout ? absl::OkStatus() : absl::DataLossError("cannot write to stdout");
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  return out ? absl::OkStatus() : absl::DataLossError("cannot write " + path);
}

}  // namespace

absl::StatusOr<std::string> convert_payload(const ConvertOptions& options, std::string_view input) {
  std::string inflated;
  if (options.input_compression != otlp::Compression::kNone) {
    absl::StatusOr<std::string> out =
        otlp::decompress(options.input_compression, input, options.limits.max_message_bytes);
    if (!out.ok()) return out.status();
    inflated = std::move(*out);
    input = inflated;
  }
  google::protobuf::Arena arena;
  google::protobuf::Message* request = otlp::new_request(options.signal, &arena);
  absl::Status status = options.from == PayloadFormat::kJson
                            ? otlp::decode_json(input, *request, options.limits)
                            : otlp::decode_binary(input, *request, options.limits);
  if (!status.ok()) return status;
  absl::StatusOr<std::string> encoded =
      options.to == PayloadFormat::kJson
          ? otlp::encode_json(*request, otlp::JsonEncodeOptions{options.pretty})
          : otlp::encode_binary(*request);
  if (!encoded.ok()) return encoded.status();
  if (options.to == PayloadFormat::kJson) encoded->push_back('\n');  // a text file ends so
  if (options.output_compression == otlp::Compression::kNone) return encoded;
  return otlp::compress(options.output_compression, *encoded);
}

absl::Status run_convert(const ConvertOptions& options) {
  absl::StatusOr<std::string> input = read_input(options.input_path);
  if (!input.ok()) return input.status();
  absl::StatusOr<std::string> output = convert_payload(options, *input);
  if (!output.ok()) return output.status();
  return write_output(options.output_path, *output);
}

void add_convert_command(CLI::App& app, std::function<int()>* selected) {
  auto options = std::make_shared<ConvertOptions>();
  CLI::App* cmd =
      app.add_subcommand("convert", "Convert an OTLP payload between OTLP/JSON and OTLP/protobuf");
  const std::map<std::string, otlp::Signal> signals = {{"traces", otlp::Signal::kTraces},
                                                       {"metrics", otlp::Signal::kMetrics},
                                                       {"logs", otlp::Signal::kLogs},
                                                       {"profiles", otlp::Signal::kProfiles}};
  const std::map<std::string, PayloadFormat> formats = {{"json", PayloadFormat::kJson},
                                                        {"proto", PayloadFormat::kProto}};
  const std::map<std::string, otlp::Compression> codecs = {{"none", otlp::Compression::kNone},
                                                           {"gzip", otlp::Compression::kGzip},
                                                           {"deflate", otlp::Compression::kDeflate},
                                                           {"zstd", otlp::Compression::kZstd}};
  cmd->add_option("--signal", options->signal, "traces, metrics, logs or profiles")
      ->required()
      ->transform(CLI::CheckedTransformer(signals, CLI::ignore_case))
      ->option_text("traces|metrics|logs|profiles REQUIRED");
  cmd->add_option("--from", options->from, "input format: json or proto")
      ->required()
      ->transform(CLI::CheckedTransformer(formats, CLI::ignore_case))
      ->option_text("json|proto REQUIRED");
  cmd->add_option("--to", options->to, "output format: json or proto")
      ->required()
      ->transform(CLI::CheckedTransformer(formats, CLI::ignore_case))
      ->option_text("json|proto REQUIRED");
  cmd->add_flag("--pretty", options->pretty, "indent JSON output");
  cmd->add_option("--input-compression", options->input_compression, "decompress the input first")
      ->transform(CLI::CheckedTransformer(codecs, CLI::ignore_case))
      ->option_text("none|gzip|deflate|zstd");
  cmd->add_option("--output-compression", options->output_compression, "compress the output")
      ->transform(CLI::CheckedTransformer(codecs, CLI::ignore_case))
      ->option_text("none|gzip|deflate|zstd");
  cmd->add_option("--max-bytes", options->limits.max_message_bytes,
                  "largest accepted (decompressed) payload, in bytes")
      ->capture_default_str();
  cmd->add_option("--max-depth", options->limits.max_any_value_depth,
                  "deepest accepted AnyValue nesting")
      ->capture_default_str();
  cmd->add_option("IN", options->input_path, "input file (default: stdin)");
  cmd->add_option("OUT", options->output_path, "output file (default: stdout)");
  cmd->callback([options, selected] {
    *selected = [options] {
      absl::Status status = run_convert(*options);
      if (status.ok()) return 0;
      std::string where = options->input_path.empty() ? "stdin" : options->input_path;
      std::cerr << "otlpd convert: " << where << ": " << status.message() << "\n";
      return 1;
    };
  });
}

}  // namespace otlpd
