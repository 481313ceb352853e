#include "store/sqlite_codec.hpp"

#include <boost/json.hpp>

namespace sonde {

std::string EncodeErrors(const std::vector<std::string>& errors) {
  boost::json::array array;
  array.reserve(errors.size());
  for (const std::string& e : errors) array.emplace_back(e);
  return boost::json::serialize(array);
}

std::vector<std::string> DecodeErrors(std::string_view json) {
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(json, ec);
  std::vector<std::string> out;
  if (!ec && value.is_array()) {
    for (const auto& item : value.get_array()) {
      if (!item.is_string()) return {"(unreadable stored errors)"};
      out.emplace_back(item.get_string());
    }
    return out;
  }
  return {"(unreadable stored errors)"};
}

}  // namespace sonde
