// Umbrella header.
#pragma once
#include "libwatch/event.hpp"
#include "libwatch/fd.hpp"
#include "libwatch/watcher.hpp"
