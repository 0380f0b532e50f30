#include "otlp/testing/profile_view.h"

namespace otlp::testing {
namespace {

namespace profiles = opentelemetry::proto::profiles::v1development;

template <class Table>
auto at(const Table& table, int index) -> decltype(&table.Get(0)) {
  if (index < 0 || index >= table.size()) return nullptr;
  return &table.Get(index);
}

std::string str(const profiles::ProfilesDictionary& d, int index) {
  if (index < 0 || index >= d.string_table_size())
    return "<bad string " + std::to_string(index) + ">";
  return d.string_table(index);
}

std::string attribute(const profiles::ProfilesDictionary& d, int index) {
  const auto* a = at(d.attribute_table(), index);
  if (a == nullptr) return "<bad attribute>";
  std::string value = a->value().has_string_value_strindex()
                          ? str(d, a->value().string_value_strindex())
                          : a->value().ShortDebugString();
  return str(d, a->key_strindex()) + "=" + value + "[" + str(d, a->unit_strindex()) + "]";
}

std::string location(const profiles::ProfilesDictionary& d, int index) {
  const auto* l = at(d.location_table(), index);
  if (l == nullptr) return "<bad location>";
  std::string out = "@" + std::to_string(l->address());
  if (const auto* m = at(d.mapping_table(), l->mapping_index())) {
    out += " in " + str(d, m->filename_strindex());
  }
  for (const auto& line : l->lines()) {
    const auto* f = at(d.function_table(), line.function_index());
    out += f == nullptr
               ? " <bad function>"
               : " " + str(d, f->name_strindex()) + "/" + str(d, f->system_name_strindex()) + ":" +
                     str(d, f->filename_strindex()) + ":" + std::to_string(line.line());
  }
  return out;
}

}  // namespace

std::vector<std::string> resolved_samples(const ProfilesRequest& request) {
  const profiles::ProfilesDictionary& d = request.dictionary();
  std::vector<std::string> out;
  for (const auto& rp : request.resource_profiles()) {
    for (const auto& sp : rp.scope_profiles()) {
      for (const auto& p : sp.profiles()) {
        std::string header = "type=" + str(d, p.sample_type().type_strindex()) + "/" +
                             str(d, p.sample_type().unit_strindex());
        for (int a : p.attribute_indices()) header += " pa:" + attribute(d, a);
        for (const auto& s : p.samples()) {
          std::string text = header;
          if (const auto* stack = at(d.stack_table(), s.stack_index())) {
            for (int loc : stack->location_indices()) text += " | " + location(d, loc);
          } else {
            text += " <bad stack>";
          }
          for (int a : s.attribute_indices()) text += " sa:" + attribute(d, a);
          if (const auto* link = at(d.link_table(), s.link_index())) {
            text += " link:" + std::to_string(link->trace_id().size());
            text += link->span_id();
          }
          for (int64_t v : s.values()) text += " v" + std::to_string(v);
          out.push_back(std::move(text));
        }
      }
    }
  }
  return out;
}

}  // namespace otlp::testing
