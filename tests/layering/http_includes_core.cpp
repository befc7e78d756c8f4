// Compiled with http's view of src/ (the layering.downward_include_built
// test): including a lower layer builds, so the refusal above is the view's
// doing and not a broken probe.
#include "core/form_fields.hpp"

int layering_probe() { return static_cast<int>(callgate::FormFields{}.size()); }
