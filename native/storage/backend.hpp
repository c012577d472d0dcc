#pragma once
// The storage interface every backend (local directory, S3, GitHub cache service)
// implements. Backends move bytes and manifests; key matching policy lives in
// key_match.hpp, orchestration in engine/.
#include "util/byte_stream.hpp"

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace cachekit::storage {

// What an entry is, written last and read first: an entry without a manifest does not
// exist. `location` is backend-specific and not part of the serialised form's contract.
struct EntryManifest {
  std::string key;
  std::string version;
  std::string repository;
  std::string ref;
  uint64_t size = 0;      // archive bytes
  std::string sha256;     // of the archive bytes; empty when the writer did not record one
  int64_t created_ms = 0; // unix milliseconds
  int64_t last_used_ms = 0;
  std::string compression = "zstd-without-long";
  std::string run_id;
  std::string commit;
  std::string tool_version;
  std::string location;
};

nlohmann::json to_json(const EntryManifest &m);
EntryManifest manifest_from_json(const nlohmann::json &j);

struct LookupRequest {
  std::string primary_key;
  std::vector<std::string> restore_keys;
  std::string version;
  std::string repository;
  std::vector<std::string> refs; // read order: own ref, PR base ref, default branch
};

struct LookupResult {
  EntryManifest entry;
  bool exact = false; // the primary key matched exactly
};

struct ListFilter {
  std::string repository; // empty = all
  std::string ref;        // empty = all
  std::string key_prefix; // empty = all
};

// Receives the archive bytes of a new entry. Nothing is visible until commit().
// Destroying an uncommitted writer discards what was written.
class EntryWriter : public ByteSink {
public:
  // Publishes the entry after close(). Returns false when an entry with the same key,
  // version and scope was published first (first writer wins); the bytes are discarded.
  virtual bool commit(const EntryManifest &manifest) = 0;
};

// Thrown by Backend::create when the service declines a new entry for a reason that is not
// a failure of the job: another job is creating the same entry right now, uploads are rate
// limited, the cache is full or read-only for this run. The save is skipped, with what() as
// the reason; `warn` says whether the user should be warned (rate limit, quota) or merely
// told (someone else is saving the same entry).
class SaveDeclined : public std::runtime_error {
public:
  SaveDeclined(const std::string &reason, bool warn) : std::runtime_error(reason), warn_(warn) {}
  bool warn() const { return warn_; }

private:
  bool warn_;
};

class Backend {
public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // Human-readable location for logs ("local:/path", "s3://bucket/prefix").
  virtual std::string describe() const = 0;

  virtual std::optional<LookupResult> lookup(const LookupRequest &request) = 0;
  virtual bool exists(const std::string &repository, const std::string &ref, const std::string &version,
                      const std::string &key) = 0;
  virtual std::unique_ptr<ByteSource> open(const EntryManifest &entry) = 0;
  // Records a restore hit, so prune can evict by real last use.
  virtual void record_use(const EntryManifest &entry) = 0;
  // Starts a new entry; throws SaveDeclined when the service will not take it now.
  virtual std::unique_ptr<EntryWriter> create(const std::string &repository, const std::string &ref,
                                              const std::string &version, const std::string &key) = 0;

  virtual std::vector<EntryManifest> list(const ListFilter &filter) = 0;
  virtual void remove(const EntryManifest &entry) = 0;
  // Removes leftovers of interrupted saves older than `min_age_seconds`. Returns bytes freed.
  virtual uint64_t collect_garbage(int64_t min_age_seconds) = 0;
};

} // namespace cachekit::storage
