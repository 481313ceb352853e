// The shipped Grafana dashboard and Prometheus rules may only query metrics that RenderMetrics
// produces (or Prometheus's own `up`), so a renamed family cannot silently blank a panel.
// promtool checks the rules themselves (CTest: promtool_check_rules, promtool_test_rules).
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include "metrics/exposition.hpp"
#include "metrics/metrics_test_support.hpp"

namespace sonde {
namespace {

namespace json = boost::json;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool IsIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}
bool IsIdent(char c) { return IsIdentStart(c) || std::isdigit(static_cast<unsigned char>(c)); }

size_t SkipSpaces(std::string_view s, size_t i) {
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}

// Index just past the bracket that closes the one at s[i].
size_t SkipBalanced(std::string_view s, size_t i) {
  const char open = s[i];
  const char close = open == '(' ? ')' : open == '{' ? '}' : ']';
  int depth = 0;
  for (; i < s.size(); ++i) {
    if (s[i] == open) ++depth;
    if (s[i] == close && --depth == 0) return i + 1;
  }
  return s.size();
}

// Metric names a PromQL expression selects: identifiers that are not functions, keywords,
// label names in matchers or grouping clauses, Grafana variables, strings or numbers.
std::set<std::string> MetricNamesIn(std::string_view e) {
  static const std::set<std::string> kKeywords = {
      "and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left",
      "group_right", "inf", "nan", "Inf", "NaN",
      // Aggregations may put their grouping before the parenthesis: sum by (x) (...).
      "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk",
      "topk", "quantile"};
  static const std::set<std::string> kGrouping = {"by",       "without",    "on",
                                                  "ignoring", "group_left", "group_right"};
  std::set<std::string> names;
  for (size_t i = 0; i < e.size();) {
    const char c = e[i];
    if (c == '"' || c == '\'' || c == '`') {
      const size_t end = e.find(c, i + 1);
      i = end == std::string_view::npos ? e.size() : end + 1;
    } else if (c == '{' || c == '[') {
      i = SkipBalanced(e, i);
    } else if (c == '$') {
      ++i;
      if (i < e.size() && e[i] == '{') i = SkipBalanced(e, i);
      while (i < e.size() && IsIdent(e[i])) ++i;
    } else if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      while (i < e.size() && (IsIdent(e[i]) || e[i] == '.')) ++i;
    } else if (IsIdentStart(c)) {
      size_t end = i;
      while (end < e.size() && IsIdent(e[end])) ++end;
      const std::string word(e.substr(i, end - i));
      const size_t next = SkipSpaces(e, end);
      const bool call = next < e.size() && e[next] == '(';
      if (kGrouping.count(word) > 0 && call) {
        i = SkipBalanced(e, next);
        continue;
      }
      if (!call && kKeywords.count(word) == 0) names.insert(word);
      i = end;
    } else {
      ++i;
    }
  }
  return names;
}

std::set<std::string> ProducedNames() {
  const auto names =
      metrics_test::SampleNames(metrics_test::RenderSample(ExpositionFormat::kText004));
  std::set<std::string> out(names.begin(), names.end());
  out.insert("up");  // Prometheus's own, per target
  return out;
}

// Panel queries ("expr") and query variables' queries, anywhere in the dashboard.
void CollectExprs(const json::value& v, std::vector<std::string>& out) {
  if (v.is_object()) {
    const json::object& o = v.as_object();
    const bool query_variable = o.contains("type") && o.at("type") == "query";
    for (const auto& [key, child] : o) {
      if (child.is_string() && (key == "expr" || (key == "query" && query_variable))) {
        std::string q(child.as_string());
        // Grafana's label_values(metric, label): only the first argument is a metric.
        if (q.rfind("label_values(", 0) == 0) q = q.substr(13, q.rfind(',') - 13);
        out.push_back(q);
      } else {
        CollectExprs(child, out);
      }
    }
  } else if (v.is_array()) {
    for (const auto& child : v.as_array()) CollectExprs(child, out);
  }
}

TEST(MetricNamesIn, FindsOnlyMetricNames) {
  EXPECT_EQ(MetricNamesIn("sum by (namespace) (rate(sonde_reports_total{result=\"rejected\"}"
                          "[$__rate_interval])) / on(check) group_left(severity) up offset 5m"),
            (std::set<std::string>{"sonde_reports_total", "up"}));
  EXPECT_EQ(MetricNamesIn("histogram_quantile(0.95, sum by (le) (rate(x_bucket[5m]))) > 1e3"),
            (std::set<std::string>{"x_bucket"}));
  EXPECT_EQ(MetricNamesIn("kuberhealthy_check{check=~\"$check\"} == bool 0 and ${x}"),
            (std::set<std::string>{"kuberhealthy_check"}));
}

TEST(GrafanaDashboard, ParsesAndQueriesOnlyRenderedMetrics) {
  const std::string path = std::string(SONDE_SOURCE_DIR) + "/deploy/grafana/sonde-dashboard.json";
  boost::system::error_code ec;
  const json::value doc = json::parse(ReadFile(path), ec);
  ASSERT_FALSE(ec) << path << ": " << ec.message();
  ASSERT_TRUE(doc.is_object());
  EXPECT_TRUE(doc.as_object().contains("panels"));
  EXPECT_TRUE(doc.as_object().contains("uid"));
  std::vector<std::string> exprs;
  CollectExprs(doc, exprs);
  EXPECT_GE(exprs.size(), 10u) << "a dashboard of a handful of queries is not the one we ship";
  const std::set<std::string> produced = ProducedNames();
  for (const std::string& e : exprs) {
    const auto names = MetricNamesIn(e);
    EXPECT_FALSE(names.empty()) << "no metric in: " << e;
    for (const std::string& n : names) EXPECT_EQ(produced.count(n), 1u) << n << " in: " << e;
  }
}

TEST(PrometheusRules, QueryOnlyRenderedMetrics) {
  const YAML::Node doc =
      YAML::LoadFile(std::string(SONDE_SOURCE_DIR) + "/deploy/prometheus/sonde.rules.yml");
  const std::set<std::string> produced = ProducedNames();
  int rules = 0;
  for (const auto& group : doc["groups"]) {
    for (const auto& rule : group["rules"]) {
      ++rules;
      const std::string e = rule["expr"].as<std::string>();
      for (const std::string& n : MetricNamesIn(e)) {
        EXPECT_EQ(produced.count(n), 1u) << n << " in: " << e;
      }
    }
  }
  EXPECT_GE(rules, 4);
}

}  // namespace
}  // namespace sonde
