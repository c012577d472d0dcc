#pragma once
// Writes one entry to S3: the archive first (multipart, several parts in flight, each part
// retried on its own; a single PUT when the archive fits in one part), then the manifest
// with If-None-Match: * — the manifest is what makes the entry exist, so a reader never sees
// half an archive and the first manifest to land wins. Anything uncommitted is cleaned up:
// an open multipart upload is aborted, an uploaded archive of a losing writer deleted.
#include "storage/backend.hpp"
#include "storage/parallel_upload.hpp"
#include "storage/s3_buffer.hpp"
#include "storage/s3_client.hpp"

#include <string>

namespace cachekit::storage {

class S3EntryWriter : public EntryWriter {
public:
  // `archive_name` is the new archive object; `manifest_name` the object that commits it.
  S3EntryWriter(S3Client &client, std::string archive_name, std::string manifest_name);
  ~S3EntryWriter() override;

  void write(std::span<const std::byte> data) override;
  void close() override;
  bool commit(const EntryManifest &manifest) override;

  // The part size for part `n` (1-based): the configured size, doubled every 1000 parts so
  // an archive of any size stays within S3's 10000 parts.
  static uint64_t part_size_for(uint64_t base, int part_number);

private:
  void submit(PageBuffer part);
  void cleanup() noexcept;

  S3Client &client_;
  std::string archive_name_;
  std::string manifest_name_;
  PageBuffer pending_;
  uint64_t current_part_size_;
  std::string upload_id_;
  bool closed_ = false;
  bool archive_written_ = false;
  bool committed_ = false;
  ParallelUploader parts_; // last member: its workers use client_, archive_name_ and upload_id_
};

} // namespace cachekit::storage
