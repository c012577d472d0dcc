// The GitHub-cache fallback policy (engine/fallback.hpp) with stand-in backends: a primary
// that fails in a chosen way, and a local directory playing the GitHub cache.
#include "engine/fallback.hpp"
#include "storage/local_backend.hpp"
#include "temp_dir.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <unistd.h>

using namespace cachekit;
using namespace cachekit::engine;

namespace {

enum class Failure { Service, Configuration, Miss };

// A primary backend ("s3") that fails every request the same way.
struct BrokenPrimary : storage::Backend {
  explicit BrokenPrimary(Failure f) : failure(f) {}
  Failure failure;
  void fail() const {
    if (failure == Failure::Service) throw ServiceError("S3 GET s3://b/x failed: HTTP 503 (after 4 attempts)");
    if (failure == Failure::Configuration)
      throw ConfigurationError("S3 list s3://b/ failed: HTTP 403 SignatureDoesNotMatch");
  }
  std::string name() const override { return "s3"; }
  std::string describe() const override { return "s3://b/"; }
  std::optional<storage::LookupResult> lookup(const storage::LookupRequest &) override {
    fail();
    return std::nullopt;
  }
  bool exists(const std::string &, const std::string &, const std::string &, const std::string &) override {
    fail();
    return false;
  }
  std::unique_ptr<ByteSource> open(const storage::EntryManifest &) override { throw ServiceError("no"); }
  void record_use(const storage::EntryManifest &) override {}
  std::unique_ptr<storage::EntryWriter> create(const std::string &, const std::string &, const std::string &,
                                               const std::string &) override {
    fail();
    throw ServiceError("S3 create failed: HTTP 500");
  }
  std::vector<storage::EntryManifest> list(const storage::ListFilter &) override { return {}; }
  void remove(const storage::EntryManifest &) override {}
  uint64_t collect_garbage(int64_t) override { return 0; }
};

struct Fixture {
  test::TempDir tmp;
  fs::path workspace = tmp.path / "ws";
  fs::path github_dir = tmp.path / "github";
  int github_made = 0;
  Scope scope{"o/r", "refs/heads/main", "", "main"};

  Fixture() {
    fs::create_directories(workspace / "data");
    std::ofstream(workspace / "data" / "f.txt") << "cached bytes";
  }
  RestoreRequest restore_request(const std::string &key = "k") const {
    RestoreRequest r;
    r.path_patterns = {"data"};
    r.primary_key = key;
    r.workspace = workspace;
    r.scope = scope;
    return r;
  }
  SaveRequest save_request(const std::string &key = "k") const {
    SaveRequest s;
    s.path_patterns = {"data"};
    s.key = key;
    s.workspace = workspace;
    s.scope = scope;
    s.compression.threads = 1;
    return s;
  }
  // Puts an entry into the stand-in GitHub cache.
  void seed_github(const std::string &key = "k") {
    storage::LocalBackend github(github_dir);
    REQUIRE(save(github, save_request(key)).saved);
  }
  BackendPlan plan(Failure failure, bool use_fallback = true, bool on_miss = false) {
    BackendPlan p;
    p.primary_type = "s3";
    p.primary = [failure] { return std::make_unique<BrokenPrimary>(failure); };
    p.github = [this] {
      ++github_made;
      return std::make_unique<storage::LocalBackend>(github_dir);
    };
    p.use_fallback = use_fallback;
    p.fallback_on_miss = on_miss;
    return p;
  }
};

} // namespace

TEST_CASE("restore: S3 failing (connection, 5xx) falls back to the GitHub cache and says why") {
  Fixture f;
  f.seed_github();
  const auto outcome = restore_with_fallback(f.plan(Failure::Service), f.restore_request());
  CHECK(outcome.found);
  CHECK(outcome.exact);
  CHECK(outcome.fallback_reason == std::string(kReasonPrimaryFailed));
  CHECK(outcome.backend == "local"); // the stand-in's name
  CHECK(backend_label("github", outcome.fallback_reason) == "github (fallback: S3 failed)");
  CHECK(backend_label("s3", "") == "s3");
}

TEST_CASE("restore: an S3 auth or configuration error is never hidden by the fallback") {
  Fixture f;
  f.seed_github();
  CHECK_THROWS_AS(restore_with_fallback(f.plan(Failure::Configuration), f.restore_request()), ConfigurationError);
  CHECK(f.github_made == 0);
}

TEST_CASE("restore: a plain S3 miss falls back only with fallback-on-miss") {
  Fixture f;
  f.seed_github();
  auto outcome = restore_with_fallback(f.plan(Failure::Miss), f.restore_request());
  CHECK_FALSE(outcome.found);
  CHECK(f.github_made == 0);
  outcome = restore_with_fallback(f.plan(Failure::Miss, true, true), f.restore_request());
  CHECK(outcome.found);
  CHECK(outcome.fallback_reason == std::string(kReasonPrimaryMiss));
  outcome = restore_with_fallback(f.plan(Failure::Miss, true, true), f.restore_request("absent"));
  CHECK_FALSE(outcome.found);
  CHECK(outcome.note.find("not in the GitHub cache either") != std::string::npos);
}

TEST_CASE("restore: without use-fallback, or without a runtime token, S3 failures are errors") {
  Fixture f;
  f.seed_github();
  CHECK_THROWS_AS(restore_with_fallback(f.plan(Failure::Service, false), f.restore_request()), ServiceError);
  auto unavailable = f.plan(Failure::Service);
  unavailable.github = nullptr;
  unavailable.github_unavailable = "no runtime token";
  CHECK_THROWS_AS(restore_with_fallback(unavailable, f.restore_request()), ServiceError);
  // only s3 has a fallback
  auto local = f.plan(Failure::Service);
  local.primary_type = "local";
  CHECK_THROWS_AS(restore_with_fallback(local, f.restore_request()), ServiceError);
  CHECK(f.github_made == 0);
}

TEST_CASE("missing S3 credentials use the GitHub cache when the fallback is on") {
  Fixture f;
  f.seed_github();
  auto p = f.plan(Failure::Service);
  p.primary = []() -> std::unique_ptr<storage::Backend> { throw MissingCredentialsError("access-key: missing"); };
  const auto outcome = restore_with_fallback(p, f.restore_request());
  CHECK(outcome.found);
  CHECK(outcome.fallback_reason == std::string(kReasonNoCredentials));
  p.use_fallback = false;
  CHECK_THROWS_AS(restore_with_fallback(p, f.restore_request()), MissingCredentialsError);
}

TEST_CASE("the GitHub cache never fails the job: its errors become a miss or a skipped save") {
  Fixture f;
  auto p = f.plan(Failure::Service);
  p.github = [] { return std::make_unique<BrokenPrimary>(Failure::Service); };
  const auto restored = restore_with_fallback(p, f.restore_request());
  CHECK_FALSE(restored.found);
  CHECK(restored.note.find("GitHub cache could not be used") != std::string::npos);
  const auto saved = save_with_fallback(p, f.save_request());
  CHECK_FALSE(saved.saved);
  CHECK(saved.warned);

  // `backend: github` itself: the same
  BackendPlan gh;
  gh.primary_type = "github";
  gh.primary = [] { return std::make_unique<BrokenPrimary>(Failure::Configuration); };
  CHECK_FALSE(restore_with_fallback(gh, f.restore_request()).found);
  // ... but a missing token for `backend: github` is bad input
  gh.primary = []() -> std::unique_ptr<storage::Backend> { throw MissingCredentialsError("github-token: missing"); };
  CHECK_THROWS_AS(restore_with_fallback(gh, f.restore_request()), MissingCredentialsError);
}

TEST_CASE("save: S3 failing saves to the GitHub cache; an auth error does not") {
  Fixture f;
  const auto outcome = save_with_fallback(f.plan(Failure::Service), f.save_request("new"));
  CHECK(outcome.saved);
  CHECK(outcome.fallback_reason == std::string(kReasonPrimaryFailed));
  storage::LocalBackend github(f.github_dir);
  CHECK(github.exists("o/r", "refs/heads/main", outcome.version, "new"));
  CHECK_THROWS_AS(save_with_fallback(f.plan(Failure::Configuration), f.save_request("other")), ConfigurationError);
  CHECK_FALSE(github.exists("o/r", "refs/heads/main", outcome.version, "other"));
}

TEST_CASE("which steps need the runtime token") {
  CHECK(needs_github("github", false));
  CHECK(needs_github("s3", true));
  CHECK_FALSE(needs_github("s3", false));
  CHECK_FALSE(needs_github("local", true));
}
