#pragma once
// Writes the cache paths as a pax tar stream (the layout actions/cache writes: member
// names relative to the workspace, `../` for paths outside it) into a ByteSink.
#include "archive/plan.hpp"
#include "util/byte_stream.hpp"

#include <cstdint>

namespace cachekit::archive {

struct TarStats {
  uint64_t files = 0;
  uint64_t directories = 0;
  uint64_t symlinks = 0;
  uint64_t hardlinks = 0;
  uint64_t data_bytes = 0; // file content bytes
  bool read_ahead = false; // some file was not in the page cache, so the read-ahead ran
};

// Writes the planned entries as pax tar into `out` (does not close `out`). Once a file is
// found not to be in the page cache, a read-ahead thread warms it for the files just ahead,
// so a cold tree is read with more than one request in flight.
TarStats write_tar(const Plan &plan, ByteSink &out);

} // namespace cachekit::archive
