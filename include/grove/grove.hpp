// grove/grove.hpp: the umbrella header. It only includes the public headers of
// each area; include the specific headers instead to keep builds fast.
#pragma once

#include "grove/core/domain.hpp"
#include "grove/core/hash.hpp"
#include "grove/core/rng.hpp"
#include "grove/runtime/result.hpp"
