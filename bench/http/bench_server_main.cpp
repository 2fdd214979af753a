// grove_http_bench_server: the benchmark server as its own process, so the
// grove client and curl can be measured against the same server.
// Prints "port <n>" on stdout once it listens; runs until killed.
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <cstdlib>

#include "bench_server.hpp"

int main(int argc, char** argv) {
  unsigned short port = argc > 1 ? static_cast<unsigned short>(std::atoi(argv[1])) : 0;
  boost::asio::io_context io(1);
  grove::bench::bench_server server(io, port);
  std::printf("port %u\n", static_cast<unsigned>(server.port()));
  std::fflush(stdout);
  io.run();
  return 0;
}
