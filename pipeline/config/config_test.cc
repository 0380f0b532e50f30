// load_config(): files, merging, --set, env expansion, structure checks, warnings, and the
// exact messages for every bad_*.yaml in testdata/ (each file states its expected message on
// its first line).

#include "pipeline/config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace pipeline {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace std::chrono_literals;

const std::string kTestdata = PIPELINE_CONFIG_TESTDATA;

std::string testdata(const std::string& name) { return kTestdata + "/" + name; }

std::string message_of(const absl::Status& status) { return std::string(status.message()); }

EnvLookup fake_env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

LoadOptions files(std::vector<std::string> names, std::map<std::string, std::string> env = {}) {
  LoadOptions options;
  for (const std::string& name : names) options.files.push_back(testdata(name));
  options.env = fake_env(std::move(env));
  return options;
}

LoadOptions inline_yaml(std::string yaml, std::map<std::string, std::string> env = {}) {
  LoadOptions options;
  options.inline_yaml = std::move(yaml);
  options.inline_name = "config.yaml";
  options.env = fake_env(std::move(env));
  return options;
}

std::vector<std::string> strs(const std::vector<ComponentId>& ids) {
  std::vector<std::string> out;
  for (const ComponentId& id : ids) out.push_back(id.str());
  return out;
}

std::vector<std::string> keys_of(const std::map<ComponentId, ConfigNode>& section) {
  std::vector<std::string> out;
  for (const auto& [id, node] : section) out.push_back(id.str());
  return out;
}

const PipelineConfig& pipeline_of(const Config& config, std::string_view id) {
  return config.service.pipelines.at(*PipelineId::parse(id));
}

const ConfigNode& component(const std::map<ComponentId, ConfigNode>& section, std::string_view id) {
  return section.at(*ComponentId::parse(id));
}

constexpr std::string_view kMinimal = R"(
receivers:
  otlp:
exporters:
  debug:
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
)";

// ---- good configs -------------------------------------------------------------------------

TEST(LoadConfig, RealisticCollectorConfig) {
  absl::StatusOr<Config> config =
      load_config(files({"collector_full.yaml"}, {{"BACKEND_TOKEN", "s3cret"}}));
  ASSERT_TRUE(config.ok()) << config.status();

  EXPECT_THAT(keys_of(config->receivers), ElementsAre("otlp", "otlp/internal"));
  EXPECT_THAT(keys_of(config->processors), ElementsAre("batch", "batch/logs", "memory_limiter"));
  EXPECT_THAT(keys_of(config->exporters), ElementsAre("debug", "otlp", "otlphttp"));
  EXPECT_THAT(keys_of(config->connectors), ElementsAre("forward"));
  EXPECT_THAT(keys_of(config->extensions), ElementsAre("health_check", "zpages"));
  EXPECT_THAT(strs(config->service.extensions), ElementsAre("health_check"));
  EXPECT_EQ(config->service.log_level, "debug");
  ASSERT_TRUE(config->service.telemetry_metrics.has_value());
  EXPECT_EQ(*config->service.telemetry_metrics->string("level", ""), "detailed");

  ASSERT_EQ(config->service.pipelines.size(), 4u);
  const PipelineConfig& traces = pipeline_of(*config, "traces");
  EXPECT_THAT(strs(traces.receivers), ElementsAre("otlp"));
  EXPECT_THAT(strs(traces.processors), ElementsAre("memory_limiter", "batch"));
  EXPECT_THAT(strs(traces.exporters), ElementsAre("otlp", "forward"));
  const PipelineConfig& archive = pipeline_of(*config, "traces/archive");
  EXPECT_THAT(strs(archive.receivers), ElementsAre("forward"));
  EXPECT_THAT(strs(pipeline_of(*config, "metrics").receivers),
              ElementsAre("otlp", "otlp/internal"));
  EXPECT_THAT(strs(pipeline_of(*config, "logs").exporters), ElementsAre("otlphttp", "debug"));

  // Component settings, read the way component parsers will read them.
  ConfigNode grpc = component(config->receivers, "otlp").child("protocols").child("grpc");
  EXPECT_EQ(*grpc.string("endpoint", ""), "localhost:4317");  // ${env:...:-default}
  EXPECT_EQ(*grpc.mib("max_recv_msg_size_mib", 4), 16u << 20);
  ConfigNode otlp_exporter = component(config->exporters, "otlp");
  auto headers = otlp_exporter.string_map("headers");
  ASSERT_TRUE(headers.ok());
  EXPECT_EQ(headers->at("authorization"), "Bearer s3cret");
  EXPECT_EQ(*otlp_exporter.child("retry_on_failure").duration("max_elapsed_time", 0s), 5min);
  EXPECT_EQ(*component(config->processors, "batch").duration("timeout", 0s), 200ms);
  EXPECT_EQ(*component(config->processors, "memory_limiter").mib("limit_mib", 0), 4000ull << 20);

  // The unused extension is a warning, not an error.
  EXPECT_THAT(config->warnings, ElementsAre("extensions::zpages: configured but not listed in "
                                            "service::extensions (" +
                                            testdata("collector_full.yaml") + ":5:3)"));
}

TEST(LoadConfig, IdsRememberWhereTheyWereWritten) {
  absl::StatusOr<Config> config = load_config(files({"collector_full.yaml"}));
  ASSERT_TRUE(config.ok()) << config.status();
  const std::string file = testdata("collector_full.yaml");

  auto definition = config->receivers.find(*ComponentId::parse("otlp/internal"));
  ASSERT_NE(definition, config->receivers.end());
  EXPECT_EQ(definition->first.where(), (SourceLocation{file, 17, 3}));
  EXPECT_EQ(definition->second.where().line, 18);  // the settings map starts below the key

  const PipelineConfig& metrics = pipeline_of(*config, "metrics");
  EXPECT_EQ(metrics.where, (SourceLocation{file, 74, 5}));
  EXPECT_EQ(metrics.receivers[1].where(), (SourceLocation{file, 75, 25}));
  EXPECT_EQ(metrics.processors[0].where(), (SourceLocation{file, 76, 20}));
}

TEST(LoadConfig, MinimalConfigHasDefaults) {
  absl::StatusOr<Config> config = load_config(files({"minimal.yaml"}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->service.log_level, "info");
  EXPECT_FALSE(config->service.telemetry_metrics.has_value());
  EXPECT_THAT(config->service.extensions, IsEmpty());
  EXPECT_THAT(config->warnings, IsEmpty());
  EXPECT_THAT(pipeline_of(*config, "traces").processors, IsEmpty());
}

TEST(LoadConfig, EmptyComponentBehavesAsEmptyMap) {
  absl::StatusOr<Config> config = load_config(inline_yaml(R"(
receivers: {otlp: }
exporters:
  debug:
service:
  pipelines:
    traces: {receivers: [otlp], exporters: [debug]}
)"));
  ASSERT_TRUE(config.ok()) << config.status();
  const ConfigNode& otlp = component(config->receivers, "otlp");
  EXPECT_TRUE(otlp.empty());
  EXPECT_FALSE(otlp.has("protocols"));
  EXPECT_EQ(*otlp.string("endpoint", "localhost:4317"), "localhost:4317");
  EXPECT_TRUE(otlp.check_no_unknown_keys().ok());
  EXPECT_EQ(otlp.path(), "receivers::otlp");
}

TEST(LoadConfig, SingleIdWithoutBracketsIsAListOfOne) {
  absl::StatusOr<Config> config = load_config(inline_yaml(R"(
receivers: {otlp: }
exporters: {debug: }
service:
  extensions:
  pipelines:
    logs:
      receivers: otlp
      exporters: debug
)"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(strs(pipeline_of(*config, "logs").receivers), ElementsAre("otlp"));
  EXPECT_THAT(strs(pipeline_of(*config, "logs").exporters), ElementsAre("debug"));
}

TEST(LoadConfig, ProfilesPipelinesAndLogLevelCase) {
  absl::StatusOr<Config> config = load_config(inline_yaml(R"(
receivers: {otlp: }
exporters: {debug: }
service:
  telemetry: {logs: {level: WARN}}
  pipelines:
    profiles/1:
      receivers: [otlp]
      exporters: [debug]
)"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->service.log_level, "warn");
  ASSERT_EQ(config->service.pipelines.size(), 1u);
  EXPECT_EQ(config->service.pipelines.begin()->first.signal(), otlp::Signal::kProfiles);
  EXPECT_EQ(config->service.pipelines.begin()->first.name(), "1");
}

TEST(LoadConfig, LogEncodingAndInitialFields) {
  absl::StatusOr<Config> config = load_config(inline_yaml(R"(
receivers: {otlp: }
exporters: {debug: }
service:
  telemetry:
    logs: {encoding: JSON, initial_fields: {service: edge-gateway, replica: 3}}
  pipelines:
    traces: {receivers: [otlp], exporters: [debug]}
)"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->service.log_encoding, "json");
  using Field = std::pair<std::string, std::string>;
  EXPECT_THAT(config->service.log_initial_fields,
              ElementsAre(Field{"service", "edge-gateway"}, Field{"replica", "3"}));
}

TEST(LoadConfig, UnusedComponentsAreWarnings) {
  absl::StatusOr<Config> config = load_config(files({"unused_components.yaml"}));
  ASSERT_TRUE(config.ok()) << config.status();
  const std::string file = testdata("unused_components.yaml");
  EXPECT_THAT(
      config->warnings,
      ElementsAre(
          "receivers::zipkin: configured but not used in any pipeline (" + file + ":6:3)",
          "processors::batch: configured but not used in any pipeline (" + file + ":8:3)",
          "connectors::forward/unused: configured but not used in any pipeline (" + file + ":12:3)",
          "extensions::pprof: configured but not listed in service::extensions (" + file +
              ":3:3)"));
}

TEST(LoadConfig, ConnectorJoinsPipelines) {
  absl::StatusOr<Config> config = load_config(inline_yaml(R"(
receivers: {otlp: }
exporters: {debug: }
connectors: {forward: }
service:
  pipelines:
    traces/in: {receivers: [otlp], exporters: [forward]}
    traces/out: {receivers: [forward], exporters: [debug]}
    metrics: {receivers: [otlp], exporters: [debug]}
)"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(config->warnings, IsEmpty());
}

TEST(LoadConfig, ReportsEveryProblemOnePerLine) {
  absl::StatusOr<Config> config = load_config(inline_yaml(R"(receivers: {otlp: }
exporters: {debug: }
service:
  pipelines:
    traces: {receivers: [otlp, zipkin], exporters: [debug, kafka]}
    logs: {receivers: [otlp]}
)"));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(message_of(config.status()),
            "service::pipelines::traces: references receiver \"zipkin\" which is not "
            "configured (config.yaml:5:32)\n"
            "service::pipelines::traces: references exporter \"kafka\" which is not "
            "configured (config.yaml:5:60)\n"
            "service::pipelines::logs: must have at least one exporter (config.yaml:6:5)");
}

// ---- files and sources ------------------------------------------------------------------

TEST(LoadConfig, MissingFileNamesPathAndReason) {
  absl::StatusOr<Config> config = load_config(files({"does_not_exist.yaml"}));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(message_of(config.status()), "cannot read config file \"" +
                                             testdata("does_not_exist.yaml") +
                                             "\": No such file or directory");
}

TEST(LoadConfig, DirectoryIsNotAConfigFile) {
  LoadOptions options;
  options.files = {kTestdata};
  absl::StatusOr<Config> config = load_config(options);
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(message_of(config.status()),
              HasSubstr("cannot read config file \"" + kTestdata + "\": Is a directory"));
}

TEST(LoadConfig, NeedsExactlyOneKindOfSource) {
  LoadOptions none;
  EXPECT_EQ(message_of(load_config(none).status()),
            "no configuration given: pass at least one --config file");
  LoadOptions both = files({"minimal.yaml"});
  both.inline_yaml = std::string(kMinimal);
  EXPECT_EQ(message_of(load_config(both).status()),
            "LoadOptions: give either files or inline_yaml, not both");
}

TEST(LoadConfig, InlineYamlIsNamedInMessages) {
  LoadOptions options;
  options.inline_yaml = "receivers: [oops";
  EXPECT_THAT(message_of(load_config(options).status()), HasSubstr("(<inline>:1:"));
  options.inline_name = "built-in default config";
  EXPECT_THAT(message_of(load_config(options).status()), HasSubstr("(built-in default config:1:"));
}

TEST(LoadConfig, HostileTextIsAnErrorNeverACrash) {
  const std::vector<std::string> inputs = {
      "\t receivers: x",
      std::string("a: \0\xff\xfe", 7),
      std::string(5000, '['),
      std::string(5000, '{'),
      "a: *undefined_alias",
      "a: &x [*x]",
      "? ? ? ?",
      "receivers: !!binary AAAA",
      "%YAML 9.9\n---\na: 1",
      "\"unterminated",
  };
  for (const std::string& text : inputs) {
    LoadOptions options;
    options.inline_yaml = text;
    absl::StatusOr<Config> config = load_config(options);
    EXPECT_FALSE(config.ok()) << text;
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << config.status();
  }
}

// ---- merging ------------------------------------------------------------------------------

TEST(LoadConfig, LaterFilesMergeMapsAndReplaceScalarsAndLists) {
  absl::StatusOr<Config> config = load_config(files({"merge_base.yaml", "merge_override.yaml"}));
  ASSERT_TRUE(config.ok()) << config.status();

  ConfigNode protocols = component(config->receivers, "otlp").child("protocols");
  EXPECT_THAT(protocols.keys(), ElementsAre("grpc", "http"));  // maps merged
  EXPECT_EQ(*protocols.child("grpc").string("endpoint", ""), "localhost:4317");
  EXPECT_EQ(*protocols.child("http").string("endpoint", ""), "localhost:4318");

  const ConfigNode& batch = component(config->processors, "batch");
  EXPECT_EQ(*batch.duration("timeout", 0s), 5s);         // scalar replaced
  EXPECT_EQ(*batch.uint64("send_batch_size", 0), 100u);  // untouched key kept
  EXPECT_EQ(*component(config->exporters, "otlp").string("endpoint", ""), "b.example.com:4317");
  // Lists are replaced, not appended: debug is no longer in the pipeline.
  EXPECT_THAT(strs(pipeline_of(*config, "traces").exporters), ElementsAre("otlp"));
  EXPECT_THAT(config->warnings,
              ElementsAre("exporters::debug: configured but not used in any pipeline (" +
                          testdata("merge_base.yaml") + ":11:3)"));
}

TEST(LoadConfig, MergeOrderDecides) {
  absl::StatusOr<Config> config = load_config(files({"merge_override.yaml", "merge_base.yaml"}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(*component(config->processors, "batch").duration("timeout", 0s), 1s);
  EXPECT_EQ(*component(config->exporters, "otlp").string("endpoint", ""), "a.example.com:4317");
  EXPECT_THAT(strs(pipeline_of(*config, "traces").exporters), ElementsAre("debug", "otlp"));
}

TEST(LoadConfig, EmptyValueKeepsEarlierMapButClearsScalar) {
  absl::StatusOr<Config> config = load_config(files({"merge_base.yaml", "merge_null.yaml"}));
  ASSERT_TRUE(config.ok()) << config.status();
  // `otlp:` (empty) over a map keeps the map...
  EXPECT_TRUE(component(config->receivers, "otlp").child("protocols").has("grpc"));
  // ...but an empty scalar replaces the earlier value, so the default applies.
  const ConfigNode& batch = component(config->processors, "batch");
  EXPECT_EQ(*batch.uint64("send_batch_size", 8192), 8192u);
  EXPECT_EQ(*batch.duration("timeout", 0s), 1s);
}

TEST(LoadConfig, MessagesNameTheFileAValueCameFrom) {
  LoadOptions options = files({"merge_base.yaml", "merge_override.yaml"});
  options.sets = {"processors.batch.send_batch_size=lots"};
  absl::StatusOr<Config> config = load_config(options);
  ASSERT_TRUE(config.ok()) << config.status();
  const ConfigNode& batch = component(config->processors, "batch");
  EXPECT_EQ(batch.duration("timeout", 0s).status(), absl::OkStatus());
  EXPECT_EQ(
      message_of(component(config->exporters, "otlp").error_at("endpoint", "unreachable")),
      "exporters::otlp::endpoint: unreachable (" + testdata("merge_override.yaml") + ":11:15)");
  EXPECT_EQ(message_of(batch.uint64("send_batch_size", 0).status()),
            "processors::batch::send_batch_size: expected an unsigned integer, got \"lots\" "
            "(--set processors.batch.send_batch_size=lots)");
}

// ---- --set --------------------------------------------------------------------------------

TEST(LoadConfigSet, OverridesAScalar) {
  LoadOptions options = files({"merge_base.yaml"});
  options.sets = {"processors.batch.timeout=1m30s"};
  absl::StatusOr<Config> config = load_config(options);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(*component(config->processors, "batch").duration("timeout", 0s), 90s);
  EXPECT_EQ(*component(config->processors, "batch").uint64("send_batch_size", 0), 100u);
}

TEST(LoadConfigSet, ValueIsYamlSoListsWork) {
  LoadOptions options = files({"merge_base.yaml"});
  options.sets = {"service.pipelines.traces.exporters=[debug]"};
  absl::StatusOr<Config> config = load_config(options);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(strs(pipeline_of(*config, "traces").exporters), ElementsAre("debug"));
}

TEST(LoadConfigSet, CreatesMissingMapsAndLists) {
  LoadOptions options = inline_yaml("receivers: {otlp: }\nexporters: {debug: }\n");
  options.sets = {
      "processors.batch/small.send_batch_size=10", "service.pipelines.traces.receivers=[otlp]",
      "service.pipelines.traces.processors=[batch/small]",
      "service.pipelines.traces.exporters=[debug]", "service.telemetry.logs.level=error"};
  absl::StatusOr<Config> config = load_config(options);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(*component(config->processors, "batch/small").uint64("send_batch_size", 0), 10u);
  EXPECT_THAT(strs(pipeline_of(*config, "traces").processors), ElementsAre("batch/small"));
  EXPECT_EQ(config->service.log_level, "error");
}

TEST(LoadConfigSet, MapValueMergesAndLaterSetWins) {
  LoadOptions options = files({"merge_base.yaml"});
  options.sets = {"receivers.otlp.protocols={http: {endpoint: 0.0.0.0:4318}}",
                  "processors.batch.timeout=2s", "processors.batch.timeout=3s"};
  absl::StatusOr<Config> config = load_config(options);
  ASSERT_TRUE(config.ok()) << config.status();
  ConfigNode protocols = component(config->receivers, "otlp").child("protocols");
  EXPECT_THAT(protocols.keys(), ElementsAre("grpc", "http"));
  EXPECT_EQ(*protocols.child("http").string("endpoint", ""), "0.0.0.0:4318");
  EXPECT_EQ(*component(config->processors, "batch").duration("timeout", 0s), 3s);
}

TEST(LoadConfigSet, DoubleColonReachesNamesWithDots) {
  LoadOptions options = files({"merge_base.yaml"});
  options.sets = {"exporters::otlp/eu.west::endpoint=eu.example.com:4317",
                  "service::pipelines::traces::exporters=[otlp/eu.west]"};
  absl::StatusOr<Config> config = load_config(options);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(*component(config->exporters, "otlp/eu.west").string("endpoint", ""),
            "eu.example.com:4317");
}

TEST(LoadConfigSet, ValuesAreExpanded) {
  LoadOptions options = files({"merge_base.yaml"}, {{"TIMEOUT", "7s"}});
  options.sets = {"processors.batch.timeout=${env:TIMEOUT}"};
  absl::StatusOr<Config> config = load_config(options);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(*component(config->processors, "batch").duration("timeout", 0s), 7s);
}

TEST(LoadConfigSet, MalformedArguments) {
  LoadOptions options = files({"merge_base.yaml"});
  options.sets = {"processors.batch.timeout"};
  EXPECT_EQ(message_of(load_config(options).status()),
            "--set \"processors.batch.timeout\": expected key.path=value, e.g. "
            "processors.batch.timeout=1s");
  options.sets = {"processors..timeout=1s"};
  EXPECT_EQ(message_of(load_config(options).status()),
            "--set \"processors..timeout=1s\": the key path \"processors..timeout\" has an "
            "empty part");
  options.sets = {"service.pipelines.traces.receivers=[otlp"};
  EXPECT_THAT(message_of(load_config(options).status()),
              HasSubstr("invalid YAML: end of sequence flow not found (--set "
                        "service.pipelines.traces.receivers=[otlp)"));
}

TEST(LoadConfigSet, CanBreakTheStructureAndIsToldSo) {
  LoadOptions options = files({"merge_base.yaml"});
  options.sets = {"service.pipelines.traces.receivers=[otlp/2]"};
  EXPECT_EQ(message_of(load_config(options).status()),
            "service::pipelines::traces: references receiver \"otlp/2\" which is not configured "
            "(--set service.pipelines.traces.receivers=[otlp/2])");
}

// ---- environment --------------------------------------------------------------------------

TEST(LoadConfigEnv, ExpandsEveryForm) {
  absl::StatusOr<Config> config =
      load_config(inline_yaml(R"(
receivers:
  otlp:
    a: ${env:HOST}:${PORT}
    b: ${env:MISSING:-fallback}
    c: price is $$5 and $${env:HOST} stays
    d: ${env:EMPTY:-not used}
    e: "${env:PORT}"
    f: $HOST is not a reference
exporters: {debug: }
service:
  pipelines:
    traces: {receivers: [otlp], exporters: [debug]}
)",
                              {{"HOST", "collector"}, {"PORT", "4317"}, {"EMPTY", ""}}));
  ASSERT_TRUE(config.ok()) << config.status();
  const ConfigNode& otlp = component(config->receivers, "otlp");
  EXPECT_EQ(*otlp.string("a", ""), "collector:4317");
  EXPECT_EQ(*otlp.string("b", ""), "fallback");
  EXPECT_EQ(*otlp.string("c", ""), "price is $5 and ${env:HOST} stays");
  EXPECT_EQ(*otlp.string("d", "default"), "default");  // set but empty: empty value → default
  EXPECT_EQ(*otlp.string("e", ""), "4317");
  EXPECT_EQ(*otlp.string("f", ""), "$HOST is not a reference");
  EXPECT_THAT(config->warnings, IsEmpty());
}

TEST(LoadConfigEnv, UnsetVariableIsEmptyAndWarned) {
  absl::StatusOr<Config> config = load_config(inline_yaml(R"(receivers:
  otlp:
    endpoint: host-${env:NOPE}
    port: ${env:NOPE}
exporters: {debug: }
service:
  pipelines:
    traces: {receivers: [otlp], exporters: [debug]}
)"));
  ASSERT_TRUE(config.ok()) << config.status();
  const ConfigNode& otlp = component(config->receivers, "otlp");
  EXPECT_EQ(*otlp.string("endpoint", ""), "host-");
  EXPECT_EQ(*otlp.uint64("port", 4317), 4317u);  // an empty whole value means "default"
  EXPECT_THAT(config->warnings,
              ElementsAre("receivers::otlp::endpoint: environment variable \"NOPE\" is not "
                          "set; using \"\" (config.yaml:3:15)",
                          "receivers::otlp::port: environment variable \"NOPE\" is not set; "
                          "using \"\" (config.yaml:4:11)"));
}

TEST(LoadConfigEnv, WholeValueKeepsYamlTyping) {
  absl::StatusOr<Config> config = load_config(inline_yaml(
      R"(
receivers:
  otlp:
    port: ${env:PORT}
    ratio: ${env:RATIO}
    secret: ${env:SECRET}
    quoted: "${env:LIST}"
exporters: {debug: }
service:
  pipelines:
    traces:
      receivers: ${env:LIST}
      exporters: [debug]
)",
      {{"PORT", "4317"}, {"RATIO", "0.25"}, {"LIST", "[otlp]"}, {"SECRET", "user: pass"}}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(strs(pipeline_of(*config, "traces").receivers), ElementsAre("otlp"));
  const ConfigNode& otlp = component(config->receivers, "otlp");
  EXPECT_EQ(*otlp.uint64("port", 0), 4317u);
  EXPECT_EQ(*otlp.float64("ratio", 0), 0.25);
  // Read as YAML it is a map, but a string accessor gets the text that was expanded.
  EXPECT_EQ(*otlp.string("secret", ""), "user: pass");
  // Quoted values are never retyped.
  EXPECT_EQ(*otlp.string("quoted", ""), "[otlp]");
  EXPECT_THAT(otlp.string_list("quoted").value(), ElementsAre("[otlp]"));
}

TEST(LoadConfigEnv, KeysAreNotExpanded) {
  absl::StatusOr<Config> config = load_config(inline_yaml(R"(
receivers:
  ${env:NAME}:
exporters: {debug: }
service:
  pipelines:
    traces: {receivers: [otlp], exporters: [debug]}
)",
                                                          {{"NAME", "otlp"}}));
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(message_of(config.status()),
              HasSubstr("receivers: invalid component id \"${env:NAME}\""));
}

TEST(LoadConfigEnv, DefaultLookupReadsTheProcessEnvironment) {
  ASSERT_EQ(setenv("OTLPD_CONFIG_TEST_EXPORTER", "debug", 1), 0);
  LoadOptions options;
  options.inline_yaml = R"(
receivers: {otlp: }
exporters: {debug: }
service:
  pipelines:
    traces: {receivers: [otlp], exporters: ["${env:OTLPD_CONFIG_TEST_EXPORTER}"]}
)";
  absl::StatusOr<Config> config = load_config(options);
  unsetenv("OTLPD_CONFIG_TEST_EXPORTER");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(strs(pipeline_of(*config, "traces").exporters), ElementsAre("debug"));
}

// ---- bad configs: testdata/bad_*.yaml ----------------------------------------------------

std::vector<std::string> bad_files() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(kTestdata)) {
    std::string name = entry.path().filename().string();
    if (name.starts_with("bad_") && name.ends_with(".yaml")) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The first line of each bad file is "# error: <message>", {file} standing for its path.
std::string expected_error(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  const std::string prefix = "# error: ";
  if (!line.starts_with(prefix)) return "";
  std::string expected = line.substr(prefix.size());
  for (size_t at; (at = expected.find("{file}")) != std::string::npos;) {
    expected.replace(at, 6, path);
  }
  return expected;
}

class BadConfig : public ::testing::TestWithParam<std::string> {};

TEST_P(BadConfig, FailsWithThePromisedMessage) {
  const std::string path = testdata(GetParam());
  const std::string expected = expected_error(path);
  ASSERT_FALSE(expected.empty()) << path << " does not start with \"# error: \"";
  LoadOptions options;
  options.files = {path};
  options.env = fake_env({});
  absl::StatusOr<Config> config = load_config(options);
  ASSERT_FALSE(config.ok()) << path << " loaded without error";
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(message_of(config.status()), HasSubstr(expected));
}

INSTANTIATE_TEST_SUITE_P(Testdata, BadConfig, ::testing::ValuesIn(bad_files()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param.substr(0, info.param.size() - 5);
                           return name;
                         });

TEST(BadConfigs, AllArePresent) {
  // Guards against a testdata path that silently lists nothing.
  EXPECT_GE(bad_files().size(), 30u);
}

}  // namespace
}  // namespace pipeline
