// One suite, every Store implementation (the SQLite store joins the list when it lands).
#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "store/memory_store.hpp"

namespace sonde {
namespace {

struct Backend {
  const char* name;
  std::function<std::unique_ptr<Store>()> make;
};

class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  std::unique_ptr<Store> store_ = GetParam().make();
};

const CheckKey kA{"default", "a"};
const CheckKey kB{"other", "b"};

TEST_P(StoreTest, SavesLoadsAndDeletesStates) {
  CheckState s;
  s.ok = true;
  s.errors = {"x"};
  s.success_count = 3;
  s.last_run = FromUnixSeconds(100);
  ASSERT_TRUE(store_->SaveState(kA, s).ok());
  ASSERT_TRUE(store_->SaveState(kB, CheckState{}).ok());
  auto all = store_->LoadStates();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all.at(kA), s);
  s.ok = false;
  ASSERT_TRUE(store_->SaveState(kA, s).ok());
  EXPECT_FALSE(store_->LoadStates().at(kA).ok);
  ASSERT_TRUE(store_->DeleteState(kA).ok());
  EXPECT_EQ(store_->LoadStates().count(kA), 0u);
}

TEST_P(StoreTest, KeepsRunsNewestFirst) {
  for (int i = 0; i < 5; ++i) {
    RunRecord r{kA, "run-" + std::to_string(i), FromUnixSeconds(i), FromUnixSeconds(i + 1),
                i % 2 == 0, {}, "report"};
    ASSERT_TRUE(store_->AppendRun(r).ok());
  }
  const auto runs = store_->RecentRuns(kA, 3);
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].run_uuid, "run-4");
  EXPECT_EQ(runs[2].run_uuid, "run-2");
  EXPECT_TRUE(store_->RecentRuns(kB, 3).empty());
}

INSTANTIATE_TEST_SUITE_P(
    AllStores, StoreTest,
    ::testing::Values(Backend{"memory", [] { return std::make_unique<MemoryStore>(); }}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace sonde
