// Bounded decompression: each codec inflates into the output string in steps
// of at most kStep bytes and checks the cap before growing, so memory use is
// bounded by max_output + kStep whatever the input claims.

#include "otlp/compression.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "otlp/errors.h"
#include "otlp/internal/absl_view.h"

namespace otlp {
namespace {

constexpr size_t kStep = 64 << 10;

// zlib windowBits: 15 = zlib wrapper, 15+16 = gzip wrapper, -15 = raw deflate.
constexpr int kZlibWindow = 15;
constexpr int kGzipWindow = 15 + 16;
constexpr int kRawWindow = -15;

absl::Status bomb(std::string_view codec, size_t max_output) {
  return make_error(ErrorKind::kDecompressionBomb,
                    absl::StrCat(internal::av(codec), " payload inflates past the limit of ",
                                 max_output, " bytes"));
}

// Inflates one zlib/gzip/raw stream (gzip: all members). Returns kMalformed for
// corrupt data, kDecompressionBomb past max_output.
absl::StatusOr<std::string> inflate_all(std::string_view input, int window_bits, size_t max_output,
                                        std::string_view codec) {
  z_stream zs{};
  if (inflateInit2(&zs, window_bits) != Z_OK) {
    return absl::InternalError("zlib inflateInit2 failed");
  }
  std::string out;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  zs.avail_in = static_cast<uInt>(std::min<size_t>(input.size(), UINT32_MAX));
  int rc = Z_OK;
  absl::Status status;
  while (true) {
    if (out.size() >= max_output + 1) {
      status = bomb(codec, max_output);
      break;
    }
    size_t room = std::min(kStep, max_output + 1 - out.size());
    size_t offset = out.size();
    out.resize(offset + room);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + offset);
    zs.avail_out = static_cast<uInt>(room);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.resize(offset + (room - zs.avail_out));
    if (out.size() > max_output) {
      status = bomb(codec, max_output);
      break;
    }
    if (rc == Z_STREAM_END) {
      // gzip allows concatenated members; anything else after the end is junk.
      if (zs.avail_in > 0 && window_bits == kGzipWindow) {
        if (inflateReset(&zs) != Z_OK) {
          status = absl::InternalError("zlib inflateReset failed");
          break;
        }
        continue;
      }
      if (zs.avail_in > 0) {
        status = make_error(
            ErrorKind::kMalformed,
            absl::StrCat(internal::av(codec), ": trailing bytes after the compressed stream"));
      }
      break;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
      status = make_error(ErrorKind::kMalformed,
                          absl::StrCat(internal::av(codec), ": truncated stream"));
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      status = make_error(
          ErrorKind::kMalformed,
          absl::StrCat(internal::av(codec), ": corrupt stream (", zs.msg ? zs.msg : "?", ")"));
      break;
    }
  }
  inflateEnd(&zs);
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<std::string> zstd_decompress(std::string_view input, size_t max_output) {
  // A frame that declares its size lets us refuse a bomb before inflating.
  unsigned long long declared = ZSTD_getFrameContentSize(input.data(), input.size());
  if (declared == ZSTD_CONTENTSIZE_ERROR) {
    return make_error(ErrorKind::kMalformed, "zstd: not a zstd frame");
  }
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared > max_output) {
    return bomb("zstd", max_output);
  }
  ZSTD_DCtx* ctx = ZSTD_createDCtx();
  if (ctx == nullptr) return absl::InternalError("ZSTD_createDCtx failed");
  // Refuse frames whose window alone would need more memory than the cap: a
  // window never has to be larger than the whole output.
  int window_log = 10;  // ZSTD_WINDOWLOG_ABSOLUTEMIN
  while (window_log < 27 && (size_t{1} << window_log) < max_output) ++window_log;
  ZSTD_DCtx_setParameter(ctx, ZSTD_d_windowLogMax, window_log);
  std::string out;
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  absl::Status status;
  size_t last = 1;
  while (true) {
    if (out.size() > max_output) {
      status = bomb("zstd", max_output);
      break;
    }
    size_t room = std::min(kStep, max_output + 1 - out.size());
    size_t offset = out.size();
    out.resize(offset + room);
    ZSTD_outBuffer ob{out.data() + offset, room, 0};
    last = ZSTD_decompressStream(ctx, &ob, &in);
    out.resize(offset + ob.pos);
    if (ZSTD_isError(last)) {
      status = make_error(ErrorKind::kMalformed,
                          absl::StrCat("zstd: corrupt stream (", ZSTD_getErrorName(last), ")"));
      break;
    }
    if (out.size() > max_output) {
      status = bomb("zstd", max_output);
      break;
    }
    // last == 0: a frame is complete and flushed. More input = another frame.
    if (last == 0 && in.pos == in.size) break;
    if (in.pos == in.size && ob.pos < room) {
      status = make_error(ErrorKind::kMalformed, "zstd: truncated stream");
      break;
    }
  }
  ZSTD_freeDCtx(ctx);
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<std::string> deflate_compress(std::string_view input, int window_bits, int level) {
  z_stream zs{};
  if (deflateInit2(&zs, level == 0 ? Z_DEFAULT_COMPRESSION : level, Z_DEFLATED, window_bits, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    return absl::InvalidArgumentError(absl::StrCat("invalid deflate level ", level));
  }
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(input.size())));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  zs.avail_in = static_cast<uInt>(input.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return absl::InternalError("zlib deflate did not finish");
  return out;
}

}  // namespace

std::optional<Compression> parse_compression(std::string_view name) {
  std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(internal::av(name)));
  if (lower.empty() || lower == "identity" || lower == "none") return Compression::kNone;
  if (lower == "gzip" || lower == "x-gzip") return Compression::kGzip;
  if (lower == "deflate") return Compression::kDeflate;
  if (lower == "zstd") return Compression::kZstd;
  return std::nullopt;
}

std::string_view compression_name(Compression compression) {
  switch (compression) {
    case Compression::kNone:
      return "identity";
    case Compression::kGzip:
      return "gzip";
    case Compression::kDeflate:
      return "deflate";
    case Compression::kZstd:
      return "zstd";
  }
  return "unknown";
}

absl::StatusOr<std::string> decompress(Compression compression, std::string_view input,
                                       size_t max_output) {
  switch (compression) {
    case Compression::kNone:
      if (input.size() > max_output) {
        return make_error(ErrorKind::kMessageTooLarge,
                          absl::StrCat("payload of ", input.size(), " bytes exceeds the limit of ",
                                       max_output, " bytes"));
      }
      return std::string(input);
    case Compression::kGzip:
      return inflate_all(input, kGzipWindow, max_output, "gzip");
    case Compression::kDeflate: {
      // RFC 1950 header: CMF/FLG with method 8 and a multiple-of-31 check.
      bool zlib_wrapped =
          input.size() >= 2 && (static_cast<uint8_t>(input[0]) & 0x0f) == 8 &&
          ((static_cast<uint8_t>(input[0]) << 8) | static_cast<uint8_t>(input[1])) % 31 == 0;
      return inflate_all(input, zlib_wrapped ? kZlibWindow : kRawWindow, max_output, "deflate");
    }
    case Compression::kZstd:
      return zstd_decompress(input, max_output);
  }
  return make_error(ErrorKind::kUnsupported, "unknown compression");
}

absl::StatusOr<std::string> compress(Compression compression, std::string_view input, int level) {
  if (input.size() > UINT32_MAX) {
    return make_error(ErrorKind::kMessageTooLarge, "input too large to compress");
  }
  switch (compression) {
    case Compression::kNone:
      return std::string(input);
    case Compression::kGzip:
      return deflate_compress(input, kGzipWindow, level);
    case Compression::kDeflate:
      return deflate_compress(input, kZlibWindow, level);
    case Compression::kZstd: {
      std::string out;
      out.resize(ZSTD_compressBound(input.size()));
      size_t n = ZSTD_compress(out.data(), out.size(), input.data(), input.size(),
                               level == 0 ? ZSTD_CLEVEL_DEFAULT : level);
      if (ZSTD_isError(n)) {
        return absl::InvalidArgumentError(absl::StrCat("zstd: ", ZSTD_getErrorName(n)));
      }
      out.resize(n);
      return out;
    }
  }
  return make_error(ErrorKind::kUnsupported, "unknown compression");
}

}  // namespace otlp
