// libFuzzer target for the OTLP/HTTP server's request path: bytes from a client in, the
// server's parse / route / answer / close logic (the same code a socket connection runs, see
// transport::internal::serve_bytes), answers out.
//
// Input: the first byte picks how the bytes arrive (1–255 bytes per read; 0 = 64 KiB) and, by
// its low bit, whether a memory budget is in force; the rest is what the client sends.
// Invariants checked beyond "no crash, no leak, no exception": the output is a sequence of
// well-formed HTTP/1.1 answers whose statuses are ones the server documents, the handler ran
// exactly once per 200, and every memory claim was given back.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>

#include "csp/scheduler.h"
#include "transport/http_server.h"

namespace {

namespace http = boost::beast::http;

[[noreturn]] void fail(const char* what, const std::string& output) {
  std::fprintf(stderr, "http_request_fuzz: %s\n--- output ---\n%s\n", what, output.c_str());
  std::abort();
}

struct Budget {
  std::mutex mu;
  std::int64_t in_use = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::size_t read_size = data[0] == 0 ? 65536 : data[0];
  std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);

  transport::HttpServerOptions options;
  options.max_request_body_bytes = 256u << 10;
  options.max_header_bytes = 2048;
  options.max_trailer_bytes = 512;
  options.max_chunk_extension_bytes = 64;
  options.read_timeout = std::chrono::milliseconds(0);
  options.idle_timeout = std::chrono::milliseconds(0);
  options.cors.allowed_origins = {"https://*.example.com"};
  auto budget = std::make_shared<Budget>();
  if (data[0] & 1) {
    options.reserve_memory = [budget](std::int64_t bytes) -> transport::MemoryClaim {
      std::lock_guard lock(budget->mu);
      if (budget->in_use + bytes > (128 << 10)) return nullptr;
      budget->in_use += bytes;
      static int token;  // a claim only needs to be non-null; its deleter gives the bytes back
      return std::shared_ptr<void>(&token, [budget, bytes](void*) {
        std::lock_guard lock(budget->mu);
        budget->in_use -= bytes;
      });
    };
  }
  auto handled = std::make_shared<int>(0);
  transport::ExportHandler handler =
      [handled](transport::ExportRequest) -> csp::Task<transport::ExportResult> {
    ++*handled;  // requests on one connection are sequential
    co_return transport::ExportResult{};
  };

  std::string output = csp::block_on([&]() -> csp::Task<std::string> {
    csp::Task<std::string> served =
        transport::internal::serve_bytes(options, handler, std::move(input), read_size);
    co_return co_await std::move(served);
  }());

  // Read the answers back.
  boost::beast::flat_buffer buffer;
  {
    auto out = buffer.prepare(output.size());
    std::memcpy(out.data(), output.data(), output.size());
    buffer.commit(output.size());
  }
  int ok_answers = 0;
  while (buffer.size() > 0) {
    http::response_parser<http::string_body> parser;
    parser.eager(true);
    parser.body_limit(1u << 20);
    boost::system::error_code ec;
    const std::size_t used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec || !parser.is_done()) fail("the output is not a sequence of HTTP answers", output);
    const int status = parser.get().result_int();
    switch (status) {
      case 100:
      case 204:
      case 400:
      case 404:
      case 405:
      case 413:
      case 415:
      case 429:
      case 431:
      case 501:
        break;
      case 200:
        ++ok_answers;
        break;
      default:
        fail("an answer with a status the server does not document", output);
    }
  }
  if (ok_answers != *handled) fail("the handler did not run exactly once per 200", output);
  {
    std::lock_guard lock(budget->mu);
    if (budget->in_use != 0) fail("a memory claim was not given back", output);
  }
  return 0;
}
