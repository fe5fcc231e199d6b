// Event model: header-only today (replay/log/event.h); this file anchors the library.
#include "replay/log/event.h"
