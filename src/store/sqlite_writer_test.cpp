// SqliteWriter's group commit: a batch stores exactly the rows its ops store one batch each
// (roll-ups summed per bucket, no savepoint unless an op fails alone).
#include "store/sqlite_writer.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>
#include <vector>

#include "store/sqlite_schema.hpp"
#include "store/store_test_util.hpp"

namespace sonde {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const TimePoint kT0 = FromUnixSeconds(1'700'000'000);
const CheckKey kA{"default", "a"};
const CheckKey kB{"default", "b"};
const CheckKey kC{"other", "c"};

// Every row of every table the writer fills, in key order, as text (blobs in hex).
std::vector<std::string> Dump(const std::string& path) {
  const char* queries[] = {
      "SELECT 'key', id, ns, name FROM check_keys ORDER BY id",
      "SELECT 'state', * FROM check_states ORDER BY check_id",
      "SELECT 'run', * FROM runs ORDER BY id",
      "SELECT 'event', * FROM events ORDER BY id",
      "SELECT 'timeline', * FROM timelines ORDER BY check_id",
      "SELECT 'hourly', check_id, bucket_ns, ok_ns, observed_ns, runs, duration_sum_ns,"
      " hex(histogram) FROM rollup_hourly ORDER BY check_id, bucket_ns",
      "SELECT 'daily', check_id, bucket_ns, ok_ns, observed_ns, runs, duration_sum_ns,"
      " hex(histogram) FROM rollup_daily ORDER BY check_id, bucket_ns",
  };
  std::vector<std::string> rows;
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  for (const char* sql : queries) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), SQLITE_OK) << sql;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      std::string row;
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
        row += (text ? text : "NULL") + std::string("|");
      }
      rows.push_back(row);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return rows;
}

class SqliteWriterTest : public ::testing::Test {
 protected:
  // A writer on a new database file `name` in the test's directory.
  std::unique_ptr<SqliteWriter> Open(const std::string& name) {
    const std::string path = dir_.path() + "/" + name;
    auto db = OpenWriteConnection(path);
    EXPECT_TRUE(db.ok()) << db.error();
    EXPECT_TRUE(RegisterRollupFunctions(*db.value()).ok());
    return std::make_unique<SqliteWriter>(
        std::move(db.value()), path, Retention{hours(24 * 90), hours(24 * 90), hours(24 * 800)},
        clock_);
  }
  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }

  // Applies `ops` in batches of `batch` ops; the status of every op.
  std::vector<Status> ApplyIn(SqliteWriter& writer, const std::vector<WriteOp>& ops, size_t batch) {
    std::vector<Status> statuses;
    for (size_t i = 0; i < ops.size(); i += batch) {
      const std::vector<WriteOp> part(
          ops.begin() + static_cast<std::ptrdiff_t>(i),
          ops.begin() + static_cast<std::ptrdiff_t>(std::min(ops.size(), i + batch)));
      SqliteWriter::BatchResult result = writer.Apply({}, part);
      EXPECT_TRUE(result.committed);
      statuses.insert(statuses.end(), result.ops.begin(), result.ops.end());
    }
    return statuses;
  }

  TempDir dir_;
  TestClock clock_{kT0 + hours(24 * 3)};
};

WriteOp RunOp(const CheckKey& key, const std::string& uuid, TimePoint started, Duration took,
              bool ok, int64_t n) {
  WriteOp op;
  op.kind = WriteOp::Kind::kRun;
  op.key = key;
  op.run = MakeRun(key, uuid, started, took, ok,
                   ok ? std::vector<std::string>{} : std::vector<std::string>{"down " + uuid});
  op.state.ok = ok;
  op.state.errors = op.run.errors;
  op.state.run_duration = took;
  op.state.last_run = op.run.finished;
  op.state.run_uuid = uuid;
  op.state.success_count = ok ? n : 0;
  op.state.failure_count = ok ? 0 : n;
  return op;
}

// Runs of three checks over two days: one check reporting many times in a row (within an
// hour, across hour and day boundaries), failures opening and closing events, a clock stepped
// back, and a plain state write in between.
std::vector<WriteOp> Workload() {
  std::vector<WriteOp> ops;
  int64_t n = 0;
  TimePoint t = kT0 - minutes(7);
  for (int i = 0; i < 60; ++i) {
    const CheckKey& key = i % 5 < 3 ? kA : (i % 5 == 3 ? kB : kC);
    const bool ok = (i / 7) % 3 != 1;
    const Duration took = std::chrono::milliseconds(37 * (i % 11) + (i % 4 == 0 ? 90'000 : 0));
    ops.push_back(RunOp(key, "run-" + std::to_string(i), t, took, ok, ++n));
    t += i % 9 == 8 ? hours(7) + minutes(13) : minutes(4);
    if (i == 30) t -= hours(1);  // a clock stepped back: the timeline point stays
    if (i == 40) {
      WriteOp save;
      save.kind = WriteOp::Kind::kSaveState;
      save.key = kB;
      save.state.current_uuid = "running";
      ops.push_back(save);
    }
  }
  return ops;
}

TEST_F(SqliteWriterTest, BatchesStoreTheSameRowsAsSingleOps) {
  const std::vector<WriteOp> ops = Workload();
  auto single = Open("single.db");
  for (const Status& s : ApplyIn(*single, ops, 1)) EXPECT_TRUE(s.ok()) << s.message();
  const std::vector<std::string> expected = Dump(Path("single.db"));
  ASSERT_GT(expected.size(), ops.size());
  for (size_t batch : {size_t{7}, size_t{64}}) {
    SCOPED_TRACE("batches of " + std::to_string(batch));
    const std::string name = "batch" + std::to_string(batch) + ".db";
    auto batched = Open(name);
    for (const Status& s : ApplyIn(*batched, ops, batch)) EXPECT_TRUE(s.ok()) << s.message();
    const std::vector<std::string> got = Dump(Path(name));
    ASSERT_EQ(got.size(), expected.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], expected[i]) << "row " << i;
  }
}

// An op that fails alone (a duplicate run uuid) in the middle of a batch: the batch is applied
// again with savepoints; the others are stored as if each had its own batch.
TEST_F(SqliteWriterTest, AnOpFailingAloneLeavesTheRestOfItsBatch) {
  std::vector<WriteOp> ops = Workload();
  ops.insert(ops.begin() + 20, RunOp(kA, "run-3", kT0 + hours(30), seconds(1), true, 99));
  auto single = Open("single.db");
  const std::vector<Status> expected_status = ApplyIn(*single, ops, 1);
  auto batched = Open("batched.db");
  const std::vector<Status> got_status = ApplyIn(*batched, ops, ops.size());
  ASSERT_EQ(got_status.size(), ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    EXPECT_EQ(got_status[i].ok(), i != 20) << "op " << i;
    EXPECT_EQ(got_status[i].message(), expected_status[i].message()) << "op " << i;
  }
  EXPECT_EQ(Dump(Path("batched.db")), Dump(Path("single.db")));
}

}  // namespace
}  // namespace sonde
