#include "grove/storage/detail/codec.hpp"

#include <zlib.h>
#include <zstd.h>

#include "grove/storage/error.hpp"

namespace grove::storage::detail {
namespace {

constexpr std::size_t out_chunk = 64 * 1024;

class identity_codec final : public stream_codec {
 public:
  result<void> feed(std::string_view input, bool, std::string& out) override {
    out.append(input);
    return {};
  }
};

// gzip framing through zlib (windowBits 15 + 16).
class gzip_codec final : public stream_codec {
 public:
  gzip_codec(bool compress, int level) : compress_(compress) {
    int rc = compress ? deflateInit2(&z_, level == 0 ? Z_DEFAULT_COMPRESSION : level, Z_DEFLATED,
                                     15 + 16, 8, Z_DEFAULT_STRATEGY)
                      : inflateInit2(&z_, 15 + 16);
    ok_ = rc == Z_OK;
  }
  ~gzip_codec() override {
    if (!ok_) return;
    if (compress_) {
      deflateEnd(&z_);
    } else {
      inflateEnd(&z_);
    }
  }

  result<void> feed(std::string_view input, bool last, std::string& out) override {
    if (!ok_) return fail(errc::codec_error, "zlib could not be initialised", "gzip");
    if (done_) {
      if (input.empty()) return {};
      return fail(errc::codec_error, "data after the end of the gzip stream", "gzip");
    }
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    z_.avail_in = static_cast<uInt>(input.size());
    char buffer[out_chunk];
    for (;;) {
      z_.next_out = reinterpret_cast<Bytef*>(buffer);
      z_.avail_out = sizeof buffer;
      int rc = compress_ ? deflate(&z_, last ? Z_FINISH : Z_NO_FLUSH) : inflate(&z_, Z_NO_FLUSH);
      out.append(buffer, sizeof buffer - z_.avail_out);
      if (rc == Z_STREAM_END) {
        done_ = true;
        if (!compress_ && z_.avail_in != 0) {
          return fail(errc::codec_error, "data after the end of the gzip stream", "gzip");
        }
        return {};
      }
      if (rc == Z_BUF_ERROR || (rc == Z_OK && z_.avail_out != 0 && z_.avail_in == 0)) {
        // No progress possible without more input.
        if (last) break;
        return {};
      }
      if (rc != Z_OK) {
        return fail(errc::codec_error,
                    std::string("gzip stream is corrupt: ") + (z_.msg ? z_.msg : "zlib error"),
                    "gzip");
      }
    }
    if (last && !done_) {
      return fail(errc::codec_error, "the gzip stream ends early (truncated)", "gzip");
    }
    return {};
  }

 private:
  z_stream z_{};
  bool compress_;
  bool ok_ = false;
  bool done_ = false;
};

class zstd_encoder final : public stream_codec {
 public:
  explicit zstd_encoder(int level) : ctx_(ZSTD_createCCtx()) {
    ZSTD_CCtx_setParameter(ctx_, ZSTD_c_compressionLevel, level == 0 ? 3 : level);
  }
  ~zstd_encoder() override { ZSTD_freeCCtx(ctx_); }

  result<void> feed(std::string_view input, bool last, std::string& out) override {
    ZSTD_inBuffer in{input.data(), input.size(), 0};
    char buffer[out_chunk];
    for (;;) {
      ZSTD_outBuffer o{buffer, sizeof buffer, 0};
      std::size_t left = ZSTD_compressStream2(ctx_, &o, &in, last ? ZSTD_e_end : ZSTD_e_continue);
      if (ZSTD_isError(left)) {
        return fail(errc::codec_error, std::string("zstd: ") + ZSTD_getErrorName(left), "zstd");
      }
      out.append(buffer, o.pos);
      bool finished = last ? left == 0 : in.pos == in.size;
      if (finished) return {};
    }
  }

 private:
  ZSTD_CCtx* ctx_;
};

class zstd_decoder final : public stream_codec {
 public:
  zstd_decoder() : ctx_(ZSTD_createDCtx()) {}
  ~zstd_decoder() override { ZSTD_freeDCtx(ctx_); }

  result<void> feed(std::string_view input, bool last, std::string& out) override {
    ZSTD_inBuffer in{input.data(), input.size(), 0};
    char buffer[out_chunk];
    for (;;) {
      ZSTD_outBuffer o{buffer, sizeof buffer, 0};
      const std::size_t consumed_before = in.pos;
      std::size_t hint = ZSTD_decompressStream(ctx_, &o, &in);
      if (ZSTD_isError(hint)) {
        return fail(errc::codec_error,
                    std::string("zstd stream is corrupt: ") + ZSTD_getErrorName(hint), "zstd");
      }
      out.append(buffer, o.pos);
      // hint == 0: a frame just ended. Otherwise a call that made progress
      // means a frame is open (a call without input after a frame's end
      // returns the next header's size, which is not a truncation).
      if (hint == 0) {
        in_frame_ = false;
      } else if (in.pos > consumed_before || o.pos > 0) {
        in_frame_ = true;
      }
      if (o.pos < o.size && in.pos == in.size) break;  // input used, output flushed
    }
    if (last && in_frame_) {
      return fail(errc::codec_error, "the zstd stream ends early (truncated)", "zstd");
    }
    return {};
  }

 private:
  ZSTD_DCtx* ctx_;
  bool in_frame_ = false;
};

}  // namespace

std::string_view encoding_name(encoding e) {
  switch (e) {
    case encoding::gzip:
      return "gzip";
    case encoding::zstd:
      return "zstd";
    case encoding::identity:
      break;
  }
  return "identity";
}

result<encoding> parse_encoding(std::string_view name) {
  if (name == "identity" || name.empty()) return encoding::identity;
  if (name == "gzip") return encoding::gzip;
  if (name == "zstd") return encoding::zstd;
  return fail(errc::codec_error, "unknown object encoding \"" + std::string(name) + "\"",
              "x-amz-meta-grove-encoding");
}

std::unique_ptr<stream_codec> make_encoder(encoding e, int level) {
  switch (e) {
    case encoding::gzip:
      return std::make_unique<gzip_codec>(true, level);
    case encoding::zstd:
      return std::make_unique<zstd_encoder>(level);
    case encoding::identity:
      break;
  }
  return std::make_unique<identity_codec>();
}

std::unique_ptr<stream_codec> make_decoder(encoding e) {
  switch (e) {
    case encoding::gzip:
      return std::make_unique<gzip_codec>(false, 0);
    case encoding::zstd:
      return std::make_unique<zstd_decoder>();
    case encoding::identity:
      break;
  }
  return std::make_unique<identity_codec>();
}

result<std::string> encode(encoding e, int level, std::string_view data) {
  std::string out;
  if (auto ok = make_encoder(e, level)->feed(data, true, out); !ok) return fail(ok.error());
  return out;
}

result<std::string> decode(encoding e, std::string_view data) {
  std::string out;
  if (auto ok = make_decoder(e)->feed(data, true, out); !ok) return fail(ok.error());
  return out;
}

}  // namespace grove::storage::detail
