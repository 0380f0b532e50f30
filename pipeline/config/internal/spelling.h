#pragma once
// internal: "did you mean" suggestions for misspelt keys.
//
// Contract: closest_spelling() returns the candidate nearest to `word` by edit distance
// (ignoring ASCII case) when it is close enough to be a plausible typo — at most one edit for
// short words, up to three for long ones — else "". Ties go to the first candidate.

#include <string>
#include <string_view>
#include <vector>

namespace pipeline::internal {

std::string closest_spelling(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace pipeline::internal
