#include "util/byte_queue.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace cachekit;

namespace {
Chunk filled(ChunkPool &pool, char c) {
  Chunk chunk = pool.take();
  std::memset(chunk.data(), c, chunk.size());
  return chunk;
}
} // namespace

TEST_CASE("a retained block outlives the next read and is recycled only after its last holder") {
  ChunkPool pool(64, 8);
  ChunkQueue queue(4);
  queue.push(filled(pool, 'a'));
  queue.push(filled(pool, 'b'));
  queue.close();

  QueueSource source(queue, &pool);
  const auto first = source.next_block();
  REQUIRE(first.size() == 64);
  auto kept = source.retain_block();
  REQUIRE(kept);

  const auto second = source.next_block(); // moves on; the first chunk must stay untouched
  REQUIRE(second.size() == 64);
  CHECK(second[0] == std::byte{'b'});
  // The pool must not hand the retained chunk out again while it is held.
  Chunk other = pool.take();
  CHECK(other.data() != first.data());
  std::memset(other.data(), 'x', other.size());
  CHECK(first[0] == std::byte{'a'});
  CHECK(first[63] == std::byte{'a'});

  const auto *first_data = first.data();
  kept.reset(); // last holder gone: back to the pool
  Chunk recycled = pool.take();
  CHECK(recycled.data() == first_data);
  CHECK(source.next_block().empty());
}

TEST_CASE("slices of one chunk are read in order; the chunk goes back to its pool after the last holder") {
  ChunkPool pool(64, 8);
  auto chunk = std::make_shared<ChunkLease>(filled(pool, 'a'), &pool);
  std::memset(chunk->writable_data() + 32, 'b', 32);
  const auto *data = chunk->chunk().data();
  SliceQueue queue(4);
  queue.push(Slice{chunk, 0, 32});
  queue.push(Slice{chunk, 32, 0}); // an empty slice is skipped, not taken for the end
  queue.push(Slice{chunk, 32, 32});
  queue.close();
  chunk.reset(); // only the queued slices hold it now

  SliceSource source(queue);
  const auto first = source.next_block();
  REQUIRE(first.size() == 32);
  CHECK(first[0] == std::byte{'a'});
  auto kept = source.retain_block();
  REQUIRE(kept);
  const auto second = source.next_block();
  REQUIRE(second.size() == 32);
  CHECK(second.data() == data + 32);
  CHECK(second[0] == std::byte{'b'});
  CHECK(source.next_block().empty());
  // The source let go at the end; the retained block still holds the chunk.
  CHECK(pool.take().data() != data);
  kept.reset();
  CHECK(pool.take().data() == data);
}

TEST_CASE("bounded queue: the consumer sees the producer's failure, the producer the consumer's") {
  BoundedQueue<int> queue(1);
  queue.push(1);
  std::thread producer([&] { CHECK_THROWS_WITH(queue.push(2), "stop"); }); // blocks: full
  queue.fail(std::make_exception_ptr(std::runtime_error("stop")));
  producer.join();
  CHECK_THROWS_WITH(queue.pop(), "stop");
}

TEST_CASE("a queue sink with a pool fills the pool's chunks and splits writes at the chunk size") {
  ChunkPool pool(64, 8);
  Chunk given = pool.take();
  const auto *given_data = given.data();
  pool.give_back(std::move(given));
  ChunkQueue queue(8);
  QueueSink sink(queue, 64, &pool);
  std::vector<std::byte> bytes(150);
  for (size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<std::byte>(i);
  sink.write(std::span(bytes).first(100));
  sink.write(std::span(bytes).subspan(100));
  sink.close();

  std::vector<std::byte> seen;
  std::vector<size_t> sizes;
  bool reused = false;
  while (auto chunk = queue.pop()) {
    reused = reused || chunk->data() == given_data;
    sizes.push_back(chunk->size());
    seen.insert(seen.end(), chunk->begin(), chunk->end());
  }
  CHECK(reused); // the pooled buffer was filled, not a fresh allocation
  CHECK(sizes == std::vector<size_t>{64, 64, 22});
  CHECK(seen == bytes);
}

TEST_CASE("chunks of megabytes are huge-page aligned, writable, and survive a copy") {
  const size_t size = (size_t{8} << 20) + 12; // a compression frame plus its header
  Chunk chunk(size);
  CHECK(reinterpret_cast<uintptr_t>(chunk.data()) % (size_t{1} << 21) == 0);
  std::memset(chunk.data(), 'q', chunk.size());
  Chunk copy = chunk;
  CHECK(copy.size() == size);
  CHECK(copy.back() == std::byte{'q'});
  CHECK(std::memcmp(copy.data(), chunk.data(), size) == 0);
  Chunk small(1000); // the ordinary heap: no alignment promised, still usable
  std::memset(small.data(), 'r', small.size());
  CHECK(small[999] == std::byte{'r'});
}
