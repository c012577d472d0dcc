#include "util/byte_queue.hpp"

#include <catch2/catch.hpp>
#include <cstring>
#include <stdexcept>
#include <thread>

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
