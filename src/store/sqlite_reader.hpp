// The SQLite store's read side: one read connection (WAL lets it read while the writer
// writes), serialised by a mutex. Every query is an index range scan with a bounded result.
// Thread safety: all methods are safe from any thread. Failure: Result values naming the file.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "store/sqlite_codec.hpp"
#include "store/sqlite_db.hpp"
#include "store/store.hpp"
#include "store/uptime.hpp"

namespace sonde {

class SqliteReader {
 public:
  SqliteReader(std::unique_ptr<Db> db, std::string path, Retention retention, const Clock& clock);

  Result<std::map<CheckKey, CheckState>> LoadStates();
  Result<std::map<CheckKey, std::string>> LoadHeartbeatTokens();
  Result<std::vector<RunRecord>> History(const HistoryQuery& query);
  Result<std::vector<DowntimeEvent>> Events(const std::optional<CheckKey>& key,
                                            std::optional<TimePoint> since, size_t limit);
  Result<std::optional<DowntimeEvent>> OpenEvent(const CheckKey& key);
  // See Store::Uptime and README.md ("Uptime") for which rows answer which window.
  Result<UptimeStats> Uptime(const CheckKey& key, Duration window, TimePoint now);
  // Store::UptimeSegments from the roll-ups when the segments are whole hours (or days) aligned
  // to them and inside the roll-ups' retention; none when they are not (the caller falls back
  // to Uptime per segment).
  Result<std::optional<std::vector<UptimeSegment>>> UptimeSegments(const CheckKey& key,
                                                                   TimePoint from, Duration segment,
                                                                   size_t count, TimePoint now);
  // See Db::KeepLogOnClose.
  void KeepLogOnClose() {
    std::lock_guard lock(mu_);
    db_->KeepLogOnClose();
  }

 private:
  struct Timeline {
    TimePoint first_at;
    TimePoint last_at;
    bool last_ok = false;
  };

  std::string Error(const DbStatus& s) const;
  DbStatus CheckId(const CheckKey& key, std::optional<int64_t>* id);

  // Uptime pieces (sqlite_uptime.cpp). Each adds to `totals`; `exact` (if set) collects raw
  // durations for an exact p95.
  DbStatus LoadTimeline(int64_t check_id, std::optional<Timeline>* out);
  DbStatus TimeFromEvents(int64_t check_id, const Timeline& tl, TimePoint from, TimePoint to,
                          UptimeTotals* totals);
  DbStatus RunsFromRaw(int64_t check_id, TimePoint from, TimePoint to, bool include_to,
                       UptimeTotals* totals, std::vector<Duration>* exact);
  DbStatus FromRollups(const char* table, int64_t check_id, const Timeline& tl, TimePoint from,
                       TimePoint to, UptimeTotals* totals);
  DbStatus RunsOfBucket(const char* table, int64_t check_id, TimePoint bucket,
                        UptimeTotals* totals);
  DbStatus LongWindow(int64_t check_id, const Timeline& tl, TimePoint from, TimePoint now,
                      UptimeTotals* totals);

  std::mutex mu_;
  std::unique_ptr<Db> db_;
  const std::string path_;
  const Retention retention_;
  const Clock& clock_;
};

}  // namespace sonde
