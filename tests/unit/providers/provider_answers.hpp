// An HTTP answer from a provider, as the client hands it to a classifier.
#pragma once

#include "providers/place_call_outcome.hpp"

namespace callgate::testing {

inline providers::ProviderResponse provider_answer(unsigned status, std::string body, std::string retry_after = "") {
  providers::ProviderResponse response;
  response.status = status;
  response.body = std::move(body);
  response.retry_after = std::move(retry_after);
  return response;
}

}  // namespace callgate::testing
