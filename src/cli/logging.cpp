#include "cli/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "contract/json_writer.hpp"
#include "core/time.hpp"

namespace sonde {
namespace {

// Writes {"time":..., "level":..., "msg":...} with proper JSON escaping of the message.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line = "{\"time\":\"" + FormatRfc3339Nano(TimePoint(msg.time.time_since_epoch())) +
                       "\",\"level\":\"" +
                       std::string(spdlog::level::to_string_view(msg.level).data()) +
                       "\",\"msg\":";
    AppendGoJsonString(line, std::string_view(msg.payload.data(), msg.payload.size()));
    line += "}\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

Status SetUpLogging(const std::string& format, const std::string& level) {
  const auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    return Status::Error("unknown log level \"" + level +
                         "\" (use trace, debug, info, warn, error or off)");
  }
  auto logger = spdlog::stderr_logger_mt("sonde");
  if (format == "json") {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else if (format == "text") {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  } else {
    return Status::Error("unknown log format \"" + format + "\" (use text or json)");
  }
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return Status::Ok();
}

}  // namespace sonde
