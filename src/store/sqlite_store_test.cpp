// SqliteStore beyond the shared suite: reopening, refusing bad files and directories, and a
// full disk.
#include "store/sqlite_store.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "store/store_test_util.hpp"

namespace sonde {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::HasSubstr;

const CheckKey kA{"default", "a"};
const TimePoint kT0 = FromUnixSeconds(1'700'000'000);

class SqliteStoreTest : public ::testing::Test {
 protected:
  Result<std::unique_ptr<SqliteStore>> Open(SqliteOptions options = {}) {
    options.clock = &clock_;
    return SqliteStore::Open(dir_.path(), options);
  }
  std::string DbPath() const { return dir_.path() + "/sonde.db"; }
  // Runs SQL on the closed database file with a plain connection.
  void RawExec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(DbPath().c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << error;
    sqlite3_free(error);
    sqlite3_close(db);
  }

  // A single integer from the database file, read with a plain connection (WAL allows it
  // while the store is open).
  int64_t RawInt(const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_stmt* stmt = nullptr;
    int64_t v = -1;
    if (sqlite3_open(DbPath().c_str(), &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      v = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return v;
  }

  TempDir dir_;
  TestClock clock_{kT0};
};

TEST_F(SqliteStoreTest, ReopenKeepsEverything) {
  CheckState state;
  state.ok = false;
  state.errors = {"boom"};
  state.failure_count = 2;
  {
    auto store = Open();
    ASSERT_TRUE(store.ok()) << store.error();
    ASSERT_TRUE(CommitSync(*store.value(), MakeRun(kA, "1", kT0, seconds(3), true)).ok());
    ASSERT_TRUE(CommitSync(*store.value(),
                           MakeRun(kA, "2", kT0 + minutes(10), seconds(3), false, {"boom"}), state)
                    .ok());
    ASSERT_TRUE(store.value()->SaveState({"default", "b"}, CheckState{}).ok());
  }
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.error();
  auto states = store.value()->LoadStates();
  ASSERT_EQ(states.size(), 2u);
  EXPECT_EQ(states.at(kA), state);
  EXPECT_EQ(store.value()->History({kA}).value().size(), 2u);
  auto open = store.value()->OpenEvent(kA).value();
  ASSERT_TRUE(open.has_value());
  EXPECT_EQ(open->first_error, "boom");
  auto u = store.value()->Uptime(kA, hours(1), kT0 + minutes(20) + seconds(3)).value();
  EXPECT_DOUBLE_EQ(*u.uptime, 0.5);
  // The timeline continues across the restart: the next run extends the same event.
  ASSERT_TRUE(
      CommitSync(*store.value(), MakeRun(kA, "3", kT0 + minutes(20), seconds(3), true)).ok());
  auto events = store.value()->Events(kA, std::nullopt, 10).value();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].end, kT0 + minutes(20) + seconds(3));
}

TEST_F(SqliteStoreTest, DuplicateRunUuidFailsOnlyThatRun) {
  auto store = Open();
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(CommitSync(*store.value(), MakeRun(kA, "same", kT0, seconds(1), false)).ok());
  const Status dup =
      CommitSync(*store.value(), MakeRun(kA, "same", kT0 + minutes(1), seconds(1), true));
  ASSERT_FALSE(dup.ok());
  EXPECT_THAT(dup.message(), HasSubstr("already stored"));
  // Nothing of the failed run is stored: the event stays open.
  EXPECT_EQ(store.value()->History({kA}).value().size(), 1u);
  EXPECT_TRUE(store.value()->OpenEvent(kA).value().has_value());
  EXPECT_TRUE(
      CommitSync(*store.value(), MakeRun(kA, "next", kT0 + minutes(2), seconds(1), true)).ok());
  EXPECT_FALSE(store.value()->OpenEvent(kA).value().has_value());
}

TEST_F(SqliteStoreTest, RefusesAFileThatIsNotSqlite) {
  std::ofstream(DbPath()) << "hello, this is a text file that happens to be called sonde.db\n";
  auto store = Open();
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.error(), HasSubstr(DbPath()));
  EXPECT_THAT(store.error(), HasSubstr("not a SQLite database"));
  EXPECT_THAT(store.error(), HasSubstr("move the file"));
}

TEST_F(SqliteStoreTest, RefusesAForeignSqliteDatabase) {
  RawExec("CREATE TABLE photos(id INTEGER PRIMARY KEY, data BLOB)");
  auto store = Open();
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.error(),
              HasSubstr("not a Sonde database (application_id 0x00000000, 1 tables)"));
  RawExec("PRAGMA application_id = 1234");
  EXPECT_THAT(Open().error(), HasSubstr("not a Sonde database (application_id 0x000004d2"));
}

TEST_F(SqliteStoreTest, ReopenKeepsHeartbeatTokens) {
  {
    auto store = Open();
    ASSERT_TRUE(store.ok()) << store.error();
    ASSERT_TRUE(SaveTokenSync(*store.value(), kA, "secret").ok());
  }
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.error();
  EXPECT_EQ(store.value()->LoadHeartbeatTokens().value().at(kA), "secret");
}

// A file written by the first release (schema 1) gains the heartbeat table and keeps its rows.
TEST_F(SqliteStoreTest, MigratesASchemaV1File) {
  {
    auto store = Open();
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE(CommitSync(*store.value(), MakeRun(kA, "1", kT0, seconds(3), true)).ok());
  }
  RawExec("DROP TABLE heartbeat_tokens; PRAGMA user_version = 1");
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.error();
  EXPECT_EQ(RawInt("PRAGMA user_version"), 2);
  EXPECT_EQ(store.value()->History({kA}).value().size(), 1u);
  ASSERT_TRUE(SaveTokenSync(*store.value(), kA, "t").ok());
  EXPECT_EQ(store.value()->LoadHeartbeatTokens().value().at(kA), "t");
}

TEST_F(SqliteStoreTest, RefusesANewerSchema) {
  ASSERT_TRUE(Open().ok());
  RawExec("PRAGMA user_version = 999");
  auto store = Open();
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.error(), HasSubstr("newer Sonde (schema version 999"));
}

TEST_F(SqliteStoreTest, RefusesACorruptDatabase) {
  {
    auto store = Open();
    ASSERT_TRUE(store.ok());
    for (int i = 0; i < 300; ++i) {
      store.value()->CommitRun(MakeRun(kA, std::to_string(i), kT0 + minutes(i), seconds(1),
                                       i % 7 != 0, {std::string(200, 'x')}),
                               CheckState{}, nullptr);
    }
    ASSERT_TRUE(
        CommitSync(*store.value(), MakeRun(kA, "last", kT0 + hours(10), seconds(1), true)).ok());
  }
  // Scribble over the middle of the file (leaving its header and schema page intact).
  const auto size = std::filesystem::file_size(DbPath());
  ASSERT_GT(size, 40'000u);
  std::fstream f(DbPath(), std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(size / 2));
  const std::string junk(8192, '\x5a');
  f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  f.close();
  auto store = Open();
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.error(), HasSubstr(DbPath()));
  EXPECT_THAT(store.error(), HasSubstr("corrupt"));
}

TEST_F(SqliteStoreTest, RefusesAStateDirThatIsAFile) {
  const std::string file = dir_.path() + "/plain";
  std::ofstream(file) << "x";
  auto store = SqliteStore::Open(file, {});
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.error(), HasSubstr("cannot use state directory " + file));
}

// Root ignores permissions, so as root the attempt runs in a child that gives them up.
TEST_F(SqliteStoreTest, RefusesAReadOnlyStateDir) {
  ::chmod(dir_.path().c_str(), 0755);  // let the unprivileged child reach it
  const std::string ro = dir_.path() + "/ro";
  std::filesystem::create_directory(ro);
  ::chmod(ro.c_str(), 0555);
  auto attempt = [&] {
    auto store = SqliteStore::Open(ro, {});
    return store.ok() ? std::string("opened") : store.error();
  };
  std::string error;
  if (::geteuid() != 0) {
    error = attempt();
  } else {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      const std::string e =
          ::setgid(65534) == 0 && ::setuid(65534) == 0 ? attempt() : "setuid failed";
      [[maybe_unused]] auto n = ::write(fds[1], e.data(), e.size());
      ::_exit(0);
    }
    ::close(fds[1]);
    char buf[1024];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) error.append(buf, static_cast<size_t>(n));
    ::close(fds[0]);
    ::waitpid(pid, nullptr, 0);
  }
  EXPECT_THAT(error, HasSubstr("cannot use state directory " + ro + ": it is not writable"));
  EXPECT_THAT(error, HasSubstr("--state-dir"));
}

TEST_F(SqliteStoreTest, OneProcessPerStateDir) {
  auto first = Open();
  ASSERT_TRUE(first.ok());
  auto second = Open();
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.error(), HasSubstr("another sonde process is using it"));
  first.value().reset();
  EXPECT_TRUE(Open().ok());
}

// A capped database stands in for a full disk: commits fail with a clear error, reads go on,
// and once pruning frees space (the clock passes raw retention) commits succeed again.
TEST_F(SqliteStoreTest, FullDiskFailsCommitsClearlyAndRecovers) {
  SqliteOptions options;
  options.max_db_bytes = 300 * 1024;
  auto opened = Open(options);
  ASSERT_TRUE(opened.ok()) << opened.error();
  SqliteStore& store = *opened.value();
  Status failure = Status::Ok();
  int stored = 0;
  for (; stored < 5000 && failure.ok(); ++stored) {
    failure = CommitSync(store, MakeRun(kA, "r" + std::to_string(stored), kT0 + seconds(stored),
                                        seconds(1), true, {std::string(1000, 'e')}));
  }
  ASSERT_FALSE(failure.ok()) << "never filled up";
  EXPECT_THAT(failure.message(), HasSubstr("cannot store: disk full (" + DbPath() + ")"));
  // Reads still work. A state write too big for the space left fails on disk, but is kept
  // (LoadStates shows it) and retried until it lands.
  EXPECT_FALSE(store.History({kA}).value().empty());
  CheckState pending;
  pending.errors = {std::string(60'000, 'p')};
  ASSERT_TRUE(store.SaveState({"default", "pending"}, pending).ok());
  EXPECT_EQ(store.LoadStates().at({"default", "pending"}), pending);
  EXPECT_EQ(RawInt("SELECT count(*) FROM check_states s JOIN check_keys k ON k.id = s.check_id"
                   " WHERE k.name = 'pending'"),
            0);
  // Space returns: everything stored so far falls out of raw retention and is pruned.
  clock_.Advance(hours(24 * 91));
  Status after = Status::Error("not tried");
  WaitFor(
      [&] {
        after = CommitSync(
            store, MakeRun(kA, "after-" + std::to_string(clock_.Now().time_since_epoch().count()),
                           clock_.Now(), seconds(1), true));
        return after.ok();
      },
      std::chrono::seconds(20));
  EXPECT_TRUE(after.ok()) << after.message();
  opened.value().reset();
  auto reopened = Open();
  ASSERT_TRUE(reopened.ok()) << reopened.error();
  EXPECT_EQ(reopened.value()->LoadStates().at({"default", "pending"}), pending);
}

}  // namespace
}  // namespace sonde
