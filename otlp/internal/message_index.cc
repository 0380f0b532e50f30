#include "otlp/internal/message_index.h"

#include <google/protobuf/message.h>

#include <map>
#include <memory>
#include <mutex>

namespace otlp::internal {
namespace {

namespace pb = google::protobuf;

constexpr std::string_view kAnyValueName = "opentelemetry.proto.common.v1.AnyValue";
constexpr std::string_view kOtlpPackagePrefix = "opentelemetry.proto.";
constexpr int64_t kUnknownObjectBytes = 128;

// The OTLP/JSON rule: trace and span ids (and, like them, profile ids) are hex.
bool is_hex_id(const pb::FieldDescriptor& field) {
  if (field.type() != pb::FieldDescriptor::TYPE_BYTES || field.is_repeated()) return false;
  if (field.file()->package().rfind(std::string(kOtlpPackagePrefix), 0) != 0) return false;
  const std::string& name = field.name();
  return name == "trace_id" || name == "span_id" || name == "parent_span_id" ||
         name == "profile_id";
}

// How protobuf's parser expects `field` on the wire (FieldInfo::wire_type, fixed_bytes).
void set_wire_shape(const pb::FieldDescriptor& field, FieldInfo& f) {
  switch (field.type()) {
    case pb::FieldDescriptor::TYPE_DOUBLE:
    case pb::FieldDescriptor::TYPE_FIXED64:
    case pb::FieldDescriptor::TYPE_SFIXED64:
      f.wire_type = WireType::kFixed64;
      f.fixed_bytes = 8;
      break;
    case pb::FieldDescriptor::TYPE_FLOAT:
    case pb::FieldDescriptor::TYPE_FIXED32:
    case pb::FieldDescriptor::TYPE_SFIXED32:
      f.wire_type = WireType::kFixed32;
      f.fixed_bytes = 4;
      break;
    case pb::FieldDescriptor::TYPE_STRING:
    case pb::FieldDescriptor::TYPE_BYTES:
    case pb::FieldDescriptor::TYPE_MESSAGE:
      f.wire_type = WireType::kLen;
      break;
    case pb::FieldDescriptor::TYPE_GROUP:
      f.wire_type = WireType::kStartGroup;
      break;
    default:  // the integer types, bool and enums
      f.wire_type = WireType::kVarint;
      break;
  }
  f.utf8 = field.type() == pb::FieldDescriptor::TYPE_STRING &&
           field.file()->syntax() == pb::FileDescriptor::SYNTAX_PROTO3;
}

class Registry {
 public:
  const MessageInfo& get(const pb::Descriptor* descriptor) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<MessageInfo*> created;
    MessageInfo* info = build(descriptor, created);
    compute_reachability(created);
    return *info;
  }

 private:
  // mu_ must be held. Builds the closure of types reachable from `descriptor`;
  // appends the infos it creates to `created`.
  MessageInfo* build(const pb::Descriptor* descriptor, std::vector<MessageInfo*>& created) {
    auto it = infos_.find(descriptor);
    if (it != infos_.end()) return it->second.get();
    auto owned = std::make_unique<MessageInfo>();
    MessageInfo* info = owned.get();
    infos_.emplace(descriptor, std::move(owned));
    created.push_back(info);
    info->descriptor = descriptor;
    info->is_any_value = descriptor->full_name() == kAnyValueName;
    // The default instance's space is the object's own size: all its fields are empty.
    const pb::Message* prototype =
        pb::MessageFactory::generated_factory()->GetPrototype(descriptor);
    info->object_bytes = prototype != nullptr ? static_cast<int64_t>(prototype->SpaceUsedLong())
                                              : kUnknownObjectBytes;
    info->fields.reserve(descriptor->field_count());
    for (int i = 0; i < descriptor->field_count(); ++i) {
      const pb::FieldDescriptor* field = descriptor->field(i);
      FieldInfo f;
      f.descriptor = field;
      f.json_name = field->json_name();
      f.proto_name = field->name();
      f.cpp_type = field->cpp_type();
      f.repeated = field->is_repeated();
      f.hex_id = is_hex_id(*field);
      set_wire_shape(*field, f);
      if (f.hex_id)
        f.id_bytes = field->name() == "trace_id" || field->name() == "profile_id" ? 16 : 8;
      if (const pb::OneofDescriptor* oneof = field->real_containing_oneof()) {
        f.oneof = oneof;
        f.first_of_oneof = oneof->field(0) == field;
      }
      info->fields.push_back(std::move(f));
      if (static_cast<uint32_t>(field->number()) < MessageInfo::kDirectNumbers && i < 255) {
        info->by_number[field->number()] = static_cast<uint8_t>(i + 1);
      }
    }
    // Children after the parent is registered, so recursive types terminate.
    for (FieldInfo& f : info->fields) {
      if (f.descriptor->message_type() != nullptr) {
        f.message = build(f.descriptor->message_type(), created);
      }
    }
    return info;
  }

  // mu_ must be held. A fixpoint over the new infos: types built earlier are
  // already final, and new ones can only point at old or new ones.
  static void compute_reachability(const std::vector<MessageInfo*>& created) {
    for (MessageInfo* info : created) {
      info->reaches_any_value = info->is_any_value;
      for (const FieldInfo& f : info->fields) info->reaches_id = info->reaches_id || f.hex_id;
    }
    bool changed = true;
    while (changed) {
      changed = false;
      for (MessageInfo* info : created) {
        for (const FieldInfo& f : info->fields) {
          if (f.message == nullptr) continue;
          if (!info->reaches_any_value && f.message->reaches_any_value) {
            info->reaches_any_value = true;
            changed = true;
          }
          if (!info->reaches_id && f.message->reaches_id) {
            info->reaches_id = true;
            changed = true;
          }
        }
      }
    }
  }

  std::mutex mu_;
  std::map<const pb::Descriptor*, std::unique_ptr<MessageInfo>> infos_;  // guarded by mu_
};

Registry& registry() {
  static Registry* instance = new Registry();  // never destroyed: infos outlive all users
  return *instance;
}

}  // namespace

const FieldInfo* MessageInfo::find_by_large_number(uint32_t number) const {
  for (const FieldInfo& f : fields) {
    if (static_cast<uint32_t>(f.descriptor->number()) == number) return &f;
  }
  return nullptr;
}

const FieldInfo* MessageInfo::find_by_name(std::string_view name) const {
  for (const FieldInfo& f : fields) {
    if (f.json_name == name) return &f;
  }
  for (const FieldInfo& f : fields) {
    if (f.proto_name == name) return &f;
  }
  return nullptr;
}

const MessageInfo& message_info(const google::protobuf::Descriptor* descriptor) {
  return registry().get(descriptor);
}

}  // namespace otlp::internal
