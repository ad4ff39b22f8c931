// etl-server when it runs out of file descriptors: new connections wait in the backlog and the
// accept loop pauses instead of spinning on EMFILE, logs the episode once, keeps serving the
// connections it has, and accepts again once descriptors are free.
//
// The server's open-file limit is lowered from outside with prlimit once it runs (it raises its
// own soft limit at start, so a limit set before would not hold): to the descriptors it has
// open plus a few, so a handful of connections use them up.
#include <sys/resource.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "etl/test/http.hpp"
#include "etl/test/raw_connection.hpp"
#include "etl/test/service_stack.hpp"

namespace etl::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// The CPU time (user + system, in clock ticks) process `pid` has used so far.
long cpu_ticks(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name, which is in parentheses and may hold spaces.
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14)
      utime = std::stol(field);
    if (i == 15)
      stime = std::stol(field);
  }
  return utime + stime;
}

// The highest file descriptor number `pid` has open.
int highest_fd(pid_t pid) {
  int highest = -1;
  for (const auto& e : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd"))
    highest = std::max(highest, std::stoi(e.path().filename().string()));
  return highest;
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

// The services' whole log (log_tail() keeps only its end).
std::string whole_log(service_stack& stack) {
  std::ifstream in(stack.audit_dir() / "service.log");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const std::string health = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";

TEST(server_out_of_files, accepting_pauses_without_spinning_and_resumes) {
  service_stack_options o;
  o.start_worker = false;
  service_stack stack(std::move(o));
  const pid_t pid = stack.server().pid();

  // A connection from before: it must be served throughout.
  auto kept = raw_connection::open(stack.port());
  ASSERT_TRUE(kept) << kept.error().message();
  ASSERT_FALSE(kept->send(health));
  auto r = kept->read_reply(5s);
  ASSERT_TRUE(r && r->status == 200);

  // Room for three more descriptors (fewer, when there are holes below the highest).
  const rlim_t limit = static_cast<rlim_t>(highest_fd(pid)) + 4;
  const rlimit low{limit, limit};
  ASSERT_EQ(::prlimit(pid, RLIMIT_NOFILE, &low, nullptr), 0);

  // More connections than it has room for: the kernel completes them all, the server accepts
  // a few and then meets EMFILE with the rest still in its backlog.
  std::vector<raw_connection> flood;
  for (int i = 0; i < 20; ++i) {
    auto c = raw_connection::open(stack.port());
    ASSERT_TRUE(c) << c.error().message();
    flood.push_back(std::move(*c));
  }
  const auto deadline = steady::now() + 10s;
  while (whole_log(stack).find("accept failed") == std::string::npos && steady::now() < deadline)
    std::this_thread::sleep_for(20ms);  // polling the log, bounded by the deadline
  ASSERT_NE(whole_log(stack).find("accept failed"), std::string::npos)
      << "the server never ran out of descriptors";

  // One second while every descriptor is taken and connections wait: a spinning accept loop
  // burns the whole second on a core, a pausing one a few milliseconds.
  const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
  const long before = cpu_ticks(pid);
  std::this_thread::sleep_for(1s);  // the window measured, not a synchronization
  const long used = cpu_ticks(pid) - before;
  std::printf("CPU used by etl-server in 1 s out of descriptors: %ld ms\n",
              used * 1000 / ticks_per_second);
  EXPECT_LT(used * 1000 / ticks_per_second, 200) << "the accept loop spins";

  // The connection from before is still served.
  ASSERT_FALSE(kept->send(health));
  r = kept->read_reply(5s);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status, 200);

  // Descriptors free again: new connections are accepted and answered.
  flood.clear();
  auto after = http_get(stack.port(), "/healthz", 5s);
  ASSERT_TRUE(after) << after.error().message();
  EXPECT_EQ(after->status, 200);
  const auto log = whole_log(stack);
  EXPECT_EQ(occurrences(log, "accept failed"), 1u) << "logged more than once per episode";
  EXPECT_NE(log.find("accepting again"), std::string::npos);
}

}  // namespace
}  // namespace etl::test
