#include "pipeline/config/source_location.h"

#include "pipeline/config/internal/strings.h"

namespace pipeline {

using internal::append;
using internal::cat;

std::string SourceLocation::str() const {
  if (line <= 0) return file;
  if (column <= 0) return cat(file, ":", line);
  return cat(file, ":", line, ":", column);
}

std::string location_suffix(const SourceLocation& where) {
  if (!where.known()) return "";
  return cat(" (", where.str(), ")");
}

}  // namespace pipeline
