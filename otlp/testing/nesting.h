// Builders of deeply nested AnyValues, for limit tests and fuzz seeds.
#pragma once

#include "opentelemetry/proto/common/v1/common.pb.h"

namespace otlp::testing {

// Fills `value` with `depth` AnyValue levels: arrays (kvlist = false) or
// key/value lists, with a string at the bottom. depth 1 = a plain string.
inline void nest_any_value(opentelemetry::proto::common::v1::AnyValue& value, int depth,
                           bool kvlist = false) {
  opentelemetry::proto::common::v1::AnyValue* v = &value;
  for (int i = 1; i < depth; ++i) {
    if (kvlist) {
      auto* kv = v->mutable_kvlist_value()->add_values();
      kv->set_key("k");
      v = kv->mutable_value();
    } else {
      v = v->mutable_array_value()->add_values();
    }
  }
  v->set_string_value("leaf");
}

}  // namespace otlp::testing
