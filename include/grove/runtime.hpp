// grove/runtime.hpp: umbrella header for the runtime pieces (includes only).
#pragma once

#include "grove/runtime/circuit_breaker.hpp"
#include "grove/runtime/clock.hpp"
#include "grove/runtime/errors.hpp"
#include "grove/runtime/guarded_call.hpp"
#include "grove/runtime/multi_limiter.hpp"
#include "grove/runtime/response_cache.hpp"
#include "grove/runtime/result.hpp"
#include "grove/runtime/retry.hpp"
#include "grove/runtime/semaphore.hpp"
#include "grove/runtime/task_group.hpp"
#include "grove/runtime/token_bucket.hpp"
