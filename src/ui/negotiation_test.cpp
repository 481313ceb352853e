#include "ui/negotiation.hpp"

#include <gtest/gtest.h>

namespace sonde::ui {
namespace {

struct AcceptCase {
  const char* accept;
  bool html;
};

TEST(PrefersHtml, BrowsersGetHtmlEveryoneElseJson) {
  const AcceptCase cases[] = {
      // Browsers' navigation requests.
      {"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
       true},
      {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true},  // Firefox
      {"application/xhtml+xml", true},
      {"TEXT/HTML", true},
      {" text/html ; charset=utf-8", true},
      {"application/json;q=0.5, text/html", true},
      // curl, Kuberhealthy clients, Prometheus-style scrapers, fetch() without a header.
      {"", false},
      {"*/*", false},
      {"application/json", false},
      {"application/json, text/plain, */*", false},
      {"text/*", false},
      // Explicit preferences and ties keep the JSON.
      {"text/html;q=0", false},
      {"text/html;q=0.5, application/json", false},
      {"application/json, text/html", false},
      {"text/html;q=abc", false},
      {"text/html;q=2", false},
      {"text/plain", false},
  };
  for (const AcceptCase& c : cases) {
    EXPECT_EQ(PrefersHtml(c.accept), c.html) << "Accept: " << c.accept;
  }
}

}  // namespace
}  // namespace sonde::ui
