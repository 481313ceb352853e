// The SQLite store's acknowledgement contract with its syncer: a commit's `done(OK)` comes only
// after a sync that started once the commit was visible, a failed sync fails every write
// waiting on it and every later one, and closing the store acknowledges everything queued.
// The sync is injected (SqliteOptions::sync) to observe and fail it.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "store/sqlite_store.hpp"
#include "store/store_test_util.hpp"

namespace sonde {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const TimePoint kT0 = FromUnixSeconds(1'700'000'000);

// Every run uuid committed to the database file, read with a connection of its own (WAL: it
// sees every transaction committed before its read began). A failed read fails the test.
std::set<std::string> CommittedUuids(const std::string& db_path) {
  std::set<std::string> uuids;
  sqlite3* db = nullptr;
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  if (rc == SQLITE_OK) {
    sqlite3_busy_timeout(db, 5000);
    rc = sqlite3_prepare_v2(db, "SELECT run_uuid FROM runs", -1, &stmt, nullptr);
  }
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      uuids.insert(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
    }
  }
  EXPECT_TRUE(rc == SQLITE_DONE) << "reading " << db_path << ": " << sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return uuids;
}

class SqliteSyncTest : public ::testing::Test {
 protected:
  Result<std::unique_ptr<SqliteStore>> Open(std::function<Status()> sync) {
    SqliteOptions options;
    options.clock = &clock_;
    options.sync = std::move(sync);
    return SqliteStore::Open(dir_.path(), options);
  }
  std::string DbPath() const { return dir_.path() + "/sonde.db"; }

  TempDir dir_;
  TestClock clock_{kT0};
};

// The sync records what was committed when it started and, once it returns, calls that durable;
// every acknowledgement must name a run durable by then. Each sync takes a while, so the writer
// commits further batches during it (those must wait for the next sync).
TEST_F(SqliteSyncTest, AnAckComesOnlyAfterASyncThatStartedAfterItsCommit) {
  std::mutex mu;
  std::set<std::string> durable;
  int syncs = 0;
  std::set<std::string> acked;
  std::vector<std::string> early;  // acknowledged before a sync covered them
  {
    auto store = Open([&] {
      std::set<std::string> committed = CommittedUuids(DbPath());
      std::this_thread::sleep_for(milliseconds(2));
      std::lock_guard lock(mu);
      durable.insert(committed.begin(), committed.end());
      ++syncs;
      return Status::Ok();
    });
    ASSERT_TRUE(store.ok()) << store.error();
    CommitFromThreads(*store.value(), "sync", kT0, 4, 300, 3,
                      [&](const std::string& uuid, Status s) {
                        std::lock_guard lock(mu);
                        EXPECT_TRUE(s.ok()) << s.message();
                        if (durable.count(uuid) == 0) early.push_back(uuid);
                        acked.insert(uuid);
                      });
  }  // closing acknowledges every queued write
  EXPECT_EQ(acked.size(), 1200u);
  EXPECT_TRUE(early.empty()) << early.size() << " acknowledged before their sync, e.g. "
                             << early.front();
  EXPECT_GE(syncs, 1);
  EXPECT_LT(syncs, 1200) << "each sync should cover the batches committed during the last one";
  EXPECT_EQ(CommittedUuids(DbPath()), acked);
}

// The first sync blocks until the test has queued more writes (they commit meanwhile), then
// fails: every write waiting on it and every later write fails with the sync's error, nothing
// else is synced, and the store reopens with the log's intact commits.
TEST_F(SqliteSyncTest, AFailedSyncFailsEveryWaitingWriteAndEveryLaterOne) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  int syncs = 0;
  std::vector<Status> results;
  const CheckKey key{"sync", "a"};
  {
    auto store = Open([&] {
      std::unique_lock lock(mu);
      ++syncs;
      cv.wait_for(lock, seconds(10), [&] { return release; });
      return Status::Error("fdatasync: Input/output error");
    });
    ASSERT_TRUE(store.ok()) << store.error();
    auto record = [&](Status s) {
      std::lock_guard lock(mu);
      results.push_back(std::move(s));
      cv.notify_all();
    };
    store.value()->CommitRun(MakeRun(key, "first", kT0, milliseconds(5), true), {}, record);
    WaitFor([&] {
      std::lock_guard lock(mu);
      return syncs == 1;
    });
    for (int i = 0; i < 50; ++i) {
      store.value()->CommitRun(
          MakeRun(key, "r" + std::to_string(i), kT0 + seconds(i + 1), milliseconds(5), true), {},
          record);
    }
    {
      std::unique_lock lock(mu);
      release = true;
      cv.notify_all();
      cv.wait_for(lock, seconds(10), [&] { return results.size() == 51; });
    }
    Status later = CommitSync(*store.value(),
                              MakeRun(key, "later", kT0 + seconds(100), milliseconds(5), true));
    std::lock_guard lock(mu);
    results.push_back(later);
    EXPECT_EQ(syncs, 1);
  }
  ASSERT_EQ(results.size(), 52u);
  for (const Status& s : results) {
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("syncing its write-ahead log failed (fdatasync: Input/output "
                               "error); writes are refused until sonde restarts"),
              std::string::npos)
        << s.message();
  }
  EXPECT_EQ(CommittedUuids(DbPath()).count("later"), 0u) << "refused writes are not applied";
  auto reopened = Open(nullptr);
  ASSERT_TRUE(reopened.ok()) << reopened.error();
  EXPECT_TRUE(CommitSync(*reopened.value(),
                         MakeRun(key, "after", kT0 + seconds(200), milliseconds(5), true))
                  .ok());
}

// Closing the store while syncs are slow and writes are still queued: every `done` is called
// exactly once, with OK, and every run is stored.
TEST_F(SqliteSyncTest, ClosingAcknowledgesEveryQueuedWrite) {
  std::mutex mu;
  std::map<std::string, int> calls;
  int failed = 0;
  {
    auto store = Open([] {
      std::this_thread::sleep_for(milliseconds(3));
      return Status::Ok();
    });
    ASSERT_TRUE(store.ok()) << store.error();
    CommitFromThreads(*store.value(), "sync", kT0, 4, 250, 3,
                      [&](const std::string& uuid, Status s) {
                        std::lock_guard lock(mu);
                        ++calls[uuid];
                        failed += !s.ok();
                      });
  }
  EXPECT_EQ(failed, 0);
  ASSERT_EQ(calls.size(), 1000u);
  for (const auto& [uuid, n] : calls) EXPECT_EQ(n, 1) << uuid;
  EXPECT_EQ(CommittedUuids(DbPath()).size(), 1000u);
}

}  // namespace
}  // namespace sonde
