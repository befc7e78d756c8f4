#include "core/metrics.hpp"

#include <boost/test/unit_test.hpp>

#include <sstream>
#include <thread>

using namespace callgate;

namespace {

// Each sample line of an exposition: "name{labels} value".
std::vector<std::string> samples(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') lines.push_back(line);
  return lines;
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.starts_with(line + "\n");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics)

BOOST_AUTO_TEST_CASE(counters_from_every_shard_are_summed) {
  MetricsRegistry registry;
  const auto requests = registry.declare_counter("test_requests_total", "Requests.");
  auto& first = registry.add_shard();
  auto& second = registry.add_shard();
  first.counter(requests, {{"route", "/a"}}).increment();
  first.counter(requests, {{"route", "/a"}}).increment(2);
  second.counter(requests, {{"route", "/a"}}).increment(4);
  second.counter(requests, {{"route", "/b"}}).increment();

  const auto text = registry.render();
  BOOST_TEST(has_line(text, "# HELP test_requests_total Requests."), text);
  BOOST_TEST(has_line(text, "# TYPE test_requests_total counter"), text);
  BOOST_TEST(has_line(text, "test_requests_total{route=\"/a\"} 7"), text);
  BOOST_TEST(has_line(text, "test_requests_total{route=\"/b\"} 1"), text);
  BOOST_TEST(samples(text).size() == 2u);
}

BOOST_AUTO_TEST_CASE(gauges_without_labels_and_label_escaping) {
  MetricsRegistry registry;
  const auto open = registry.declare_gauge("test_open", "Open things.");
  const auto odd = registry.declare_counter("test_odd_total", "Odd labels.");
  auto& shard = registry.add_shard();
  shard.gauge(open).add(3);
  shard.gauge(open).add(-1);
  shard.counter(odd, {{"path", "a\"b\\c\nd"}}).increment();
  const auto text = registry.render();
  BOOST_TEST(has_line(text, "test_open 2"), text);
  BOOST_TEST(has_line(text, "test_odd_total{path=\"a\\\"b\\\\c\\nd\"} 1"), text);
}

BOOST_AUTO_TEST_CASE(histograms_are_cumulative_with_sum_and_count) {
  MetricsRegistry registry;
  const auto latency = registry.declare_histogram("test_seconds", "Latency.", {0.1, 0.01, 1.0});
  auto& a = registry.add_shard();
  auto& b = registry.add_shard();
  a.histogram(latency, {{"route", "/x"}}).observe(0.005);
  a.histogram(latency, {{"route", "/x"}}).observe(0.05);
  b.histogram(latency, {{"route", "/x"}}).observe(0.01);  // on a bound: counts in that bucket
  b.histogram(latency, {{"route", "/x"}}).observe(5.0);
  const auto text = registry.render();
  BOOST_TEST(has_line(text, "# TYPE test_seconds histogram"), text);
  BOOST_TEST(has_line(text, "test_seconds_bucket{route=\"/x\",le=\"0.01\"} 2"), text);
  BOOST_TEST(has_line(text, "test_seconds_bucket{route=\"/x\",le=\"0.1\"} 3"), text);
  BOOST_TEST(has_line(text, "test_seconds_bucket{route=\"/x\",le=\"1\"} 3"), text);
  BOOST_TEST(has_line(text, "test_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4"), text);
  const auto sum_at = text.find("test_seconds_sum{route=\"/x\"} ");
  BOOST_TEST_REQUIRE(sum_at != std::string::npos, text);
  BOOST_TEST(std::stod(text.substr(sum_at + 29)) == 5.065, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(has_line(text, "test_seconds_count{route=\"/x\"} 4"), text);
}

BOOST_AUTO_TEST_CASE(bucket_bounds_are_written_without_exponents) {
  MetricsRegistry registry;
  registry.declare_histogram("test_small_seconds", "Small.", {0.0001, 0.00025});
  auto& shard = registry.add_shard();
  shard.histogram(MetricId{0}).observe(0.0002);
  const auto text = registry.render();
  BOOST_TEST(text.find("le=\"0.0001\"") != std::string::npos, text);
  BOOST_TEST(text.find("le=\"0.00025\"") != std::string::npos, text);
  BOOST_TEST(text.find("e-") == std::string::npos, text);
}

BOOST_AUTO_TEST_CASE(declaring_after_shards_exist_or_twice_is_a_bug) {
  MetricsRegistry registry;
  registry.declare_counter("test_a_total", "A.");
  BOOST_CHECK_THROW(registry.declare_counter("test_a_total", "A again."), std::logic_error);
  registry.add_shard();
  BOOST_CHECK_THROW(registry.declare_gauge("test_late", "Late."), std::logic_error);
}

BOOST_AUTO_TEST_CASE(using_an_id_as_the_wrong_type_is_a_bug) {
  MetricsRegistry registry;
  const auto counter = registry.declare_counter("test_c_total", "C.");
  auto& shard = registry.add_shard();
  BOOST_CHECK_THROW(shard.gauge(counter), std::logic_error);
  BOOST_CHECK_THROW(shard.counter(MetricId{7}), std::logic_error);
}

BOOST_AUTO_TEST_CASE(a_scrape_while_reactors_write_sees_consistent_totals) {
  MetricsRegistry registry;
  const auto hits = registry.declare_counter("test_hits_total", "Hits.");
  std::vector<MetricsShard*> shards{&registry.add_shard(), &registry.add_shard()};
  std::vector<std::thread> writers;
  for (auto* shard : shards)
    writers.emplace_back([shard, hits] {
      for (int i = 0; i < 100'000; ++i) shard->counter(hits, {{"k", std::to_string(i % 3)}}).increment();
    });
  for (int i = 0; i < 20; ++i) registry.render();  // must not crash or tear
  for (auto& writer : writers) writer.join();
  const auto text = registry.render();
  BOOST_TEST(has_line(text, "test_hits_total{k=\"0\"} 66668"), text);
  BOOST_TEST(has_line(text, "test_hits_total{k=\"1\"} 66666"), text);
  BOOST_TEST(has_line(text, "test_hits_total{k=\"2\"} 66666"), text);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(metrics_functions)

BOOST_AUTO_TEST_CASE(counter_functions_are_read_at_scrape_time) {
  MetricsRegistry registry;
  std::int64_t value = 3;
  registry.declare_counter_function("test_outside_total", "Kept elsewhere.", [&] { return value; });
  registry.add_shard();
  BOOST_TEST(registry.render().find("\ntest_outside_total 3\n") != std::string::npos, registry.render());
  value = 7;
  BOOST_TEST(registry.render().find("\ntest_outside_total 7\n") != std::string::npos, registry.render());
}

BOOST_AUTO_TEST_CASE(labelled_counter_functions_give_one_series_a_value_escaped_as_labels_are) {
  MetricsRegistry registry;
  std::int64_t callbacks = 2;
  registry.declare_counter_function("test_work_total", "Kept elsewhere, by work.", "work", [&] {
    return std::vector<std::pair<std::string, std::int64_t>>{{"status_callback", callbacks}, {"odd \"one\"", 1}};
  });
  registry.add_shard();
  auto text = registry.render();
  BOOST_TEST(text.find("\ntest_work_total{work=\"status_callback\"} 2\n") != std::string::npos, text);
  BOOST_TEST(text.find("\ntest_work_total{work=\"odd \\\"one\\\"\"} 1\n") != std::string::npos, text);
  callbacks = 5;
  text = registry.render();
  BOOST_TEST(text.find("\ntest_work_total{work=\"status_callback\"} 5\n") != std::string::npos, text);
}

BOOST_AUTO_TEST_CASE(a_histogram_kept_outside_the_shards_is_read_at_scrape_time) {
  MetricsRegistry registry;
  static const std::vector<double> bounds = {0.001, 0.01};
  Histogram syncs(bounds);
  registry.declare_histogram_source("test_sync_seconds", "Kept by another thread.", syncs);
  registry.add_shard();
  registry.add_shard();  // shards have no series of it: counted once
  syncs.observe(0.0005);
  syncs.observe(0.02);
  auto text = registry.render();
  BOOST_TEST(has_line(text, "# TYPE test_sync_seconds histogram"), text);
  BOOST_TEST(has_line(text, "test_sync_seconds_bucket{le=\"0.001\"} 1"), text);
  BOOST_TEST(has_line(text, "test_sync_seconds_bucket{le=\"0.01\"} 1"), text);
  BOOST_TEST(has_line(text, "test_sync_seconds_bucket{le=\"+Inf\"} 2"), text);
  BOOST_TEST(has_line(text, "test_sync_seconds_count 2"), text);
  syncs.observe(0.005);
  text = registry.render();
  BOOST_TEST(has_line(text, "test_sync_seconds_bucket{le=\"0.01\"} 2"), text);
  BOOST_TEST(has_line(text, "test_sync_seconds_count 3"), text);
  const auto sum_at = text.find("\ntest_sync_seconds_sum ");
  BOOST_TEST_REQUIRE(sum_at != std::string::npos, text);
  BOOST_TEST(std::stod(text.substr(sum_at + 23)) == 0.0255, boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_SUITE_END()
