// Keeps the README honest where a test can: its endpoints table against the
// real binary, and its list of what a reload cannot change against the code. Every row's paths must be routes the
// daemon has (no "no route" 404, no 405 for the methods listed), and what each answers a bare request (no credentials,
// no body) must be among the statuses its row lists. A new endpoint, a renamed one or a changed answer fails here until
// the table says so.
#include "lead_flow_support.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>

namespace callgate {

using namespace lead_flow;

namespace {

struct Row {
  std::vector<std::pair<std::string, std::string>> requests;  // method, path as the table writes it
  std::set<int> statuses;                                     // every status the row names
  std::string text;
};

std::vector<Row> endpoints_table() {
  std::ifstream file(std::string(CALLGATE_SOURCE_DIR) + "/README.md");
  BOOST_REQUIRE_MESSAGE(file, "README.md not found beside the sources");
  std::vector<Row> rows;
  bool in_section = false;
  for (std::string line; std::getline(file, line);) {
    if (line.starts_with("## ")) in_section = line == "## Endpoints";
    if (!in_section || !line.starts_with("| `")) continue;
    // | `GET\|POST /twiml` | answer |: the first cell ends at the first " | " after it.
    const auto end_of_first = line.find("` | ");
    BOOST_REQUIRE_MESSAGE(end_of_first != std::string::npos, "cannot read the row " << line);
    const auto first = line.substr(2, end_of_first - 1);
    const auto answer = line.substr(end_of_first + 4);
    Row row;
    row.text = line;
    // Each `METHOD[\|METHOD] /path` code span.
    const std::regex span(R"(`([A-Z|\\]+) (/[^`]*)`)");
    for (std::sregex_iterator it(first.begin(), first.end(), span), done; it != done; ++it) {
      std::string methods = (*it)[1];
      std::erase(methods, '\\');
      std::stringstream split(methods);
      for (std::string method; std::getline(split, method, '|');) row.requests.emplace_back(method, (*it)[2]);
    }
    const std::regex status(R"((^|[^0-9.\-])([1-5][0-9][0-9])(?![0-9]))");
    for (std::sregex_iterator it(answer.begin(), answer.end(), status), done; it != done; ++it)
      row.statuses.insert(std::stoi((*it)[2]));
    rows.push_back(row);
  }
  return rows;
}

// A concrete path for a table path: parameters filled in, the query dropped.
std::string concrete(std::string path) {
  path = path.substr(0, path.find('?'));
  path = std::regex_replace(path, std::regex(R"(\{id\})"), "01JD3ZQ8X4V0R5M2K7N9P6T1YB");
  path = std::regex_replace(path, std::regex(R"(\{n\})"), "1");
  return path;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(readme)

BOOST_AUTO_TEST_CASE(the_endpoints_table_lists_routes_the_daemon_has_and_their_bare_answers) {
  TemporaryDirectory directory;
  DaemonProcess daemon(
      "server:\n  listen: \"127.0.0.1:0\"\n  threads: 1\n  public_base_url: \"http://127.0.0.1:8080\"\n"
      "log:\n  level: info\n  access_log: false\n"
      "admin:\n  token: readme-admin-token\n" +
      kMemoryStore +
      "telephony:\n  provider: simulator\n"
      "call_flow:\n  next: stream\n"
      "voice:\n  agent:\n    url: \"ws://127.0.0.1:9/agent\"\n  recordings_path: \"" +
      directory.file("recordings") + "\"\n");
  const auto rows = endpoints_table();
  BOOST_TEST_REQUIRE(rows.size() >= 20u);
  std::size_t probed = 0;
  for (const auto& row : rows) {
    BOOST_TEST_CONTEXT(row.text) {
      BOOST_TEST(!row.requests.empty());
      BOOST_TEST(!row.statuses.empty(), "the row names no status");
      for (const auto& [method, path] : row.requests) {
        const auto answer = testing::http_get(daemon.port(), concrete(path), "", method);
        BOOST_TEST_CONTEXT(method << " " << path << " -> " << answer.status << " " << answer.body.substr(0, 200)) {
          BOOST_TEST(answer.body.find("no route for") == std::string::npos);
          BOOST_TEST(answer.status != 405);
          BOOST_TEST(row.statuses.contains(answer.status), "a bare request's answer is not among the row's statuses");
        }
        ++probed;
      }
    }
  }
  BOOST_TEST(probed >= 25u);
}

// The keys a SIGHUP cannot change: what the code says (plan_reload's
// fixed(...) in core/config.cpp and each provider's settings.cpp) against
// the README's list, both ways.
BOOST_AUTO_TEST_CASE(the_reload_list_names_every_key_that_needs_a_restart_and_no_other) {
  auto read = [](const std::string& relative) {
    std::ifstream in(std::string(CALLGATE_SOURCE_DIR) + "/" + relative);
    BOOST_REQUIRE_MESSAGE(in, relative << " not found beside the sources");
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  std::set<std::string> fixed;
  const auto core = read("src/core/config.cpp");
  const std::regex core_key(R"re(fixed\("([a-z_.]+)")re");
  for (std::sregex_iterator it(core.begin(), core.end(), core_key), done; it != done; ++it) fixed.insert((*it)[1]);
  for (const char* provider : {"twilio", "exotel", "simulator"}) {
    const auto settings = read(std::string("src/providers/") + provider + "/settings.cpp");
    const std::regex provider_key(R"re(keys\.fixed\(key\("([a-z_]+)"\))re");
    for (std::sregex_iterator it(settings.begin(), settings.end(), provider_key), done; it != done; ++it)
      fixed.insert(std::string("telephony.") + provider + "." + std::string((*it)[1]));
  }
  BOOST_TEST_REQUIRE(fixed.size() >= 20u);

  const auto readme = read("README.md");
  const auto start = readme.find("a change that needs\na restart (");
  BOOST_TEST_REQUIRE(start != std::string::npos, "the README's reload paragraph moved");
  const auto end = readme.find(") is logged by key", start);
  BOOST_TEST_REQUIRE(end != std::string::npos);
  const auto list = readme.substr(start, end - start);
  std::set<std::string> listed;
  const std::regex code(R"(`([a-z_.*]+)`)");
  for (std::sregex_iterator it(list.begin(), list.end(), code), done; it != done; ++it) listed.insert((*it)[1]);

  auto covers = [](const std::string& token, const std::string& key) {
    if (token == key) return true;
    if (token.ends_with(".*")) return key.starts_with(token.substr(0, token.size() - 1));
    return token.find('.') == std::string::npos && key.starts_with("telephony.") && key.ends_with("." + token);
  };
  for (const auto& key : fixed)
    BOOST_TEST(std::any_of(listed.begin(), listed.end(), [&](const std::string& token) { return covers(token, key); }),
               key << " needs a restart but the README's list does not say so");
  for (const auto& token : listed)
    BOOST_TEST(std::any_of(fixed.begin(), fixed.end(), [&](const std::string& key) { return covers(token, key); }),
               token << " is listed as needing a restart but a reload applies it");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace callgate
