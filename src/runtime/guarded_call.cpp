// The one non-template part of guarded_call: how an attempt's error is classified.
#include "grove/runtime/guarded_call.hpp"

namespace grove::runtime::detail {

failure_class classify_for_guards(const call_guards& guards, const error& e) {
  // Refusals by the guards themselves (open circuit, closed limiter...) are
  // never the remote side's fault, whatever the user classifier would say.
  if (e.code.category() == runtime_category()) {
    return classify_error(e);
  }
  if (guards.classifier) {
    return guards.classifier(e);
  }
  if (guards.retry != nullptr) {
    return guards.retry->classify(e);
  }
  return classify_error(e);
}

}  // namespace grove::runtime::detail
