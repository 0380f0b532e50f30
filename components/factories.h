#pragma once
// Every component factory otlpd is built with: the one explicit list (STYLE.md habit 6).
// apps/otlpd builds its pipelines from it, and components/lifecycle_test.cc runs the lifecycle
// contract of pipeline/component.h over each entry, so a factory added here is tested.

#include "pipeline/factory.h"

namespace components {

pipeline::Factories make_factories();

}  // namespace components
