#pragma once
// A fixed set of worker threads running submitted tasks; each task's result (or exception)
// comes back through a std::future, so callers keep order by keeping their futures in order.
#include "util/bounded_queue.hpp"

#include <cstddef>
#include <future>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace cachekit {

class TaskPool {
public:
  explicit TaskPool(size_t threads) : tasks_(threads * 2 + 1) {
    workers_.reserve(threads);
    for (size_t i = 0; i < threads; ++i)
      workers_.emplace_back([this] {
        while (auto task = tasks_.pop())
          (*task)();
      });
  }
  ~TaskPool() {
    tasks_.close();
    workers_.clear(); // joins
  }
  TaskPool(const TaskPool &) = delete;
  TaskPool &operator=(const TaskPool &) = delete;

  // Blocks while the pool's queue is full.
  template <typename F> auto submit(F task) -> std::future<std::invoke_result_t<F &>> {
    std::packaged_task<std::invoke_result_t<F &>()> packaged(std::move(task));
    auto result = packaged.get_future();
    tasks_.push(std::packaged_task<void()>([p = std::move(packaged)]() mutable { p(); }));
    return result;
  }

private:
  BoundedQueue<std::packaged_task<void()>> tasks_;
  std::vector<std::jthread> workers_;
};

} // namespace cachekit
