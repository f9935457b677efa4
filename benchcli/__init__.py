"""The benchmark's command-line front-end: `python main_benchmark.py run|evaluate|rescore|...`.

It parses arguments and prints; every benchmark operation is a call to the facade
core.benchmark.service (Hosts, Benchmark), which the desktop app uses too.

Modules:
    benchcli.app      build_parser(), main(argv) -> exit status, choose_language(argv) (--lang auto|en|fr, else the
                      settings' language, else the locale; before anything is printed), one cmd_<name>(args) per
                      command, and what the per-model preset scripts share: add_generation_flags(parser),
                      run_with_hosts(args, hosts, base_options)
    benchcli.display  console / err_console (rich), error(message), progress bar, number formats (the locale's)

What it prints goes through core.i18n (catalog core/locale/<lang>/LC_MESSAGES/bench.po); the files the
benchmark writes keep their English format.
"""
