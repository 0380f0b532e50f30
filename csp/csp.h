#pragma once
// Everything of the CSP runtime in one include. See docs/csp.md for the guide.

#include "csp/chan.h"
#include "csp/context.h"
#include "csp/scheduler.h"
#include "csp/select.h"
#include "csp/semaphore.h"
#include "csp/task.h"
#include "csp/task_group.h"
#include "csp/timer.h"
#include "csp/wait_group.h"
#include "csp/worker_pool.h"
