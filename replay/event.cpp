// Event model: header-only today (replay/event.h); this file anchors the library.
#include "replay/event.h"
