// Compiled with core's view of src/ (the layering.upward_include_refused
// test): a core source that includes an HTTP header must not build.
#include "http/form/form_codec.hpp"

int layering_probe() { return 0; }
