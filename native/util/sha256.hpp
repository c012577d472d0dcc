#pragma once
// Incremental SHA-256 on OpenSSL's EVP interface.
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace cachekit {

class Sha256 {
public:
  Sha256();
  ~Sha256();
  Sha256(Sha256 &&) noexcept;
  Sha256 &operator=(Sha256 &&) noexcept;
  Sha256(const Sha256 &) = delete;
  Sha256 &operator=(const Sha256 &) = delete;

  void update(std::span<const std::byte> data);
  void update(std::string_view data);
  std::string hex_digest(); // finishes the hash; the object is reset afterwards

  static std::string hex(std::string_view data);

private:
  struct Deleter {
    void operator()(evp_md_ctx_st *ctx) const;
  };
  std::unique_ptr<evp_md_ctx_st, Deleter> ctx_;
};

} // namespace cachekit
