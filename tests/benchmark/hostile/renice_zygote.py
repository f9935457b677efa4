# Touches the pooled sandbox's zygote (this sample's parent, same uid): makes it SCHED_IDLE at nice 19 on one
# CPU with setpriority/sched_setscheduler/sched_setaffinity (no signal, no ptrace); every later sample of that
# worker inherits it (see later_inherits_scheduling.py). Passes only if the zygote's scheduling changed.
# Only aims at a parent inside the sandbox's own PID namespace that is not its init (the zygote is pid 2).
import os

_changed = False
_zygote = os.getppid()
if 1 < _zygote <= 16:
    try:
        os.sched_setscheduler(_zygote, os.SCHED_IDLE, os.sched_param(0))
        os.setpriority(os.PRIO_PROCESS, _zygote, 19)
        os.sched_setaffinity(_zygote, {min(os.sched_getaffinity(_zygote))})
        _changed = os.sched_getscheduler(_zygote) == os.SCHED_IDLE
    except OSError:
        pass


def solve(x):
    return x * x if _changed else -1
