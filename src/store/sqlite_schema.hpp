// Sonde's SQLite file: its schema, its numbered migrations, and opening it safely.
// Thread safety: free functions over connections their callers own. Failure: Result values whose
// messages name the file and say what to do.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/result.hpp"
#include "store/sqlite_db.hpp"

namespace sonde {

// PRAGMA application_id of every Sonde database ("SOND"): a file without it is not ours.
inline constexpr int32_t kSondeApplicationId = 0x534f4e44;
inline constexpr const char* kDatabaseFileName = "sonde.db";

// The schema version this build writes (PRAGMA user_version after all migrations).
int LatestSchemaVersion();

// Opens the one write connection: refuses a file that is not SQLite, not Sonde's, corrupt
// (PRAGMA quick_check) or from a newer schema; creates a new file; switches to WAL with
// synchronous=FULL; applies pending migrations, each in its own transaction.
Result<std::unique_ptr<Db>> OpenWriteConnection(const std::string& path);

// Opens a read-only connection to a file OpenWriteConnection has set up.
Result<std::unique_ptr<Db>> OpenReadConnection(const std::string& path);

}  // namespace sonde
