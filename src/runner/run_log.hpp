// Bounded capture of checker output: TailBuffer keeps the most recent bytes of a stream,
// RunLog turns several streams into "[container] line" text, LogHistory keeps the last runs
// of each check.
//
// Thread safety: none; owned and used on the runner's executor. Failure: never fails; output
// beyond the bounds is dropped (oldest first) and flagged as truncated.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/check.hpp"
#include "core/time.hpp"
#include "runner/runner.hpp"

namespace sonde {

// The last `limit` bytes appended. Stores at most 2 * limit so appends are amortised O(1).
class TailBuffer {
 public:
  explicit TailBuffer(size_t limit) : limit_(limit) {}
  void Append(std::string_view bytes);
  // The last <= limit bytes. With `whole_lines`, a line cut by truncation is dropped too.
  std::string Str(bool whole_lines = false) const;
  bool Truncated() const { return dropped_ || data_.size() > limit_; }

 private:
  size_t limit_;
  std::string data_;
  bool dropped_ = false;
  char before_ = '\n';  // the byte just before data_, once something was dropped
};

// The output of one run. Each stream collects its partial line until '\n' so that lines of
// concurrent containers never interleave mid-line.
class RunLog {
 public:
  RunLog(std::string run_uuid, TimePoint started, size_t limit);

  // Registers a stream (one container's stdout or stderr); returns its id for Append/Close.
  size_t AddStream(const std::string& container);
  void Append(size_t stream, std::string_view bytes);
  // End of a stream: a last line without '\n' is emitted with one.
  void Close(size_t stream);
  RunLogs Snapshot() const;

 private:
  struct Stream {
    std::string prefix;   // "[container] "
    std::string partial;  // bytes after the last '\n'
  };
  void EmitLine(const Stream& s, std::string_view line);

  std::string run_uuid_;
  TimePoint started_;
  TailBuffer text_;
  std::vector<Stream> streams_;
};

// The last `kept` RunLogs of every check. Entries of deleted checks are kept until the process
// ends (bounded per check).
class LogHistory {
 public:
  LogHistory(size_t kept, size_t bytes_per_run) : kept_(kept), bytes_per_run_(bytes_per_run) {}
  // Starts the log of a new run, evicting the oldest beyond `kept`. The caller keeps the
  // returned pointer to append to it; an evicted log simply stops being listed.
  std::shared_ptr<RunLog> Begin(const CheckKey& key, std::string run_uuid, TimePoint started);
  std::vector<RunLogs> Get(const CheckKey& key) const;

 private:
  size_t kept_;
  size_t bytes_per_run_;
  std::map<CheckKey, std::deque<std::shared_ptr<RunLog>>> logs_;
};

}  // namespace sonde
