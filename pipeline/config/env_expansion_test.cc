#include "pipeline/config/env_expansion.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace pipeline {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string message_of(const absl::Status& status) { return std::string(status.message()); }

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

const EnvLookup kEnv = env_of(
    {{"HOST", "db"}, {"PORT", "5432"}, {"EMPTY", ""}, {"DOLLAR", "$x"}, {"REF", "${env:HOST}"}});

std::string expand(std::string_view text) {
  absl::StatusOr<ExpandedText> got = expand_env_refs(text, kEnv);
  EXPECT_TRUE(got.ok()) << text << ": " << got.status();
  return got.ok() ? got->text : "<error>";
}

TEST(ExpandEnv, AllForms) {
  EXPECT_EQ(expand("${env:HOST}"), "db");
  EXPECT_EQ(expand("${HOST}"), "db");
  EXPECT_EQ(expand("${env:HOST}:${PORT}"), "db:5432");
  EXPECT_EQ(expand("tcp://${env:HOST}:${env:PORT}/x"), "tcp://db:5432/x");
  EXPECT_EQ(expand("${env:NOPE:-fallback}"), "fallback");
  EXPECT_EQ(expand("${NOPE:-a:-b}"), "a:-b");  // the first ":-" separates the default
  EXPECT_EQ(expand("${env:NOPE:-}"), "");
  EXPECT_EQ(expand("${env:HOST:-unused}"), "db");
  EXPECT_EQ(expand("plain text"), "plain text");
  EXPECT_EQ(expand(""), "");
}

TEST(ExpandEnv, DollarEscapesAndLoneDollars) {
  EXPECT_EQ(expand("$$"), "$");
  EXPECT_EQ(expand("$$$$"), "$$");
  EXPECT_EQ(expand("$${env:HOST}"), "${env:HOST}");
  EXPECT_EQ(expand("$$${env:HOST}"), "$db");
  EXPECT_EQ(expand("cost: $5"), "cost: $5");
  EXPECT_EQ(expand("$HOST"), "$HOST");  // bare $VAR is not expanded (as in the Collector)
  EXPECT_EQ(expand("ends with $"), "ends with $");
}

TEST(ExpandEnv, DefaultOnlyWhenUnset) {
  EXPECT_EQ(expand("${env:EMPTY:-x}"), "");  // set to "": stays "" (Collector, not shell)
}

TEST(ExpandEnv, DefaultsNestButValuesAreNotReexpanded) {
  EXPECT_EQ(expand("${env:NOPE:-${env:HOST}}"), "db");
  EXPECT_EQ(expand("${env:NOPE:-${NOPE2:-deep}}"), "deep");
  EXPECT_EQ(expand("${env:NOPE:-$${literal}}"), "${literal}");
  EXPECT_EQ(expand("${env:REF}"), "${env:HOST}");
  EXPECT_EQ(expand("${DOLLAR}"), "$x");
}

TEST(ExpandEnv, UnsetWithoutDefaultIsEmptyAndReported) {
  absl::StatusOr<ExpandedText> got = expand_env_refs("a${env:X}b${Y}c${X}", kEnv);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->text, "abc");
  EXPECT_THAT(got->unset_variables, ElementsAre("X", "Y", "X"));
  EXPECT_THAT(expand_env_refs("${env:NOPE:-d}", kEnv)->unset_variables, IsEmpty());
}

TEST(ExpandEnv, WholeValueIsExactlyOneReference) {
  EXPECT_TRUE(expand_env_refs("${env:PORT}", kEnv)->whole_value);
  EXPECT_TRUE(expand_env_refs("${NOPE:-${PORT}}", kEnv)->whole_value);
  EXPECT_FALSE(expand_env_refs("${env:HOST}:${env:PORT}", kEnv)->whole_value);
  EXPECT_FALSE(expand_env_refs(" ${env:PORT}", kEnv)->whole_value);
  EXPECT_FALSE(expand_env_refs("$${env:PORT}", kEnv)->whole_value);
  EXPECT_FALSE(expand_env_refs("5432", kEnv)->whole_value);
}

TEST(ExpandEnv, Errors) {
  EXPECT_EQ(message_of(expand_env_refs("${env:HOST", kEnv).status()),
            "unterminated \"${\" in \"${env:HOST\"; write \"$$\" for a literal \"$\"");
  EXPECT_EQ(message_of(expand_env_refs("${file:/etc/x}", kEnv).status()),
            "unsupported config source \"file\" in \"${file:/etc/x}\"; only ${env:NAME} "
            "references are supported");
  EXPECT_EQ(message_of(expand_env_refs("${}", kEnv).status()),
            "invalid environment variable name \"\" in \"${}\"; names are letters, digits and "
            "\"_\", not starting with a digit");
  EXPECT_EQ(message_of(expand_env_refs("${env:1X}", kEnv).status()),
            "invalid environment variable name \"1X\" in \"${env:1X}\"; names are letters, "
            "digits and \"_\", not starting with a digit");
  EXPECT_FALSE(expand_env_refs("${env:A-B}", kEnv).ok());
  EXPECT_EQ(expand_env_refs("${env:NOPE:-${env:", kEnv).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ExpandEnv, DeepNestingIsAnErrorNotACrash) {
  std::string text;
  for (int i = 0; i < 100; ++i) text += "${N:-";
  text += "x";
  for (int i = 0; i < 100; ++i) text += "}";
  EXPECT_EQ(message_of(expand_env_refs(text, kEnv).status()), "references are nested too deeply");
}

TEST(ExpandEnv, ProcessEnvReadsGetenv) {
  ASSERT_EQ(setenv("OTLPD_ENV_EXPANSION_TEST", "yes", 1), 0);
  EXPECT_EQ(process_env()("OTLPD_ENV_EXPANSION_TEST"), "yes");
  unsetenv("OTLPD_ENV_EXPANSION_TEST");
  EXPECT_EQ(process_env()("OTLPD_ENV_EXPANSION_TEST"), std::nullopt);
}

}  // namespace
}  // namespace pipeline
