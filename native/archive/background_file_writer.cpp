#include "archive/background_file_writer.hpp"

#include "util/error.hpp"

#include <utility>

namespace cachekit::archive {

BackgroundFileWriter::BackgroundFileWriter(size_t max_queued) : queue_(max_queued), thread_([this] { run(); }) {}

BackgroundFileWriter::~BackgroundFileWriter() {
  if (!finished_) queue_.fail(std::make_exception_ptr(OperationError("extraction stopped")));
}

void BackgroundFileWriter::begin(FileOutput file) {
  Message m;
  m.kind = Message::Kind::Begin;
  m.file = std::move(file);
  queue_.push(std::move(m));
}

void BackgroundFileWriter::write(const std::byte *data, size_t size, int64_t offset,
                                 std::shared_ptr<const void> chunk) {
  Message m;
  m.kind = Message::Kind::Write;
  m.size = size;
  m.offset = offset;
  if (chunk) {
    m.data = data;
    m.chunk = std::move(chunk);
  } else {
    m.copy.assign(data, data + size);
  }
  queue_.push(std::move(m));
}

void BackgroundFileWriter::end(int64_t size) {
  Message m;
  m.kind = Message::Kind::End;
  m.offset = size;
  queue_.push(std::move(m));
}

void BackgroundFileWriter::finish() {
  finished_ = true;
  queue_.close();
  thread_.join();
  if (queue_.failed()) queue_.pop(); // rethrows the thread's failure
}

void BackgroundFileWriter::run() {
  try {
    FileOutput file;
    while (auto m = queue_.pop()) {
      switch (m->kind) {
      case Message::Kind::Begin: file = std::move(m->file); break;
      case Message::Kind::Write: file.write(m->chunk ? m->data : m->copy.data(), m->size, m->offset); break;
      case Message::Kind::End: file.close(m->offset); break;
      }
    }
  } catch (...) {
    queue_.fail(std::current_exception());
  }
}

} // namespace cachekit::archive
