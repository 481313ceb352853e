#include "kube/kube_test_support.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace sonde::kube::testing {
namespace {

namespace json = boost::json;

void Indent(std::string& out, int depth) { out.append(static_cast<size_t>(depth) * 2, ' '); }

void Write(std::string& out, const json::value& v, int depth) {
  if (const json::object* o = v.if_object(); o != nullptr && !o->empty()) {
    out += "{\n";
    size_t i = 0;
    for (const auto& member : *o) {
      Indent(out, depth + 1);
      out += json::serialize(json::string(member.key())) + ": ";
      Write(out, member.value(), depth + 1);
      out += ++i < o->size() ? ",\n" : "\n";
    }
    Indent(out, depth);
    out += "}";
  } else if (const json::array* a = v.if_array(); a != nullptr && !a->empty()) {
    out += "[\n";
    for (size_t i = 0; i < a->size(); ++i) {
      Indent(out, depth + 1);
      Write(out, (*a)[i], depth + 1);
      out += i + 1 < a->size() ? ",\n" : "\n";
    }
    Indent(out, depth);
    out += "]";
  } else {
    out += json::serialize(v);
  }
}

}  // namespace

json::object Obj(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  EXPECT_FALSE(ec) << "fixture is not JSON: " << ec.message() << "\n" << text;
  EXPECT_TRUE(v.is_object()) << "fixture is not a JSON object:\n" << text;
  return v.is_object() ? v.get_object() : json::object{};
}

std::string Pretty(const json::value& v) {
  std::string out;
  Write(out, v, 0);
  return out + "\n";
}

void ExpectGolden(const std::string& name, const json::value& v) {
  const std::string path = std::string(SONDE_SOURCE_DIR) + "/src/kube/testdata/" + name;
  const std::string got = Pretty(v);
  if (std::getenv("UPDATE_GOLDEN") != nullptr) std::ofstream(path) << got;
  std::ifstream in(path);
  ASSERT_TRUE(in) << "missing golden file " << path << " (run with UPDATE_GOLDEN=1)";
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(got, want.str()) << "golden " << name << " differs (UPDATE_GOLDEN=1 rewrites)";
}

}  // namespace sonde::kube::testing
