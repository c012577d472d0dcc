#include "archive/plan.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <memory>
#include <mutex>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace cachekit::archive {
namespace {

// Directory listings in flight: enough to keep a disk's queue busy; on a warm tree the
// extra threads only wait for work.
constexpr size_t kWalkThreads = 8;
constexpr size_t kNoListing = SIZE_MAX;

[[noreturn]] void throw_unreadable(const std::string &path, int err) {
  throw UsageError(
      fmt::format("path: cannot read '{}': {} (the cache paths must be readable)", path, std::strerror(err)));
}

std::string member_name_for(const fs::path &workspace, const fs::path &absolute) {
  auto rel = absolute.lexically_relative(workspace);
  if (rel.empty()) return absolute.string(); // unrelated roots: keep absolute, as tar -P does
  return rel.string();
}

FileMeta meta_of(const struct stat &st) {
  return FileMeta{st.st_mode,
                  st.st_uid,
                  st.st_gid,
                  static_cast<uint64_t>(st.st_nlink),
                  static_cast<uint64_t>(st.st_size),
                  static_cast<uint64_t>(st.st_dev),
                  static_cast<uint64_t>(st.st_ino),
                  static_cast<int64_t>(st.st_mtim.tv_sec),
                  static_cast<int64_t>(st.st_mtim.tv_nsec)};
}

std::string child_path(const std::string &dir, const std::string &name) {
  return dir.ends_with('/') ? dir + name : dir + "/" + name;
}

struct Child {
  std::string name;
  FileMeta meta;
  int error = 0;               // lstat's errno, if it failed
  size_t listing = kNoListing; // a directory's own listing
};

// One directory's children, sorted by name; or why it could not be listed.
struct Listing {
  std::vector<Child> children;
  int error = 0;
};

// Lists directories on a few threads; the order of the result does not depend on theirs.
class ParallelLister {
public:
  ParallelLister() {
    threads_.reserve(kWalkThreads);
    for (size_t i = 0; i < kWalkThreads; ++i)
      threads_.emplace_back([this] { work(); });
  }
  ~ParallelLister() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    work_ready_.notify_all();
    threads_.clear(); // joins
  }
  ParallelLister(const ParallelLister &) = delete;
  ParallelLister &operator=(const ParallelLister &) = delete;

  // Lists `dir` and, recursively, every directory below it; returns its listing's index.
  size_t add(std::string dir) {
    std::lock_guard lock(mutex_);
    return add_locked(std::move(dir));
  }

  // Waits until every directory added (and found below) is listed.
  void wait() {
    std::unique_lock lock(mutex_);
    all_done_.wait(lock, [&] { return pending_ == 0; });
  }

  // After wait(): how many entries all listings hold together.
  size_t entries_listed() {
    std::lock_guard lock(mutex_);
    return entries_listed_;
  }

  // After wait(): hands out a listing, once (the plan copies what it needs; large trees
  // should not hold both at their full size).
  Listing take(size_t index) { return std::move(listings_[index]); }

private:
  size_t add_locked(std::string dir) {
    listings_.emplace_back();
    const size_t index = listings_.size() - 1;
    queue_.emplace_back(index, std::move(dir));
    ++pending_;
    work_ready_.notify_one();
    return index;
  }

  void work() {
    std::unique_lock lock(mutex_);
    for (;;) {
      work_ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      auto [index, dir] = std::move(queue_.front());
      queue_.pop_front();
      Listing &out = listings_[index]; // a deque: stays put while others are added
      lock.unlock();
      list(dir, out);
      lock.lock();
      entries_listed_ += out.children.size();
      for (auto &child : out.children)
        if (child.error == 0 && S_ISDIR(child.meta.mode)) child.listing = add_locked(child_path(dir, child.name));
      if (--pending_ == 0) all_done_.notify_all();
    }
  }

  static void list(const std::string &dir, Listing &out) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      out.error = errno;
      return;
    }
    std::unique_ptr<DIR, int (*)(DIR *)> stream(::fdopendir(fd), &::closedir);
    if (!stream) {
      out.error = errno;
      ::close(fd);
      return;
    }
    errno = 0;
    while (const dirent *d = ::readdir(stream.get())) {
      const std::string_view name = d->d_name;
      if (name == "." || name == "..") continue;
      out.children.push_back(Child{std::string(name), {}, 0, kNoListing});
    }
    if (errno != 0) {
      out.error = errno;
      return;
    }
    std::sort(out.children.begin(), out.children.end(), [](const Child &a, const Child &b) { return a.name < b.name; });
    for (auto &child : out.children) {
      struct stat st {};
      if (::fstatat(fd, child.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        child.error = errno;
      else
        child.meta = meta_of(st);
    }
  }

  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable all_done_;
  std::deque<Listing> listings_;
  std::deque<std::pair<size_t, std::string>> queue_;
  size_t pending_ = 0;
  size_t entries_listed_ = 0;
  bool stopping_ = false;
  std::vector<std::jthread> threads_;
};

// Depth-first, in listing order: the first unreadable path met is the one reported.
void flatten(ParallelLister &lister, size_t index, uint32_t root, const std::string &dir,
             std::vector<PlannedEntry> &out) {
  const Listing listing = lister.take(index);
  if (listing.error != 0) throw_unreadable(dir, listing.error);
  for (const auto &child : listing.children) {
    std::string path = child_path(dir, child.name);
    if (child.error != 0) throw_unreadable(path, child.error);
    out.push_back(PlannedEntry{path, root, child.meta});
    if (child.listing != kNoListing) flatten(lister, child.listing, root, path, out);
  }
}

} // namespace

std::string Plan::member_name(const PlannedEntry &e) const {
  const auto &r = roots[e.root];
  std::string name = r.member;
  name.append(std::string_view(e.absolute).substr(r.absolute.size()));
  return name;
}

Plan plan_entries(const fs::path &workspace, const std::vector<fs::path> &paths) {
  Plan plan;
  ParallelLister lister;
  std::vector<size_t> root_listings;
  std::vector<FileMeta> root_metas;
  for (const auto &path : paths) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) throw_unreadable(path.string(), errno);
    plan.roots.push_back(PlanRoot{path.native(), member_name_for(workspace, path)});
    root_metas.push_back(meta_of(st));
    root_listings.push_back(S_ISDIR(st.st_mode) ? lister.add(path.native()) : kNoListing);
  }
  lister.wait();
  // Sized once: growing by doubling moved every entry into fresh memory up to twice, a page
  // fault per 4 KiB touched (2k of a cold cargo save's 6.2k faults were the plan's).
  plan.entries.reserve(plan.roots.size() + lister.entries_listed());
  for (uint32_t root = 0; root < plan.roots.size(); ++root) {
    const auto &path = plan.roots[root].absolute;
    plan.entries.push_back(PlannedEntry{path, root, root_metas[root]});
    if (root_listings[root] != kNoListing) flatten(lister, root_listings[root], root, path, plan.entries);
  }
  return plan;
}

} // namespace cachekit::archive
