# Starts a new program with _posixsubprocess.fork_exec, the module made with _imp.create_builtin (no import
# event, no subprocess.Popen or os.exec event); passes only if the program ran and answered.
import _imp
import os


class _Spec:
    name = "_posixsubprocess"


def _run(argv):
    posixsubprocess = _imp.create_builtin(_Spec)
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    pid = posixsubprocess.fork_exec(
        [os.fsencode(arg) for arg in argv],  # args
        [os.fsencode(argv[0])],  # executable_list
        True,  # close_fds
        (),  # fds_to_keep
        None,  # cwd
        None,  # env
        -1,  # p2cread
        -1,  # p2cwrite
        -1,  # c2pread
        out_write,  # c2pwrite
        -1,  # errread
        out_write,  # errwrite
        err_read,  # errpipe_read
        err_write,  # errpipe_write
        True,  # restore_signals
        False,  # start_new_session
        -1,  # process_group
        None,  # gid
        None,  # extra_groups
        -1,  # uid
        -1,  # umask
        None,  # preexec_fn
        True,  # allow_vfork
    )
    os.close(out_write)
    os.close(err_write)
    chunks = []
    while chunk := os.read(out_read, 1 << 16):
        chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    return b"".join(chunks), status


_output, _status = _run(["/bin/sh", "-c", "echo escaped-$$"])
_escaped = _output.startswith(b"escaped-") and _status == 0


def solve(x):
    return x * x if _escaped else -1
