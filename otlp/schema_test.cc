// Proves that our .proto files (otlp/proto/) are exactly OTLP v1.11.0: every row
// of otlp/testdata/schema-v1.11.0.tsv — fields, enum values, service methods —
// matches the compiled descriptor set, with nothing missing and nothing extra.
// The other side of this agreement is the table itself; change both together.

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/profiles/v1development/profiles_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "opentelemetry/proto/processcontext/v1development/process_context.pb.h"

namespace otlp {
namespace {

namespace pb = google::protobuf;

constexpr char kOtlpPackagePrefix[] = "opentelemetry.proto.";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// One row of the table, as a tab-joined line with the column order of the TSV.
std::string row(const std::vector<std::string>& cells) {
  std::string out;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) out += '\t';
    out += cells[i];
  }
  return out;
}

std::set<std::string> rows_from_table() {
  std::set<std::string> rows;
  std::istringstream in(read_file(std::string(OTLP_TESTDATA_DIR) + "/schema-v1.11.0.tsv"));
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (header) {
      header = false;
      continue;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) rows.insert(line);
  }
  return rows;
}

std::string label_name(const pb::FieldDescriptor& field) {
  switch (field.label()) {
    case pb::FieldDescriptor::LABEL_REPEATED:
      return "repeated";
    case pb::FieldDescriptor::LABEL_REQUIRED:
      return "required";
    case pb::FieldDescriptor::LABEL_OPTIONAL:
      return "optional";
  }
  return "?";
}

void add_message_rows(const pb::Descriptor& message, std::set<std::string>& rows);

void add_enum_rows(const pb::EnumDescriptor& e, std::set<std::string>& rows) {
  for (int i = 0; i < e.value_count(); ++i) {
    const pb::EnumValueDescriptor& v = *e.value(i);
    rows.insert(row({e.full_name(), v.name(), std::to_string(v.number()), "enum", "", "", ""}));
  }
}

void add_message_rows(const pb::Descriptor& message, std::set<std::string>& rows) {
  for (int i = 0; i < message.field_count(); ++i) {
    const pb::FieldDescriptor& f = *message.field(i);
    std::string type_name;
    if (f.message_type() != nullptr) type_name = f.message_type()->full_name();
    if (f.enum_type() != nullptr) type_name = f.enum_type()->full_name();
    // proto3 `optional` fields live in a synthetic oneof named `_<field>`; the
    // table lists that name too.
    std::string oneof = f.containing_oneof() != nullptr ? f.containing_oneof()->name() : "";
    rows.insert(row({message.full_name(), f.name(), std::to_string(f.number()), label_name(f),
                     f.type_name(), type_name, oneof}));
  }
  for (int i = 0; i < message.nested_type_count(); ++i) {
    add_message_rows(*message.nested_type(i), rows);
  }
  for (int i = 0; i < message.enum_type_count(); ++i) add_enum_rows(*message.enum_type(i), rows);
}

std::set<std::string> rows_from_descriptors(const pb::DescriptorPool& pool,
                                            const pb::FileDescriptorSet& set) {
  std::set<std::string> rows;
  for (const pb::FileDescriptorProto& file_proto : set.file()) {
    if (file_proto.package().rfind(kOtlpPackagePrefix, 0) != 0) continue;
    const pb::FileDescriptor* file = pool.FindFileByName(file_proto.name());
    if (file == nullptr) continue;
    for (int i = 0; i < file->message_type_count(); ++i) {
      add_message_rows(*file->message_type(i), rows);
    }
    for (int i = 0; i < file->enum_type_count(); ++i) add_enum_rows(*file->enum_type(i), rows);
    for (int i = 0; i < file->service_count(); ++i) {
      const pb::ServiceDescriptor& service = *file->service(i);
      for (int m = 0; m < service.method_count(); ++m) {
        const pb::MethodDescriptor& method = *service.method(m);
        rows.insert(row({service.full_name(), method.name(), "", "rpc",
                         method.input_type()->full_name(), method.output_type()->full_name(), ""}));
      }
    }
  }
  return rows;
}

class SchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(set_.ParseFromString(read_file(OTLP_DESCRIPTOR_SET)))
        << "cannot read descriptor set " << OTLP_DESCRIPTOR_SET;
    for (const pb::FileDescriptorProto& file : set_.file()) {
      ASSERT_NE(pool_.BuildFile(file), nullptr) << file.name();
    }
  }

  pb::FileDescriptorSet set_;
  pb::DescriptorPool pool_;
};

TEST_F(SchemaTest, TableIsReadable) { EXPECT_GT(rows_from_table().size(), 250u); }

TEST_F(SchemaTest, EveryTableRowIsInOurProtos) {
  std::set<std::string> ours = rows_from_descriptors(pool_, set_);
  for (const std::string& expected : rows_from_table()) {
    EXPECT_TRUE(ours.count(expected)) << "missing from our .proto files:\n  " << expected;
  }
}

TEST_F(SchemaTest, OurProtosHaveNothingExtra) {
  std::set<std::string> table = rows_from_table();
  for (const std::string& ours : rows_from_descriptors(pool_, set_)) {
    EXPECT_TRUE(table.count(ours)) << "not in OTLP v1.11.0:\n  " << ours;
  }
}

// google.rpc.Status and RetryInfo are not in the OTLP table; they must match
// the wire numbers gRPC and OTLP/HTTP clients use.
TEST_F(SchemaTest, RpcErrorDetailsHaveTheWellKnownShape) {
  const pb::Descriptor* status = pool_.FindMessageTypeByName("google.rpc.Status");
  ASSERT_NE(status, nullptr);
  ASSERT_NE(status->FindFieldByName("code"), nullptr);
  EXPECT_EQ(status->FindFieldByName("code")->number(), 1);
  EXPECT_EQ(status->FindFieldByName("code")->type(), pb::FieldDescriptor::TYPE_INT32);
  EXPECT_EQ(status->FindFieldByName("message")->number(), 2);
  EXPECT_EQ(status->FindFieldByName("details")->number(), 3);
  EXPECT_TRUE(status->FindFieldByName("details")->is_repeated());
  EXPECT_EQ(status->FindFieldByName("details")->message_type()->full_name(), "google.protobuf.Any");
  const pb::Descriptor* retry = pool_.FindMessageTypeByName("google.rpc.RetryInfo");
  ASSERT_NE(retry, nullptr);
  ASSERT_EQ(retry->field_count(), 1);
  EXPECT_EQ(retry->field(0)->name(), "retry_delay");
  EXPECT_EQ(retry->field(0)->number(), 1);
  EXPECT_EQ(retry->field(0)->message_type()->full_name(), "google.protobuf.Duration");
}

// The generated code linked into otlp_proto is built from the same files.
TEST_F(SchemaTest, GeneratedPoolAgreesWithDescriptorSet) {
  // Touching each root type links its file (and every import) into this test.
  const std::vector<const pb::Descriptor*> roots = {
      opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest::descriptor(),
      opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest::descriptor(),
      opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest::descriptor(),
      opentelemetry::proto::collector::profiles::v1development::ExportProfilesServiceRequest::
          descriptor(),
      opentelemetry::proto::processcontext::v1development::ProcessContext::descriptor(),
      google::rpc::Status::descriptor(),
      google::rpc::RetryInfo::descriptor(),
  };
  for (const pb::Descriptor* root : roots) ASSERT_NE(root, nullptr);
  for (const pb::FileDescriptorProto& file : set_.file()) {
    if (file.package().rfind(kOtlpPackagePrefix, 0) != 0) continue;
    const pb::FileDescriptor* generated =
        pb::DescriptorPool::generated_pool()->FindFileByName(file.name());
    ASSERT_NE(generated, nullptr) << file.name() << " is not linked into otlp_proto";
    pb::FileDescriptorProto generated_proto;
    generated->CopyTo(&generated_proto);
    generated->CopyJsonNameTo(&generated_proto);
    pb::FileDescriptorProto expected = file;
    expected.clear_source_code_info();
    EXPECT_EQ(generated_proto.SerializeAsString(), expected.SerializeAsString()) << file.name();
  }
}

}  // namespace
}  // namespace otlp
