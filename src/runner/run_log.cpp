#include "runner/run_log.hpp"

#include <utility>

namespace sonde {
namespace {

// A line longer than this is emitted in pieces, so one stream cannot hold back its bytes (or
// grow without bound) while it never writes '\n'.
constexpr size_t kMaxPartialLine = 4096;

}  // namespace

void TailBuffer::Append(std::string_view bytes) {
  if (bytes.empty()) return;
  if (bytes.size() >= limit_) {
    if (bytes.size() > limit_) {
      before_ = bytes[bytes.size() - limit_ - 1];
    } else if (!data_.empty()) {
      before_ = data_.back();
    }
    dropped_ = dropped_ || !data_.empty() || bytes.size() > limit_;
    data_.assign(bytes.substr(bytes.size() - limit_));
    return;
  }
  data_.append(bytes);
  if (data_.size() > 2 * limit_) {
    const size_t cut = data_.size() - limit_;
    before_ = data_[cut - 1];
    data_.erase(0, cut);
    dropped_ = true;
  }
}

std::string TailBuffer::Str(bool whole_lines) const {
  const size_t start = data_.size() > limit_ ? data_.size() - limit_ : 0;
  std::string out = data_.substr(start);
  if (!whole_lines || !Truncated()) return out;
  const char before = start > 0 ? data_[start - 1] : before_;
  if (before != '\n') {
    const size_t nl = out.find('\n');
    if (nl != std::string::npos) out.erase(0, nl + 1);
  }
  return out;
}

RunLog::RunLog(std::string run_uuid, TimePoint started, size_t limit)
    : run_uuid_(std::move(run_uuid)), started_(started), text_(limit) {}

size_t RunLog::AddStream(const std::string& container) {
  streams_.push_back(Stream{"[" + container + "] ", {}});
  return streams_.size() - 1;
}

void RunLog::Append(size_t stream, std::string_view bytes) {
  Stream& s = streams_.at(stream);
  for (size_t nl = bytes.find('\n'); nl != std::string_view::npos; nl = bytes.find('\n')) {
    s.partial.append(bytes.substr(0, nl));
    EmitLine(s, s.partial);
    s.partial.clear();
    bytes.remove_prefix(nl + 1);
  }
  s.partial.append(bytes);
  while (s.partial.size() >= kMaxPartialLine) {
    EmitLine(s, std::string_view(s.partial).substr(0, kMaxPartialLine));
    s.partial.erase(0, kMaxPartialLine);
  }
}

void RunLog::Close(size_t stream) {
  Stream& s = streams_.at(stream);
  if (!s.partial.empty()) EmitLine(s, s.partial);
  s.partial.clear();
}

void RunLog::EmitLine(const Stream& s, std::string_view line) {
  text_.Append(s.prefix);
  text_.Append(line);
  text_.Append("\n");
}

RunLogs RunLog::Snapshot() const {
  return RunLogs{run_uuid_, started_, text_.Str(/*whole_lines=*/true), text_.Truncated()};
}

std::shared_ptr<RunLog> LogHistory::Begin(const CheckKey& key, std::string run_uuid,
                                          TimePoint started) {
  auto log = std::make_shared<RunLog>(std::move(run_uuid), started, bytes_per_run_);
  if (kept_ == 0) return log;
  auto& runs = logs_[key];
  runs.push_back(log);
  while (runs.size() > kept_) runs.pop_front();
  return log;
}

std::vector<RunLogs> LogHistory::Get(const CheckKey& key) const {
  std::vector<RunLogs> out;
  auto it = logs_.find(key);
  if (it == logs_.end()) return out;
  for (const auto& log : it->second) out.push_back(log->Snapshot());
  return out;
}

}  // namespace sonde
