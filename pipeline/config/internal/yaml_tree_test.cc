#include "pipeline/config/internal/yaml_tree.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace pipeline::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string message_of(const absl::Status& status) { return std::string(status.message()); }

YamlValuePtr parse(std::string_view text, const std::string& source = "t.yaml") {
  absl::StatusOr<YamlValuePtr> tree = parse_yaml(text, source);
  EXPECT_TRUE(tree.ok()) << tree.status();
  return tree.ok() ? *tree : make_null({});
}

// A compact rendering for assertions: {a: x, b: [1, 2]}, null as ~.
std::string render(const YamlValue& v) {
  switch (v.kind) {
    case YamlKind::kNull:
      return "~";
    case YamlKind::kScalar:
      return v.scalar;
    case YamlKind::kSequence: {
      std::string out = "[";
      for (size_t i = 0; i < v.items.size(); ++i) {
        out += (i ? ", " : "") + render(*v.items[i]);
      }
      return out + "]";
    }
    case YamlKind::kMap: {
      std::string out = "{";
      for (size_t i = 0; i < v.entries.size(); ++i) {
        out += (i ? ", " : "") + v.entries[i].key + ": " + render(*v.entries[i].value);
      }
      return out + "}";
    }
  }
  return "?";
}

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(ParseYaml, KeepsOrderKindsAndPositions) {
  YamlValuePtr root = parse("b: 1\na:\n  - x\n  - 'y'\nc:\nd: {e: f}\n");
  EXPECT_EQ(render(*root), "{b: 1, a: [x, y], c: ~, d: {e: f}}");
  EXPECT_EQ(root->where, (SourceLocation{"t.yaml", 1, 1}));
  const YamlEntry* a = root->find("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->key_where, (SourceLocation{"t.yaml", 2, 1}));
  EXPECT_EQ(a->value->items[1]->where, (SourceLocation{"t.yaml", 4, 5}));
  EXPECT_TRUE(a->value->items[0]->plain);
  EXPECT_FALSE(a->value->items[1]->plain);  // quoted
  // An empty value is placed at its key, not at the next token yaml-cpp points to.
  EXPECT_EQ(root->find("c")->value->where, (SourceLocation{"t.yaml", 5, 1}));
  EXPECT_EQ(root->find("d")->value->find("e")->value->where, (SourceLocation{"t.yaml", 6, 8}));
}

TEST(ParseYaml, NullSpellingsAndTaggedStrings) {
  YamlValuePtr root = parse("a: ~\nb: null\nc: 'null'\nd: !!str 5\n");
  EXPECT_EQ(root->find("a")->value->kind, YamlKind::kNull);
  EXPECT_EQ(root->find("b")->value->kind, YamlKind::kNull);
  EXPECT_EQ(root->find("c")->value->kind, YamlKind::kScalar);
  EXPECT_FALSE(root->find("d")->value->plain);
}

TEST(ParseYaml, EmptyTextIsNull) {
  EXPECT_EQ(parse("")->kind, YamlKind::kNull);
  EXPECT_EQ(parse("# only a comment\n")->kind, YamlKind::kNull);
}

TEST(ParseYaml, AliasesAreCopied) {
  YamlValuePtr root = parse("a: &shared {k: v}\nb: *shared\n");
  EXPECT_EQ(render(*root), "{a: {k: v}, b: {k: v}}");
  EXPECT_NE(root->find("a")->value.get(), root->find("b")->value.get());
}

TEST(ParseYaml, Errors) {
  EXPECT_EQ(message_of(parse_yaml("a: [1\nb: 2\n", "f.yaml").status()),
            "invalid YAML: end of sequence flow not found (f.yaml:2:2)");
  EXPECT_EQ(message_of(parse_yaml("a: 1\na: 2\n", "f.yaml").status()),
            "duplicate key \"a\" (f.yaml:2:1); first defined at f.yaml:1:1");
  EXPECT_EQ(message_of(parse_yaml("? [a]\n: 1\n", "f.yaml").status()),
            "map keys must be text, not a list or a map (f.yaml:1:3)");
  EXPECT_EQ(message_of(parse_yaml("a: 1\n---\nb: 2\n", "f.yaml").status()),
            "a config holds one YAML document, this one has 2 (f.yaml)");
  EXPECT_EQ(message_of(parse_yaml("a: [1", "--set a=[1", false).status()),
            "invalid YAML: end of sequence flow not found (--set a=[1)");
}

TEST(ParseYaml, AliasBombIsRefused) {
  // Each level doubles the size: 2^25 values if expanded.
  std::string text = "a0: &a0 [x, x]\n";
  for (int i = 1; i <= 25; ++i) {
    std::string prev = "a" + std::to_string(i - 1);
    text +=
        "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [*" + prev + ", *" + prev + "]\n";
  }
  absl::StatusOr<YamlValuePtr> tree = parse_yaml(text, "bomb.yaml");
  ASSERT_FALSE(tree.ok());
  EXPECT_THAT(message_of(tree.status()), ::testing::HasSubstr("values (an alias expanding"));
}

TEST(ParseYaml, DeepNestingAndSelfAliasesAreRefused) {
  EXPECT_EQ(message_of(parse_yaml("a: &x [*x]\n", "f.yaml").status()),
            "values are nested more than 128 levels deep (an alias inside its own anchor?) "
            "(f.yaml:1:4)");
  std::string deep;
  for (int i = 0; i < 200; ++i) deep += "- ";
  deep += "x\n";
  EXPECT_THAT(message_of(parse_yaml(deep, "f.yaml").status()),
              ::testing::HasSubstr("values are nested more than 128 levels deep"));
  std::string fine;
  for (int i = 0; i < 100; ++i) fine += "- ";
  EXPECT_TRUE(parse_yaml(fine + "x\n", "f.yaml").ok());
}

TEST(ParseYaml, PositionsCanBeOmitted) {
  absl::StatusOr<YamlValuePtr> tree = parse_yaml("{a: 1}", "--set x={a: 1}", false);
  ASSERT_TRUE(tree.ok());
  EXPECT_EQ((*tree)->find("a")->value->where, (SourceLocation{"--set x={a: 1}", 0, 0}));
}

TEST(MergeYaml, MapsMergeOtherValuesReplace) {
  YamlValuePtr base = parse("a: {x: 1, y: [1, 2]}\nb: keep\nc: {z: 1}\n", "base.yaml");
  merge_yaml(base, parse("a: {y: [3], w: 4}\nc: scalar\nd: new\n", "over.yaml"));
  EXPECT_EQ(render(*base), "{a: {x: 1, y: [3], w: 4}, b: keep, c: scalar, d: new}");
  EXPECT_EQ(base->find("a")->value->find("x")->value->where.file, "base.yaml");
  EXPECT_EQ(base->find("a")->value->find("w")->value->where.file, "over.yaml");
}

TEST(MergeYaml, NullKeepsAMapButReplacesAScalar) {
  YamlValuePtr base = parse("a: {x: 1}\nb: 2\n");
  merge_yaml(base, parse("a:\nb:\n"));
  EXPECT_EQ(render(*base), "{a: {x: 1}, b: ~}");
  YamlValuePtr root = parse("a: 1\n");
  merge_yaml(root, parse(""));  // an empty file changes nothing
  EXPECT_EQ(render(*root), "{a: 1}");
}

TEST(SetYamlPath, CreatesLevelsAndReplacesNonMaps) {
  YamlValuePtr root = parse("a: {b: 1}\ns: text\n");
  set_yaml_path(root, {"a", "c", "d"}, parse("[x]"));
  set_yaml_path(root, {"s", "t"}, parse("2"));
  set_yaml_path(root, {"new"}, parse("{k: v}"));
  EXPECT_EQ(render(*root), "{a: {b: 1, c: {d: [x]}}, s: {t: 2}, new: {k: v}}");
  YamlValuePtr empty = make_null({});
  set_yaml_path(empty, {"x", "y"}, parse("1"));
  EXPECT_EQ(render(*empty), "{x: {y: 1}}");
}

TEST(ExpandEnvInTree, ScalarsOnlyAndRetypingOfPlainWholeValues) {
  YamlValuePtr root = parse(
      "${env:K}: ${env:V}\nlist:\n  - \"${env:L}\"\n  - ${env:L}\nn: ${env:UNSET}\nm: ${env:M}\n");
  std::vector<std::string> warnings;
  ASSERT_TRUE(
      expand_env_in_tree(root, "", env_of({{"V", "v"}, {"L", "[a, b]"}, {"M", "k: v"}}), &warnings)
          .ok());
  EXPECT_EQ(render(*root), "{${env:K}: v, list: [[a, b], [a, b]], n: ~, m: {k: v}}");
  EXPECT_EQ(root->find("list")->value->items[0]->kind, YamlKind::kScalar);  // quoted
  EXPECT_EQ(root->find("list")->value->items[1]->kind, YamlKind::kSequence);
  EXPECT_EQ(root->find("m")->value->source_text, "k: v");
  EXPECT_EQ(root->find("m")->value->find("k")->value->where, (SourceLocation{"t.yaml", 6, 4}));
  EXPECT_THAT(warnings, ElementsAre("n: environment variable \"UNSET\" is not set; using \"\" "
                                    "(t.yaml:5:4)"));
}

TEST(ExpandEnvInTree, InvalidYamlOrScalarResultsStayText) {
  YamlValuePtr root = parse("a: ${env:A}\nb: ${env:B}\nc: ${env:C}\n");
  std::vector<std::string> warnings;
  ASSERT_TRUE(expand_env_in_tree(
                  root, "",
                  env_of({{"A", "[unclosed"}, {"B", "x # not a comment"}, {"C", "'quoted'"}}),
                  &warnings)
                  .ok());
  EXPECT_EQ(render(*root), "{a: [unclosed, b: x # not a comment, c: 'quoted'}");
  EXPECT_THAT(warnings, IsEmpty());
}

TEST(ExpandEnvInTree, ErrorsNamePathAndPlace) {
  YamlValuePtr root = parse("a:\n  b:\n    - ok\n    - ${env:X\n");
  std::vector<std::string> warnings;
  EXPECT_EQ(message_of(expand_env_in_tree(root, "top", env_of({}), &warnings)),
            "top::a::b[1]: unterminated \"${\" in \"${env:X\"; write \"$$\" for a literal \"$\" "
            "(t.yaml:4:7)");
}

TEST(Paths, CollectorNotation) {
  EXPECT_EQ(child_path("", "receivers"), "receivers");
  EXPECT_EQ(child_path("receivers", "otlp/2"), "receivers::otlp/2");
  EXPECT_EQ(item_path("processors::attributes::actions", 3), "processors::attributes::actions[3]");
  EXPECT_EQ(located_message("", "oops", SourceLocation{"f", 1, 2}), "oops (f:1:2)");
  EXPECT_EQ(located_message("a::b", "oops", SourceLocation{}), "a::b: oops");
}

TEST(Describe, ForMessages) {
  YamlValuePtr root = parse("a: {x: 1}\nb: [1]\nc:\nd: lots\n");
  EXPECT_EQ(describe(*root->find("a")->value), "a map");
  EXPECT_EQ(describe(*root->find("b")->value), "a list");
  EXPECT_EQ(describe(*root->find("c")->value), "nothing");
  EXPECT_EQ(describe(*root->find("d")->value), "\"lots\"");
  YamlValue long_scalar;
  long_scalar.kind = YamlKind::kScalar;
  long_scalar.scalar = std::string(100, 'x');
  EXPECT_EQ(describe(long_scalar), "\"" + std::string(80, 'x') + "...\"");
}

}  // namespace
}  // namespace pipeline::internal
