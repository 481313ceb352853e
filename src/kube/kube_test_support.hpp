// Test helpers of the kube model: JSON from text, golden files of JSON documents.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>

namespace sonde::kube::testing {

// Parses `text`, which must be a JSON object (a test's fixture); fails the test otherwise.
boost::json::object Obj(std::string_view text);

// `v` indented with two spaces per level, members in their order, one final newline.
std::string Pretty(const boost::json::value& v);

// Compares Pretty(v) with src/kube/testdata/<name>; UPDATE_GOLDEN=1 rewrites the file first.
void ExpectGolden(const std::string& name, const boost::json::value& v);

}  // namespace sonde::kube::testing
