// The pieces the config loader reads YAML with, shared with the sections
// other components own (each provider reads its own telephony.<name>):
// where each value came from, a reader for one mapping that reports
// unknown keys, and the URL checks several sections need.
#pragma once

#include "core/civil_time.hpp"
#include "core/dialer/calling_hours.hpp"
#include "core/duration.hpp"
#include "core/listen_address.hpp"
#include "core/network_range.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace callgate {

struct ConfigError {
  std::string where;  // "conf/callgate.yaml:12" or "environment TWILIO_AUTH_TOKEN"
  std::string message;
  std::string to_string() const { return where + ": " + message; }
};

// Looks up one environment variable; empty values count as unset.
using EnvironmentLookup = std::function<std::optional<std::string>(std::string_view name)>;

// Where each value came from, so a cross-field error can point at the right
// line, and the errors found so far.
class ConfigDiagnostics {
 public:
  explicit ConfigDiagnostics(std::string file) : file_(std::move(file)) {}

  std::string at(const YAML::Mark& mark) const {
    return file_ + ":" + std::to_string(mark.is_null() ? 1 : mark.line + 1);
  }
  void error(std::string where, std::string message) { errors_.push_back({std::move(where), std::move(message)}); }
  void remember(const std::string& key, std::string where) { origins_[key] = std::move(where); }
  // Where a key was set; a key left at its default points at the top of the file.
  std::string origin_of(const std::string& key) const {
    auto found = origins_.find(key);
    return found != origins_.end() ? found->second : file_ + ":1";
  }
  std::vector<ConfigError> take_errors() { return std::move(errors_); }

  // A rule found broken after reading, reported at the line that set key.
  void check(bool ok, const std::string& key, const std::string& message) {
    if (!ok) error(origin_of(key), key + ": " + message);
  }

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
  std::map<std::string, std::string> origins_;
};

// The values a key may take, by the text the file spells them with.
template <class Enum>
using Choices = std::initializer_list<std::pair<std::string_view, Enum>>;

// Reads one YAML mapping. Each key read is marked as known; finish() reports
// the rest, so a misspelt key is an error instead of a silently ignored line.
class SectionReader {
 public:
  SectionReader(YAML::Node node, std::string prefix, ConfigDiagnostics& diagnostics)
      : node_(node), prefix_(std::move(prefix)), diagnostics_(diagnostics) {  // a Node is a handle: copied
    if (node_.IsDefined() && !node_.IsNull() && !node_.IsMap()) {
      diagnostics_.error(diagnostics_.at(node_.Mark()), (prefix_.empty() ? std::string("the file") : prefix_) +
                                                            " must be a mapping of keys to values");
      node_ = YAML::Node(YAML::NodeType::Undefined);
    }
  }

  SectionReader section(const std::string& key) { return SectionReader(lookup(key), path(key), diagnostics_); }

  void text(const std::string& key, std::string& target) {
    auto value = scalar(key, "a string");
    if (value) target = *value;
  }

  void boolean(const std::string& key, bool& target) {
    auto value = scalar(key, "true or false");
    if (!value) return;
    if (*value == "true")
      target = true;
    else if (*value == "false")
      target = false;
    else
      fail(key, "expected true or false, got '" + *value + "'");
  }

  template <class Number>
  void number(const std::string& key, Number& target, Number minimum, Number maximum) {
    auto value = scalar(key, "a number");
    if (!value) return;
    Number parsed{};
    auto [end, error] = std::from_chars(value->data(), value->data() + value->size(), parsed);
    if (error != std::errc{} || end != value->data() + value->size() || parsed < minimum || parsed > maximum) {
      fail(key, "expected a whole number from " + std::to_string(minimum) + " to " + std::to_string(maximum) +
                    ", got '" + *value + "'");
      return;
    }
    target = parsed;
  }

  void duration(const std::string& key, Milliseconds& target, Milliseconds minimum, Milliseconds maximum) {
    auto value = scalar(key, "a duration");
    if (!value) return;
    auto parsed = parse_duration(*value);
    if (!parsed || *parsed < minimum || *parsed > maximum) {
      fail(key, "expected a duration from " + format_duration(minimum) + " to " + format_duration(maximum) +
                    " with a unit (ms, s, m, h), got '" + *value + "'");
      return;
    }
    target = *parsed;
  }

  template <class Enum>
  void choice(const std::string& key, Enum& target, Choices<Enum> choices) {
    auto value = scalar(key, "one of the listed values");
    if (!value) return;
    std::string allowed;
    for (const auto& [name, option] : choices) {
      if (name == *value) {
        target = option;
        return;
      }
      allowed += (allowed.empty() ? "" : ", ") + std::string(name);
    }
    fail(key, "expected one of " + allowed + ", got '" + *value + "'");
  }

  void listen_address(const std::string& key, ListenAddress& target) {
    auto value = scalar(key, "host:port");
    if (!value) return;
    std::string why;
    if (auto parsed = parse_listen_address(*value, &why))
      target = *parsed;
    else
      fail(key, why);
  }

  // A list of strings; each item reported by its own line when wrong.
  void text_list(const std::string& key, std::vector<std::string>& target) {
    const auto value = sequence(key, "a list of strings");
    if (!value) return;
    target.clear();
    for (std::size_t index = 0; index < value->size(); ++index) {
      const auto item = (*value)[index];
      if (!item.IsScalar()) {
        diagnostics_.error(diagnostics_.at(item.Mark()),
                           path(key) + "[" + std::to_string(index) + "]: expected a string");
        continue;
      }
      target.push_back(item.Scalar());
    }
  }

  void network_ranges(const std::string& key, std::vector<NetworkRange>& target) {
    std::vector<std::string> texts;
    text_list(key, texts);
    if (texts.empty()) return;
    target.clear();
    for (const auto& text : texts) {
      if (auto range = NetworkRange::parse(text))
        target.push_back(*range);
      else
        fail(key, "expected addresses or CIDR ranges such as 10.0.0.0/8 or 2001:db8::/32, got '" + text + "'");
    }
  }

  template <class Enum>
  void choice_list(const std::string& key, std::vector<Enum>& target, Choices<Enum> choices) {
    std::vector<std::string> texts;
    text_list(key, texts);
    target.clear();
    for (const auto& text : texts) {
      auto chosen =
          std::find_if(choices.begin(), choices.end(), [&](const auto& option) { return option.first == text; });
      if (chosen != choices.end())
        target.push_back(chosen->second);
      else
        fail(key, "unknown value '" + text + "'");
    }
  }

  // "09:00" as seconds into the day.
  void time_of_day(const std::string& key, std::int32_t& target) {
    auto value = scalar(key, "a time of day");
    if (!value) return;
    if (auto parsed = dialer::parse_time_of_day(*value))
      target = *parsed;
    else
      fail(key, "expected a time of day as HH:MM (00:00 to 24:00), got '" + *value + "'");
  }

  // An IANA zone name, read from the system's tz database now (at start-up
  // or reload), so a typo is a config error, not a surprise at dial time.
  void time_zone(const std::string& key, dialer::TimeZone& target) {
    auto value = scalar(key, "a time zone name");
    if (!value) return;
    auto loaded = dialer::load_time_zone(*value);
    if (loaded.zone)
      target = std::move(*loaded.zone);
    else
      fail(key, loaded.problem);
  }

  void durations(const std::string& key, std::vector<Milliseconds>& target, Milliseconds minimum,
                 Milliseconds maximum) {
    std::vector<std::string> texts;
    text_list(key, texts);
    if (texts.empty()) return;
    target.clear();
    for (const auto& text : texts) {
      auto parsed = parse_duration(text);
      if (parsed && *parsed >= minimum && *parsed <= maximum)
        target.push_back(*parsed);
      else
        fail(key, "expected durations from " + format_duration(minimum) + " to " + format_duration(maximum) +
                      ", got '" + text + "'");
    }
  }

  // Dates as YYYY-MM-DD.
  void dates(const std::string& key, std::vector<CivilDate>& target) {
    std::vector<std::string> texts;
    text_list(key, texts);
    target.clear();
    for (const auto& text : texts) {
      if (const auto date = parse_civil_date(text))
        target.push_back(*date);
      else
        fail(key, "expected dates as YYYY-MM-DD, got '" + text + "'");
    }
  }

  // A list of mappings, each read by its own SectionReader ("routes[0]").
  std::vector<SectionReader> items(const std::string& key) {
    std::vector<SectionReader> readers;
    const auto value = sequence(key, "a list of mappings");
    if (!value) return readers;
    for (std::size_t index = 0; index < value->size(); ++index)
      readers.emplace_back((*value)[index], path(key) + "[" + std::to_string(index) + "]", diagnostics_);
    return readers;
  }

  // A problem found after reading (a value that is fine alone but not here).
  void fail_here(const std::string& key, const std::string& message) { fail(key, message); }

  void finish() {
    if (!node_.IsMap()) return;
    std::set<std::string> seen;
    for (const auto& entry : node_) {
      const auto name = entry.first.Scalar();
      // YAML forbids repeated keys but yaml-cpp keeps both; which one wins
      // would be an accident, so neither does.
      if (!seen.insert(name).second)
        diagnostics_.error(diagnostics_.at(entry.first.Mark()), "duplicate key '" + path(name) + "'");
      else if (!known_.contains(name))
        diagnostics_.error(diagnostics_.at(entry.first.Mark()), "unknown key '" + path(name) + "'");
    }
  }

 private:
  std::string path(const std::string& key) const { return prefix_.empty() ? key : prefix_ + "." + key; }

  YAML::Node lookup(const std::string& key) {
    known_.insert(key);
    // A search rather than operator[]: yaml-cpp's operator[] inserts missing
    // keys (or returns an invalid node that throws), and YAML::Node() is a
    // defined null, which would read as an empty value.
    if (node_.IsMap())
      for (const auto& entry : node_)
        if (entry.first.IsScalar() && entry.first.Scalar() == key) return entry.second;
    return YAML::Node(YAML::NodeType::Undefined);
  }

  void fail(const std::string& key, const std::string& message) {
    diagnostics_.error(diagnostics_.origin_of(path(key)), path(key) + ": " + message);
  }

  // The key's value as text, or nothing when the key is absent or of the wrong kind.
  std::optional<std::string> scalar(const std::string& key, const char* expected) {
    const auto value = lookup(key);
    if (!value.IsDefined()) return std::nullopt;
    diagnostics_.remember(path(key), diagnostics_.at(value.Mark()));
    if (value.IsNull()) return std::string();
    if (!value.IsScalar()) {
      fail(key, std::string("expected ") + expected + ", got a " + (value.IsMap() ? "mapping" : "list"));
      return std::nullopt;
    }
    return value.Scalar();
  }

  std::optional<YAML::Node> sequence(const std::string& key, const char* expected) {
    const auto value = lookup(key);
    if (!value.IsDefined() || value.IsNull()) return std::nullopt;
    diagnostics_.remember(path(key), diagnostics_.at(value.Mark()));
    if (!value.IsSequence()) {
      fail(key, std::string("expected ") + expected);
      return std::nullopt;
    }
    return value;
  }

  YAML::Node node_;
  std::string prefix_;
  ConfigDiagnostics& diagnostics_;
  std::set<std::string> known_;
};

// An absolute http(s) URL with a host and no query, fragment or user info;
// with no path unless allow_path.
bool is_http_url(const std::string& text, bool allow_path);
// An http:// URL (as is_http_url, no path) whose host is a loopback address
// or "localhost": plain HTTP that never leaves the machine.
bool is_loopback_http_url(const std::string& text);
// https://, or http:// that stays on this machine (is_loopback_http_url):
// where signed or secret-bearing requests may be sent.
bool is_https_or_loopback_url(const std::string& text);
// Where lead events may go: https://, or http:// to a loopback address
// (development); a path and a query allowed, credentials and a fragment not.
bool is_event_endpoint_url(const std::string& text);
// An AWS region's name: "ap-south-1", "us-gov-west-1".
bool is_aws_region(std::string_view text);
// A DynamoDB table name: 3 to 255 of letters, digits, '_', '-', '.'.
bool is_dynamodb_table_name(std::string_view text);
// prefix followed by exactly hex_digits hexadecimal digits ("AC" + 32).
bool has_hex_tail(std::string_view text, std::string_view prefix, std::size_t hex_digits);

}  // namespace callgate
