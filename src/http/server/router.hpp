// Method + path routing with path parameters ("/leads/{id}").
//
// Pure: no sockets, no Beast types beyond the verb. A path that matches no
// pattern is a 404; a path that matches a pattern but not for this method is
// a 405 with the methods that would have matched (for the Allow header).
#pragma once

// verb.hpp uses operator<< on string_view without including <ostream> itself.
#include <ostream>

#include <boost/beast/http/verb.hpp>
#include <boost/unordered/unordered_flat_map.hpp>

#include <deque>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace callgate::http {

using Verb = boost::beast::http::verb;

class PathParameters {
 public:
  void add(std::string_view name, std::string value) { values_.emplace_back(name, std::move(value)); }
  // The decoded value of {name}, or nothing.
  std::optional<std::string_view> get(std::string_view name) const {
    for (const auto& [key, value] : values_)
      if (key == name) return std::string_view(value);
    return std::nullopt;
  }
  std::size_t size() const { return values_.size(); }

 private:
  std::vector<std::pair<std::string_view, std::string>> values_;
};

// One pattern split into segments; "{name}" segments capture.
class PathPattern {
 public:
  explicit PathPattern(std::string_view pattern);
  const std::string& text() const { return text_; }
  std::size_t parameter_count() const { return parameter_count_; }
  // Fills parameters and returns true when path (no query string) matches.
  bool match(std::string_view path, PathParameters& parameters) const;

 private:
  struct Segment {
    std::string text;  // literal text, or the parameter's name
    bool is_parameter = false;
  };
  std::string text_;
  // Every path this matches starts with it (all of text_ when there is no
  // parameter): most routes are ruled out by one comparison.
  std::string literal_prefix_;
  std::vector<Segment> segments_;
  std::size_t parameter_count_ = 0;
};

// Percent-decodes one path segment; nothing if an escape is malformed or
// decodes to '/' or NUL, which would let a parameter smuggle path structure.
std::optional<std::string> decode_path_segment(std::string_view segment);

template <class Target>
class Router {
 public:
  struct Route {
    Verb method;
    PathPattern pattern;
    Target target;
    std::size_t index;  // stable id, for per-route metrics
  };

  enum class Outcome { found, not_found, method_not_allowed };

  Router() = default;
  // Its index points into its own routes.
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  struct Match {
    Outcome outcome = Outcome::not_found;
    const Route* route = nullptr;
    PathParameters parameters;
    std::string allowed;  // "GET, POST" for 405
  };

  const Route& add(Verb method, std::string_view pattern, Target target) {
    for (const auto& existing : routes_)
      if (existing.method == method && existing.pattern.text() == pattern)
        throw std::logic_error("route registered twice: " + std::string(pattern));
    routes_.push_back(Route{method, PathPattern(pattern), std::move(target), routes_.size()});
    const Route& added = routes_.back();
    if (added.pattern.parameter_count() == 0) by_exact_path_[added.pattern.text()].push_back(&added);
    return added;
  }

  std::size_t size() const { return routes_.size(); }
  const std::deque<Route>& routes() const { return routes_; }

  // HEAD is served by the GET route when no HEAD route exists. Among several
  // matching patterns the one with fewest parameters wins, so "/leads/export"
  // beats "/leads/{id}" whatever the registration order.
  Match match(Verb method, std::string_view target) const {
    const auto query = target.find('?');
    const std::string_view path = target.substr(0, query);
    Match best;
    // A pattern without parameters that fits has the fewest there can be:
    // found by one look-up, most requests never try a pattern.
    if (const auto exact = by_exact_path_.find(path); exact != by_exact_path_.end())
      for (const Route* route : exact->second)
        if (method_fits(*route, method)) {
          best.route = route;
          best.outcome = Outcome::found;
          return best;
        }
    bool path_known = false;
    for (const auto& route : routes_) {
      PathParameters parameters;
      if (!route.pattern.match(path, parameters)) continue;
      path_known = true;
      if (!method_fits(route, method)) continue;
      if (best.route == nullptr || route.pattern.parameter_count() < best.route->pattern.parameter_count()) {
        best.route = &route;
        best.parameters = std::move(parameters);
      }
    }
    if (best.route != nullptr) {
      best.outcome = Outcome::found;
      return best;
    }
    if (!path_known) return best;
    // A 405: the methods that would have matched, in registration order.
    std::vector<Verb> allowed;
    for (const auto& route : routes_) {
      PathParameters parameters;
      if (route.pattern.match(path, parameters)) allowed.push_back(route.method);
    }
    best.outcome = Outcome::method_not_allowed;
    bool has_get = false;
    bool has_head = false;
    for (const auto verb : allowed) {
      has_get = has_get || verb == Verb::get;
      has_head = has_head || verb == Verb::head;
    }
    if (has_get && !has_head) allowed.push_back(Verb::head);
    for (const auto verb : allowed) {
      const auto name = boost::beast::http::to_string(verb);
      if (best.allowed.find(name) != std::string::npos) continue;
      if (!best.allowed.empty()) best.allowed += ", ";
      best.allowed.append(name.data(), name.size());
    }
    return best;
  }

 private:
  bool method_fits(const Route& route, Verb method) const {
    return route.method == method ||
           (method == Verb::head && route.method == Verb::get && !has_route(Verb::head, route.pattern.text()));
  }
  bool has_route(Verb method, const std::string& pattern) const {
    for (const auto& route : routes_)
      if (route.method == method && route.pattern.text() == pattern) return true;
    return false;
  }

  // A deque keeps Route addresses stable: a Match points into it, and
  // PathParameters names point into its patterns.
  std::deque<Route> routes_;
  // The routes without parameters, by their path.
  struct PathHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view path) const { return std::hash<std::string_view>{}(path); }
  };
  struct PathEqual {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a == b; }
  };
  boost::unordered_flat_map<std::string, std::vector<const Route*>, PathHash, PathEqual> by_exact_path_;
};

}  // namespace callgate::http
