#include "apps/otlpd/convert.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "otlp/errors.h"
#include "otlp/json_codec.h"
#include "otlp/testing/examples.h"

namespace otlpd {
namespace {

ConvertOptions options(otlp::Signal signal, PayloadFormat from, PayloadFormat to) {
  ConvertOptions o;
  o.signal = signal;
  o.from = from;
  o.to = to;
  return o;
}

TEST(Convert, ExamplesGoToProtoAndBack) {
  for (const otlp::testing::Example& example : otlp::testing::load_examples()) {
    SCOPED_TRACE(example.name);
    absl::StatusOr<std::string> proto = convert_payload(
        options(example.signal, PayloadFormat::kJson, PayloadFormat::kProto), example.json);
    ASSERT_TRUE(proto.ok()) << proto.status();
    absl::StatusOr<std::string> json = convert_payload(
        options(example.signal, PayloadFormat::kProto, PayloadFormat::kJson), *proto);
    ASSERT_TRUE(json.ok());
    absl::StatusOr<std::string> proto_again = convert_payload(
        options(example.signal, PayloadFormat::kJson, PayloadFormat::kProto), *json);
    ASSERT_TRUE(proto_again.ok());
    EXPECT_EQ(*proto_again, *proto);
  }
}

TEST(Convert, CompressionOnBothSides) {
  for (const otlp::testing::Example& example : otlp::testing::load_examples()) {
    ConvertOptions to_zstd = options(example.signal, PayloadFormat::kJson, PayloadFormat::kProto);
    to_zstd.output_compression = otlp::Compression::kZstd;
    std::string packed = *convert_payload(to_zstd, example.json);
    ConvertOptions back = options(example.signal, PayloadFormat::kProto, PayloadFormat::kJson);
    back.input_compression = otlp::Compression::kZstd;
    absl::StatusOr<std::string> json = convert_payload(back, packed);
    ASSERT_TRUE(json.ok()) << json.status();
    auto decoded = otlp::new_request(example.signal);
    EXPECT_TRUE(otlp::decode_json(*json, *decoded).ok());
  }
}

TEST(Convert, BadInputIsAnErrorNamingThePath) {
  absl::StatusOr<std::string> out = convert_payload(
      options(otlp::Signal::kLogs, PayloadFormat::kJson, PayloadFormat::kProto),
      "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"spanId\":\"zz\"}]}]}]}");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().message(),
            "resourceLogs[0].scopeLogs[0].logRecords[0].spanId: invalid hex id");
}

// ---- the executable, as a user runs it ------------------------------------------

struct CommandResult {
  int exit_code;
  std::string stdout_text;
  std::string stderr_text;
};

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

CommandResult run(const std::string& args, const std::filesystem::path& dir) {
  std::string cmd = std::string(OTLPD_BINARY) + " " + args + " >" + (dir / "stdout").string() +
                    " 2>" + (dir / "stderr").string();
  int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(dir / "stdout"),
          slurp(dir / "stderr")};
}

class ConvertBinary : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("otlpd_convert_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(ConvertBinary, Version) {
  CommandResult r = run("--version", dir_);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.stdout_text.find("otlpd "), std::string::npos);
}

TEST_F(ConvertBinary, FilesRoundTripAndStdinStdoutWork) {
  for (const otlp::testing::Example& example : otlp::testing::load_examples()) {
    SCOPED_TRACE(example.name);
    std::string signal(otlp::signal_name(example.signal));
    std::string in = (otlp::testing::examples_dir() + "/" + example.name);
    std::filesystem::path pb = dir_ / "out.pb";
    std::filesystem::path json = dir_ / "out.json";
    CommandResult to_proto = run(
        "convert --signal " + signal + " --from json --to proto " + in + " " + pb.string(), dir_);
    ASSERT_EQ(to_proto.exit_code, 0) << to_proto.stderr_text;
    CommandResult to_json =
        run("convert --signal " + signal + " --from proto --to json < " + pb.string(), dir_);
    ASSERT_EQ(to_json.exit_code, 0) << to_json.stderr_text;
    std::ofstream(json, std::ios::binary) << to_json.stdout_text;
    CommandResult again =
        run("convert --signal " + signal + " --from json --to proto " + json.string(), dir_);
    ASSERT_EQ(again.exit_code, 0);
    EXPECT_EQ(again.stdout_text, slurp(pb));
  }
}

TEST_F(ConvertBinary, ErrorsGoToStderrWithNonZeroExit) {
  std::ofstream(dir_ / "bad.json")
      << "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":1}]}]}]}";
  CommandResult r =
      run("convert --signal traces --from json --to proto " + (dir_ / "bad.json").string(), dir_);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(r.stdout_text.empty());
  EXPECT_NE(r.stderr_text.find("resourceSpans[0].scopeSpans[0].spans[0].traceId"),
            std::string::npos)
      << r.stderr_text;

  CommandResult missing =
      run("convert --signal traces --from json --to proto /nonexistent/file", dir_);
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.stderr_text.find("cannot open"), std::string::npos);

  CommandResult bad_signal = run("convert --signal spans --from json --to proto", dir_);
  EXPECT_NE(bad_signal.exit_code, 0);
  EXPECT_FALSE(bad_signal.stderr_text.empty());
}

}  // namespace
}  // namespace otlpd
