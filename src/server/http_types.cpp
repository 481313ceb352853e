#include "server/http_types.hpp"

namespace sonde {

std::optional<std::string> HttpRequest::Query(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return value;
  }
  return std::nullopt;
}

std::string HttpRequest::Header(std::string_view lower_name) const {
  auto it = headers.find(std::string(lower_name));
  return it == headers.end() ? std::string() : it->second;
}

size_t HttpResponse::BodySize() const {
  size_t n = body.size();
  for (const SharedText& part : body_parts) n += part.text.size();
  return n;
}

std::string HttpResponse::BodyString() const {
  std::string out;
  out.reserve(BodySize());
  out += body;
  for (const SharedText& part : body_parts) out += part.text;
  return out;
}

HttpResponse HttpResponse::Text(int status, std::string reason) {
  HttpResponse response;
  response.status = status;
  response.content_type = "text/plain; charset=utf-8";
  response.body = std::move(reason);
  response.body += '\n';
  return response;
}

}  // namespace sonde
