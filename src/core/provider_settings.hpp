// Each provider's section of the config (telephony.<name>), as a value core
// carries without knowing its type. The provider owns the struct, how the
// section is read from YAML and the environment, which rules it must keep
// and what a reload may change; core only stores it, compares it and asks
// its owner. So a new provider is its folder and a line in the provider
// table, and core's config knows no provider by name.
#pragma once

#include "core/config_reader.hpp"

#include <any>
#include <iosfwd>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace callgate {

// A provider's name as the config and the metrics spell it ("twilio").
class ProviderName {
 public:
  ProviderName() = default;
  explicit ProviderName(std::string_view name) : name_(name) {}
  std::string_view text() const { return name_; }
  auto operator<=>(const ProviderName&) const = default;
  bool operator==(const ProviderName&) const = default;

 private:
  std::string name_;
};
inline std::string_view to_string(const ProviderName& name) { return name.text(); }
std::ostream& operator<<(std::ostream& out, const ProviderName& name);

// What a SIGHUP's changes to keys mean: live ones take effect now, fixed ones
// keep their running value until a restart (and are named in the log).
class ReloadKeys {
 public:
  ReloadKeys(std::vector<std::string>& applied, std::vector<std::string>& needs_restart)
      : applied_(applied), needs_restart_(needs_restart) {}
  void live(std::string key, bool changed) {
    if (changed) applied_.push_back(std::move(key));
  }
  void fixed(std::string key, bool changed) {
    if (changed) needs_restart_.push_back(std::move(key));
  }

 private:
  std::vector<std::string>& applied_;
  std::vector<std::string>& needs_restart_;
};

class ProviderConfigSection;

// One provider's settings: its own struct, held by value (copied with the
// Config), compared by its owner.
class ProviderSettings {
 public:
  ProviderSettings() = default;
  template <class Settings>
  ProviderSettings(const ProviderConfigSection& owner, Settings settings)
      : owner_(&owner), value_(std::move(settings)) {}

  const ProviderConfigSection* owner() const { return owner_; }
  // The struct the owner made; asking for another type is a programming
  // error (std::bad_any_cast).
  template <class Settings>
  const Settings& as() const {
    return std::any_cast<const Settings&>(value_);
  }
  template <class Settings>
  Settings& as() {
    return std::any_cast<Settings&>(value_);
  }

  bool operator==(const ProviderSettings& other) const;

 private:
  const ProviderConfigSection* owner_ = nullptr;
  std::any value_;
};

// How one provider's section is read, checked and reloaded. Implemented in
// the provider's folder (TypedProviderSection below does the type work).
class ProviderConfigSection {
 public:
  virtual ~ProviderConfigSection() = default;

  // telephony.<name>, and the name routes and telephony.provider use.
  virtual const ProviderName& name() const = 0;
  virtual ProviderSettings defaults() const = 0;
  // Every key of telephony.<name>; the loader reports the ones not read.
  virtual void read(SectionReader& section, ProviderSettings& settings) const = 0;
  // The environment variables that set keys of the section, in the order
  // they are applied (after the file), and applying them.
  virtual std::vector<std::string_view> environment_variables() const { return {}; }
  virtual void apply_environment(const EnvironmentLookup& environment, ProviderSettings& settings,
                                 ConfigDiagnostics& diagnostics) const = 0;
  // Rules beyond a value's type; in_use: telephony.provider or a route names
  // the provider (credentials are required then, not before). May fill in
  // derived values (a region's API host).
  virtual void validate(ProviderSettings& settings, bool in_use, ConfigDiagnostics& diagnostics) const = 0;
  virtual bool same(const ProviderSettings& a, const ProviderSettings& b) const = 0;
  // Names the changed keys as live or fixed, and puts the running value of
  // each fixed one back into effective (which starts as the reloaded one).
  virtual void plan_reload(const ProviderSettings& running, const ProviderSettings& reloaded,
                           ProviderSettings& effective, ReloadKeys& keys) const = 0;
};

inline bool ProviderSettings::operator==(const ProviderSettings& other) const {
  if (owner_ != other.owner_) return false;
  return owner_ == nullptr || owner_->same(*this, other);
}

// A section whose settings are the struct Settings (with operator==).
template <class Settings>
class TypedProviderSection : public ProviderConfigSection {
 public:
  explicit TypedProviderSection(std::string_view name) : name_(name) {}

  const ProviderName& name() const final { return name_; }
  ProviderSettings defaults() const final { return ProviderSettings(*this, Settings{}); }
  void read(SectionReader& section, ProviderSettings& settings) const final {
    read_section(section, settings.as<Settings>());
  }
  void apply_environment(const EnvironmentLookup& environment, ProviderSettings& settings,
                         ConfigDiagnostics& diagnostics) const final {
    apply_environment_to(environment, settings.as<Settings>(), diagnostics);
  }
  void validate(ProviderSettings& settings, bool in_use, ConfigDiagnostics& diagnostics) const final {
    validate_section(settings.as<Settings>(), in_use, diagnostics);
  }
  bool same(const ProviderSettings& a, const ProviderSettings& b) const final {
    return a.as<Settings>() == b.as<Settings>();
  }
  void plan_reload(const ProviderSettings& running, const ProviderSettings& reloaded, ProviderSettings& effective,
                   ReloadKeys& keys) const final {
    reload_section(running.as<Settings>(), reloaded.as<Settings>(), effective.as<Settings>(), keys);
  }

  // "telephony.<name>.<key>", as errors and reload logs name keys.
  std::string key(std::string_view key) const {
    return "telephony." + std::string(name_.text()) + "." + std::string(key);
  }

  // A value the provider cannot place calls without, reported (when empty)
  // at the line that put the provider in use and naming the variable that
  // usually carries it, for --check-config run without the service's
  // environment file.
  void require(ConfigDiagnostics& diagnostics, std::string_view provider, std::string_view name,
               std::string_view variable, const std::string& value) const {
    if (value.empty())
      diagnostics.error(diagnostics.origin_of("telephony.provider"),
                        key(name) + " is required when " + std::string(provider) + " places calls: set " +
                            std::string(variable) + " (the service's environment file) or the key");
  }

 protected:
  virtual void read_section(SectionReader& section, Settings& settings) const = 0;
  virtual void apply_environment_to(const EnvironmentLookup&, Settings&, ConfigDiagnostics&) const {}
  virtual void validate_section(Settings& settings, bool in_use, ConfigDiagnostics& diagnostics) const = 0;
  virtual void reload_section(const Settings& running, const Settings& reloaded, Settings& effective,
                              ReloadKeys& keys) const = 0;

 private:
  ProviderName name_;
};

// The sections the loader knows (the providers' table gives them).
using ProviderSections = std::span<const ProviderConfigSection* const>;

// Applies string-valued environment variables to keys of a section
// ("TWILIO_AUTH_TOKEN" sets telephony.twilio.auth_token), remembering where
// each value came from for later errors.
struct EnvironmentBinding {
  std::string_view variable;
  std::string key;
  std::string* target;
};
void apply_environment_bindings(const EnvironmentLookup& environment, const std::vector<EnvironmentBinding>& bindings,
                                ConfigDiagnostics& diagnostics);

}  // namespace callgate
